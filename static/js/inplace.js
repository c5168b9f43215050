// Edit in place on the video list, for editors (the table's data-edit names the columns that
// edit in place). A click on such a cell, or Enter on it (←/→ move between them in the
// focused row), fetches its editor (GET videos/<id>/cell/<column>: the value, the version,
// the choices, the CSRF token) into the cell; Enter saves (POST, the edit form's save of
// that value), Escape cancels without a request. The answer replaces the cell: its new
// content, or the editor again with the error or the conflict. #cell-status announces it.
// Nothing here is needed to read or edit: the edit form does it all without this file.
(function () {
  "use strict";

  var open = null; // { cell, original: the cell's content before, as nodes }

  function columnOf(cell) {
    var table = cell.closest("table");
    var th = table && table.tHead ? table.tHead.rows[0].cells[cell.cellIndex] : null;
    var match = th ? th.className.match(/col-([a-z0-9_]+)/) : null;
    return match ? match[1] : null;
  }
  function editable(cell) {
    if (!cell || cell.tagName !== "TD" || !cell.closest("tbody")) return false;
    var table = cell.closest(".video-list[data-edit]");
    var key = table ? columnOf(cell) : null;
    return !!key && table.dataset.edit.split(" ").indexOf(key) !== -1;
  }
  function editableCells(row) {
    // Not those of a column the chooser hides.
    return Array.prototype.filter.call(row.cells, function (cell) {
      return editable(cell) && !cell.classList.contains("hide-col");
    });
  }
  function cellUnder(row, key) {
    // The row's cell of the column col-<key>, when the list shows that column.
    var th = row.closest("table").querySelector("thead th.col-" + key);
    return th && !th.classList.contains("hide-col") ? row.cells[th.cellIndex] : null;
  }
  function videoLink(row) {
    return row.querySelector("a[href]");
  }
  function announce(text) {
    var status = document.getElementById("cell-status");
    if (!status) return;
    // Emptied first: the same words twice running are still announced twice.
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text; }, 50);
  }
  function focusCell(cell) {
    document.querySelectorAll(".video-list td.cell-focus").forEach(function (c) {
      c.classList.remove("cell-focus");
    });
    cell.classList.add("cell-focus");
    cell.tabIndex = -1;
    cell.focus();
  }

  function restore(announcement) {
    if (!open) return;
    var cell = open.cell;
    cell.replaceChildren(open.original);
    open = null;
    if (cell.isConnected) focusCell(cell);
    if (announcement) announce(announcement);
  }

  // Put an answer (templates/videos/cell.html) into the cell.
  function show(cell, html) {
    var holder = document.createElement("template");
    holder.innerHTML = html;
    var root = holder.content.firstElementChild;
    if (!root || !root.dataset.state) {
      restore("Not saved: the answer could not be read. Reload the page and try again.");
      return;
    }
    if (root.dataset.state === "saved") {
      cell.replaceChildren.apply(cell, Array.prototype.slice.call(root.childNodes));
      var lastChange = holder.content.querySelector("template[data-last-change]");
      var changedCell = lastChange ? cellUnder(cell.parentElement, "changed") : null;
      if (changedCell) changedCell.replaceChildren(lastChange.content.cloneNode(true));
      open = null;
      focusCell(cell);
      announce(root.dataset.message);
      return;
    }
    cell.replaceChildren(root);
    var input = root.querySelector("#cell-value");
    if (input) input.focus();
    announce(root.dataset.message);
  }

  function failed(status) {
    if (status === 404) return "This value does not edit in place for this video: use its edit form.";
    if (status === 403) return "You may not edit videos.";
    return "Not saved: the server answered " + status + ". Nothing was changed.";
  }

  function edit(cell) {
    if (open && open.cell === cell) return;
    if (open) restore();
    var link = videoLink(cell.parentElement);
    var key = columnOf(cell);
    if (!link || !key) return;
    var original = document.createDocumentFragment();
    original.append.apply(original, Array.prototype.slice.call(cell.childNodes));
    cell.replaceChildren(original.cloneNode(true));
    open = { cell: cell, original: original };
    cell.setAttribute("aria-busy", "true");
    fetch(link.href + "/cell/" + encodeURIComponent(key), { credentials: "same-origin" })
      .then(function (response) {
        return response.text().then(function (text) { return [response.status, text]; });
      })
      .then(function (answer) {
        cell.removeAttribute("aria-busy");
        if (!open || open.cell !== cell) return; // cancelled meanwhile
        if (answer[0] !== 200) { restore(failed(answer[0])); return; }
        show(cell, answer[1]);
      })
      .catch(function () {
        cell.removeAttribute("aria-busy");
        if (open && open.cell === cell) restore("The editor could not be loaded: are you offline?");
      });
  }

  // The open editor's fields belong to the page's #cell-form (templates/videos/cell.html).
  function save(editor) {
    var cell = editor.closest("td");
    var meta = document.querySelector("meta[name='csrf-token']");
    var buttons = editor.querySelectorAll("button");
    var fields = new FormData(document.getElementById("cell-form"));
    buttons.forEach(function (b) { b.disabled = true; });
    fetch(editor.dataset.action, {
      method: "POST",
      body: new URLSearchParams(fields),
      credentials: "same-origin",
      headers: meta ? { "X-CSRFToken": meta.content } : {}
    })
      .then(function (response) {
        return response.text().then(function (text) { return [response.status, text]; });
      })
      .then(function (answer) {
        if ([200, 400, 409].indexOf(answer[0]) === -1) {
          buttons.forEach(function (b) { b.disabled = false; });
          announce(failed(answer[0]));
          return;
        }
        show(cell, answer[1]);
      })
      .catch(function () {
        buttons.forEach(function (b) { b.disabled = false; });
        announce("Not saved: the server could not be reached. Nothing was changed.");
      });
  }

  document.addEventListener("submit", function (event) {
    if (event.target.id !== "cell-form") return;
    event.preventDefault();
    var editor = open && open.cell.querySelector(".cell-editor");
    if (editor) save(editor);
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!target.closest) return;
    if (target.closest("[data-cell-cancel]")) {
      restore("Not changed.");
      return;
    }
    var take = target.closest("[data-cell-take]");
    if (take) {
      var cell = take.closest("td");
      var current = cell.querySelector("template[data-current]");
      cell.replaceChildren(current.content.cloneNode(true));
      open = null;
      focusCell(cell);
      announce("Kept the current value.");
      return;
    }
    if (target.closest(".cell-editor, a, button, input, select, textarea, label")) return;
    var td = target.closest("td");
    if (editable(td)) edit(td);
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var editor = target.closest ? target.closest(".cell-editor") : null;
    if (editor) {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        restore("Not changed.");
      } else if (event.key === "Enter" && !event.shiftKey && target.tagName !== "BUTTON") {
        // Enter saves, from the menu and the text alike (Shift+Enter: a new line in notes).
        event.preventDefault();
        save(editor);
      }
      return;
    }
    if (editable(target) && event.key === "Enter") {
      event.preventDefault();
      edit(target);
      return;
    }
    if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
    var row = target.closest ? target.closest(".video-list[data-edit] tbody tr") : null;
    if (!row) return;
    var cells = editableCells(row);
    if (!cells.length) return;
    event.preventDefault();
    var at = cells.indexOf(target);
    var next = event.key === "ArrowRight" ? at + 1 : at - 1;
    if (at === -1) next = event.key === "ArrowRight" ? 0 : cells.length - 1;
    if (next < 0 || next >= cells.length) return;
    focusCell(cells[next]);
  });

  // A new list (a filter changed) drops an editor that was open in the old one; the page
  // htmx keeps for Back has the cell as it was, not a half-done edit.
  document.addEventListener("htmx:beforeHistorySave", function () { restore(); });
  document.addEventListener("htmx:beforeSwap", function () { open = null; });
})();
