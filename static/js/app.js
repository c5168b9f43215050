// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // Column chooser for the video list, remembered in this browser.
  var COLUMNS_KEY = "catalog.hiddenColumns";
  function hiddenColumns() {
    try { return JSON.parse(localStorage.getItem(COLUMNS_KEY)) || []; } catch (e) { return []; }
  }
  function applyColumns(root) {
    var hidden = hiddenColumns();
    root.querySelectorAll("[data-column]").forEach(function (box) {
      box.checked = hidden.indexOf(box.dataset.column) === -1;
    });
    document.querySelectorAll(".video-list [class*='col-']").forEach(function (cell) {
      var match = cell.className.match(/col-([a-z0-9_]+)/);
      if (match) cell.classList.toggle("hide-col", hidden.indexOf(match[1]) !== -1);
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.dataset && target.dataset.column) {
      var hidden = hiddenColumns().filter(function (c) { return c !== target.dataset.column; });
      if (!target.checked) hidden.push(target.dataset.column);
      localStorage.setItem(COLUMNS_KEY, JSON.stringify(hidden));
      applyColumns(document);
      event.stopPropagation();
    }
    if (target.id === "select-all") {
      document.querySelectorAll(".row-select").forEach(function (box) { box.checked = target.checked; });
      event.stopPropagation();
    }
  }, true);

  // "/" focuses the search box, as in most tools people know.
  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (event.key === "/" && tag !== "input" && tag !== "textarea" && tag !== "select") {
      var search = document.getElementById("f-q");
      if (search) { event.preventDefault(); search.focus(); search.select(); }
    }
  });

  // htmx requests carry the CSRF token like forms do.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector("meta[name='csrf-token']");
    if (meta) event.detail.headers["X-CSRFToken"] = meta.content;
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    applyColumns(document);
  });

  document.addEventListener("DOMContentLoaded", function () {
    applyColumns(document);
  });
})();
