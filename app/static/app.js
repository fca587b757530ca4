// Mailer's small client script. htmx reads its configuration from the
// <meta name="htmx-config"> tag of base.html; no inline script is allowed by the CSP.
(function () {
  "use strict";

  // A time zone field marked data-browser-timezone starts with the browser's own zone
  // (the server checks it like any typed value; empty means UTC).
  function fillTimezones(root) {
    var zone;
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (e) {
      return;
    }
    if (!zone) return;
    root.querySelectorAll("input[data-browser-timezone]").forEach(function (input) {
      if (!input.value) input.value = zone;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    fillTimezones(document);
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.elt && event.detail.elt.querySelectorAll) fillTimezones(event.detail.elt);
  });

  // Flash messages can be dismissed with a click or the keyboard.
  document.addEventListener("click", function (event) {
    var close = event.target.closest("[data-dismiss]");
    if (close) {
      var box = close.closest(".flash");
      if (box) box.remove();
    }
  });

  // Where focus goes when content arrives: the first invalid field, else a form's error
  // summary, else the new content's heading — so keyboard and screen-reader users land
  // where the change happened.
  function focusTarget(root) {
    var target =
      root.querySelector("[aria-invalid='true']") ||
      root.querySelector(".flash.error[role=alert]") ||
      root.querySelector("[autofocus], h1, h2");
    if (target && !target.matches("input, select, textarea, button, a[href], [tabindex]")) {
      target.setAttribute("tabindex", "-1");
    }
    return target;
  }

  // A form re-rendered as a whole page (the multipart register form) starts with focus on
  // its first error, like the htmx swaps below; an ordinary page keeps the browser's focus.
  document.addEventListener("DOMContentLoaded", function () {
    var main = document.querySelector("main");
    if (main && main.querySelector("[aria-invalid='true'], .flash.error[role=alert]")) {
      focusTarget(main).focus();
    }
  });

  // Inline validation re-renders the form while the user moves on to the next field: that
  // field keeps focus. A search box that refreshes a list keeps it too.
  var focusedId = null;
  document.addEventListener("htmx:beforeSwap", function () {
    var active = document.activeElement;
    focusedId = active && active.id ? active.id : null;
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var root = event.detail.elt;
    if (!root || !root.querySelector) return;
    // Polls and other swaps nobody asked for (data-quiet) never move focus.
    var from = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (from && from.hasAttribute && from.hasAttribute("data-quiet")) return;
    var active = document.activeElement;
    if (active && active !== document.body && active.isConnected && !root.contains(active)) return;
    var path = (event.detail.pathInfo && event.detail.pathInfo.requestPath) || "";
    var again = focusedId && document.getElementById(focusedId);
    if (/[?&]validate=1/.test(path) && again) {
      again.focus();
      return;
    }
    var target = focusTarget(root);
    if (target) target.focus({ preventScroll: false });
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
