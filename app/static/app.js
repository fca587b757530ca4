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

  // Client picker: filter the list, select all shown / none, count the selection.
  function pickerOf(el) {
    return el.closest ? el.closest("[data-picker]") : null;
  }
  function updateCount(picker) {
    var out = picker.querySelector("[data-picker-count]");
    if (out) out.textContent = picker.querySelectorAll("input[type=checkbox]:checked").length;
  }
  document.addEventListener("input", function (event) {
    if (!event.target.matches("[data-picker-filter]")) return;
    var picker = pickerOf(event.target);
    var term = event.target.value.trim().toLowerCase();
    picker.querySelectorAll(".picker-item").forEach(function (item) {
      item.hidden = term !== "" && item.dataset.text.indexOf(term) === -1;
    });
  });
  document.addEventListener("change", function (event) {
    var picker = pickerOf(event.target);
    if (picker && event.target.type === "checkbox") updateCount(picker);
  });
  document.addEventListener("click", function (event) {
    var all = event.target.closest("[data-picker-all]");
    var none = event.target.closest("[data-picker-none]");
    if (!all && !none) return;
    var picker = pickerOf(event.target);
    picker.querySelectorAll(".picker-item").forEach(function (item) {
      var box = item.querySelector("input[type=checkbox]");
      if (none) box.checked = false;
      else if (!item.hidden) box.checked = true;
    });
    updateCount(picker);
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

// Admin change lists: one box ticks or clears every row of the page.
document.addEventListener("change", function (event) {
  if (!event.target.matches("[data-check-all]")) return;
  var form = event.target.closest("form");
  if (!form) return;
  form.querySelectorAll("input[name='_selected']").forEach(function (box) {
    box.checked = event.target.checked;
  });
});
