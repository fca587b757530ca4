// Mailer's small client script. htmx reads its configuration from the
// <meta name="htmx-config"> tag of base.html; no inline script is allowed by the CSP.
(function () {
  "use strict";

  // Flash messages can be dismissed with a click or the keyboard.
  document.addEventListener("click", function (event) {
    var close = event.target.closest("[data-dismiss]");
    if (close) {
      var box = close.closest(".flash");
      if (box) box.remove();
    }
  });

  // After htmx swaps content in, move focus to the first invalid field or to the new
  // content's heading, so keyboard and screen-reader users land where the change happened.
  document.addEventListener("htmx:afterSettle", function (event) {
    var root = event.detail.elt;
    if (!root || !root.querySelector) return;
    var target = root.querySelector("[aria-invalid='true'], [autofocus], h1, h2");
    if (target) {
      if (!target.hasAttribute("tabindex") && /^H[12]$/.test(target.tagName)) {
        target.setAttribute("tabindex", "-1");
      }
      target.focus({ preventScroll: false });
    }
  });

  // Big uploads (CSV import, avatars) show their progress.
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target && event.target.closest ? event.target.closest("form") : null;
    var bar = form ? form.querySelector(".upload-progress") : null;
    if (bar && event.detail.lengthComputable) {
      bar.hidden = false;
      bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
    }
  });
})();
