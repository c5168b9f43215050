// Progressive enhancement only: every page works without this file.

// htmx's settings, set before it starts on the page (at DOMContentLoaded, after every deferred
// script): no indicator style of its own and no eval or scripts from answers (the CSP);
// attributesToSettle without "style": htmx copies an old element's attributes onto its
// replacement, and a style attribute Popper left (the open Columns menu) breaks the CSP.
if (window.htmx) {
  Object.assign(window.htmx.config, {
    includeIndicatorStyles: false, allowEval: false, allowScriptTags: false,
    attributesToSettle: ["class", "width", "height"]
  });
}
(function () {
  "use strict";

  // Column chooser for the video list, kept on the user's account: the list's saved-views
  // panel carries it (data-hidden-columns), static/js/saved-views.js posts each change.
  function columnsHolder() { return document.querySelector("[data-hidden-columns]"); }
  function hiddenColumns() {
    var holder = columnsHolder();
    try { return (holder && JSON.parse(holder.dataset.hiddenColumns)) || []; } catch (e) { return []; }
  }
  // The menu's boxes are made here from the table's headers (the page does not send them:
  // without this script they would do nothing), in the table's order, each with buttons that
  // move its column up or down (the server renders the order kept, saved-views.js posts it).
  function columnKey(th) {
    var match = th.className.match(/col-([a-z0-9_]+)/);
    return match ? match[1] : null;
  }
  function moveButton(key, label, step) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-sm btn-link p-0 px-1 text-decoration-none";
    button.dataset.moveColumn = key;
    button.dataset.step = step;
    button.setAttribute("aria-label", "Move " + label + (step < 0 ? " up" : " down"));
    button.textContent = step < 0 ? "↑" : "↓";
    return button;
  }
  function buildChooser() {
    var menu = document.getElementById("column-chooser");
    if (!menu || menu.childElementCount) return;
    document.querySelectorAll(".video-list thead th").forEach(function (th) {
      var key = columnKey(th);
      if (!key) return;
      var item = document.createElement("div");
      var box = document.createElement("input");
      var label = document.createElement("label");
      var text = th.textContent.replace(/[▲▼]/g, "").trim();
      item.className = "form-check d-flex align-items-center gap-1";
      item.dataset.columnItem = key;
      box.className = "form-check-input";
      box.type = "checkbox";
      box.id = "col-" + key;
      box.dataset.column = key;
      label.className = "form-check-label me-auto";
      label.htmlFor = box.id;
      label.textContent = text;
      item.append(box, label, moveButton(key, text, -1), moveButton(key, text, 1));
      menu.append(item);
    });
  }
  // Move a column one place (step -1 or 1) in the table and in the menu: its header and
  // the cells at its position in every row change places with their neighbours'.
  function moveColumn(key, step) {
    var table = document.querySelector(".video-list");
    var th = table && table.querySelector("thead th.col-" + key);
    if (!th) return false;
    var other = step < 0 ? th.previousElementSibling : th.nextElementSibling;
    if (!other || !columnKey(other)) return false;
    var from = th.cellIndex, to = other.cellIndex;
    Array.prototype.forEach.call(table.rows, function (row) {
      if (row.cells.length <= Math.max(from, to)) return; // the "no videos" row
      var a = row.cells[from], b = row.cells[to];
      if (step < 0) row.insertBefore(a, b); else row.insertBefore(b, a);
    });
    var menu = document.getElementById("column-chooser");
    var item = menu && menu.querySelector("[data-column-item='" + key + "']");
    var neighbour = menu && menu.querySelector("[data-column-item='" + columnKey(other) + "']");
    if (item && neighbour) {
      if (step < 0) menu.insertBefore(item, neighbour); else menu.insertBefore(neighbour, item);
    }
    return true;
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-move-column]");
    if (!button) return;
    var key = button.dataset.moveColumn;
    if (!moveColumn(key, Number(button.dataset.step))) return;
    button.focus(); // moved with its item: keep the keyboard where it was
    // As a shown or hidden column is: saved-views.js posts the choice, order included.
    var box = document.getElementById("col-" + key);
    if (box) box.dispatchEvent(new Event("change", { bubbles: true }));
  });
  function applyColumns(root) {
    buildChooser();
    var hidden = hiddenColumns();
    root.querySelectorAll("[data-column]").forEach(function (box) {
      box.checked = hidden.indexOf(box.dataset.column) === -1;
    });
    // A column is named by its header's class; its cells are found by the header's
    // position (rows carry no class per cell, to keep the page small).
    document.querySelectorAll(".video-list").forEach(function (table) {
      table.querySelectorAll("thead th").forEach(function (th) {
        var match = th.className.match(/col-([a-z0-9_]+)/);
        if (!match) return;
        var hide = hidden.indexOf(match[1]) !== -1;
        th.classList.toggle("hide-col", hide);
        Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
          var cell = row.cells.length > 1 ? row.cells[th.cellIndex] : null;
          if (cell) cell.classList.toggle("hide-col", hide);
        });
      });
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.dataset && target.dataset.column) {
      var hidden = hiddenColumns().filter(function (c) { return c !== target.dataset.column; });
      if (!target.checked) hidden.push(target.dataset.column);
      if (columnsHolder()) columnsHolder().dataset.hiddenColumns = JSON.stringify(hidden);
      applyColumns(document);
      event.stopPropagation();
    }
    if (target.id === "select-all") {
      document.querySelectorAll(".video-list tbody input[name=ids]").forEach(function (box) {
        box.checked = target.checked;
      });
      event.stopPropagation();
    }
  }, true);

  // Length limits: a live count under each limited field, and a word when the browser's
  // maxlength cut a paste short (it does so silently).
  function showCount(input, note) {
    var box = document.querySelector("[data-limit-for='" + input.id + "']");
    if (!box) return;
    var max = input.maxLength;
    var text = input.value.length.toLocaleString() + " of " + max.toLocaleString() + " characters";
    if (note) text += ". " + note;
    box.textContent = text;
    box.classList.toggle("text-danger-emphasis", input.value.length >= max);
  }
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (input.maxLength > 0 && input.id) showCount(input, "");
  });
  document.addEventListener("paste", function (event) {
    var input = event.target;
    if (!(input.maxLength > 0) || !input.id || !event.clipboardData) return;
    var pasted = event.clipboardData.getData("text").length;
    var room = input.maxLength - input.value.length + (input.selectionEnd - input.selectionStart);
    if (pasted > room) {
      // The input event that follows would overwrite the note: set it after that.
      setTimeout(function () {
        showCount(input, "The pasted text was " + pasted.toLocaleString() +
          " characters; only the first " + room.toLocaleString() + " were kept.");
      }, 0);
    }
  });

  // The sticky Save bar must never cover the focused field (WCAG 2.4.11). app.css's scroll
  // padding covers most cases; Chromium does not scroll for a field that is still inside
  // the window, only under the bar, so move it up by what the bar hides.
  document.addEventListener("focusin", function (event) {
    var field = event.target;
    var bar = field.closest && field.closest("form") && field.closest("form").querySelector(".sticky-bottom");
    if (!bar || bar.contains(field)) return;
    requestAnimationFrame(function () {
      var hidden = field.getBoundingClientRect().bottom - bar.getBoundingClientRect().top;
      if (hidden > 0) window.scrollBy({ top: hidden + 8, behavior: "instant" });
    });
  });

  // "/" focuses the search box, as in most tools people know.
  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (event.key === "/" && tag !== "input" && tag !== "textarea" && tag !== "select") {
      var search = document.getElementById("f-q");
      if (search) { event.preventDefault(); search.focus(); search.select(); }
    }
  });

  // Shared list URLs carry only the filters in use: a GET form (htmx builds its request from
  // the same FormData) drops its empty fields. POST forms keep them: there "" clears a value.
  function dropEmpty(formData) {
    var kept = [];
    formData.forEach(function (value, name) { if (value !== "") kept.push([name, value]); });
    Array.from(new Set(Array.from(formData.keys()))).forEach(function (name) {
      formData.delete(name);
    });
    kept.forEach(function (pair) { formData.append(pair[0], pair[1]); });
  }
  document.addEventListener("formdata", function (event) {
    var form = event.target;
    if (form && (form.getAttribute("method") || "get").toLowerCase() === "get") {
      dropEmpty(event.formData);
    }
  });

  // Enter in a text box fires "change" and then "submit"; both trigger the filter form, so
  // the second, identical request is dropped while the first one stands for it.
  var lastRequest = new WeakMap();
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector("meta[name='csrf-token']");
    if (meta) event.detail.headers["X-CSRFToken"] = meta.content;
    if (event.detail.verb !== "get") return;
    dropEmpty(event.detail.formData);
    var elt = event.detail.elt;
    var key = event.detail.path + "?" + new URLSearchParams(event.detail.formData || []).toString();
    var last = lastRequest.get(elt);
    if (last && last.key === key && Date.now() - last.at < 1000) {
      event.preventDefault();
      return;
    }
    lastRequest.set(elt, { key: key, at: Date.now() });
  });

  // htmx snapshots the page for Back by cloning it, and cloning an element that has a style
  // attribute breaks the CSP (style-src 'self'). The markup never has one (the CSP forbids
  // it), so any there is Bootstrap's run-time state (an open menu's position): drop it.
  document.addEventListener("htmx:beforeHistorySave", function (event) {
    event.detail.historyElt.querySelectorAll("[style]").forEach(function (el) {
      el.removeAttribute("style");
    });
  });

  // After every swap, and after htmx restores a page from its history (Back), whose events
  // carry no swap target: the whole document is enhanced again.
  function enhance() {
    applyColumns(document);
  }
  document.addEventListener("htmx:afterSettle", enhance);
  document.addEventListener("htmx:historyRestore", enhance);

  document.addEventListener("DOMContentLoaded", function () {
    applyColumns(document);
  });
})();
