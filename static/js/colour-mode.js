// Light or dark pages (Bootstrap 5.3 colour modes). Loaded early in <head>, not deferred,
// so the page is drawn in its colours from the start. "auto" (the server leaves
// data-bs-theme unset) follows the system's setting, and its changes.
(function () {
  "use strict";
  var root = document.documentElement;
  var query = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  function apply() {
    if (root.dataset.colourMode !== "auto") return;
    root.setAttribute("data-bs-theme", query && query.matches ? "dark" : "light");
  }
  apply();
  if (query && query.addEventListener) query.addEventListener("change", apply);
})();
