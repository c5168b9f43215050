// Keyboard shortcuts of the video list: j/k move the row focus, x selects the row, e or
// Enter (on the row) opens its edit form, o opens the video, "/" searches (app.js), ? lists
// them. ←/→ and Enter on one of the row's values edit it in place (inplace.js). Never while
// typing in a field, nor with a modifier key held.
(function () {
  "use strict";

  function typing(target) {
    var tag = (target.tagName || "").toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }
  function rows() {
    var table = document.querySelector(".video-list");
    if (!table || !table.tBodies[0]) return [];
    // A row with a link to its video (not the "no videos match" row).
    return Array.prototype.filter.call(table.tBodies[0].rows, function (row) {
      return row.querySelector("a[href]");
    });
  }
  function current(list) {
    var focused = document.activeElement && document.activeElement.closest
      ? document.activeElement.closest(".video-list tbody tr") : null;
    if (focused && list.indexOf(focused) !== -1) return focused;
    return document.querySelector(".video-list tbody tr.row-focus");
  }
  function focusRow(row) {
    document.querySelectorAll(".video-list tbody tr.row-focus").forEach(function (r) {
      r.classList.remove("row-focus");
    });
    row.classList.add("row-focus");
    row.tabIndex = -1;
    row.focus();
    row.scrollIntoView({ block: "nearest" });
  }
  function videoLink(row) {
    return row.querySelector("a[href]"); // the video id's: a row's only link
  }

  // The list of shortcuts comes from the server the first time it is asked for (the list's
  // page does not carry it); then it stays in the page.
  var loading = false;
  function showShortcuts(source) {
    var dialog = document.getElementById("shortcuts");
    if (dialog) {
      if (!dialog.open) dialog.showModal();
      return;
    }
    if (loading) return;
    loading = true;
    fetch(source.dataset.shortcutsUrl, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        loading = false;
        var holder = document.createElement("template");
        holder.innerHTML = html;
        var loaded = holder.content.querySelector("dialog#shortcuts");
        if (!loaded) return;
        document.body.append(loaded);
        loaded.showModal();
      })
      .catch(function () { loading = false; });
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var dialog = document.getElementById("shortcuts");
    var source = document.querySelector("[data-shortcuts-url]");
    if (event.key === "?" && (dialog || source)) {
      event.preventDefault();
      showShortcuts(source);
      return;
    }
    if (dialog && dialog.open) return;
    var list = rows();
    if (!list.length) return;
    var row = current(list);
    var at = row ? list.indexOf(row) : -1;
    if (event.key === "j" || event.key === "k") {
      event.preventDefault();
      var next = event.key === "j" ? Math.min(at + 1, list.length - 1) : Math.max(at - 1, 0);
      focusRow(list[next]);
      return;
    }
    if (!row) return;
    // Enter on a link or button inside the row keeps its own meaning, and on one of its
    // values edits that value in place (inplace.js).
    if (event.key === "Enter" && event.target !== row) return;
    if (event.key === "x") {
      var box = row.querySelector("input[name=ids]");
      if (box) {
        event.preventDefault();
        box.click();
      }
    } else if (event.key === "e" || event.key === "Enter") {
      var link = videoLink(row);
      // Editors' lists name the columns they edit in place (data-edit): the form is theirs.
      if (link && document.querySelector(".video-list[data-edit]")) {
        event.preventDefault();
        window.location.assign(link.href.replace(/\/?$/, "/edit"));
      }
    } else if (event.key === "o") {
      event.preventDefault();
      window.location.assign(videoLink(row).href);
    }
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-close-dialog]")) {
      event.target.closest("dialog").close();
    }
  });
})();
