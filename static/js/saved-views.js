// Saved views and the lists' column choice. Progressive enhancement: the list works without.
(function () {
  "use strict";

  function csrf() {
    var meta = document.querySelector("meta[name='csrf-token']");
    return meta ? meta.content : "";
  }

  // Within a saved view, an emptied filter is sent empty: it then overrides the view's value
  // (app.js drops empty fields of GET forms, so this runs after it and puts them back).
  function keepViewKeys(form, formData) {
    var marker = form && form.querySelector && form.querySelector("input[name='view'][data-view-keys]");
    if (!marker) return;
    marker.dataset.viewKeys.split(" ").forEach(function (key) {
      if (key && !formData.has(key)) formData.append(key, "");
    });
  }
  document.addEventListener("formdata", function (event) { keepViewKeys(event.target, event.formData); });
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.verb === "get" && event.detail.formData) {
      keepViewKeys(event.detail.elt, event.detail.formData);
    }
  });

  // The column chooser's choice is kept on the user's account (app.js reads it from the
  // panel's data-hidden-columns): each change is posted there.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.dataset || !box.dataset.column) return;
    var holder = document.querySelector("[data-hidden-columns]");
    if (!holder || !holder.dataset.columnsUrl) return;
    var body = new URLSearchParams();
    body.append("csrf_token", csrf());
    JSON.parse(holder.dataset.hiddenColumns || "[]").forEach(function (key) { body.append("hidden", key); });
    // And the columns' order, as the table shows it now (app.js moves them).
    document.querySelectorAll(".video-list thead th").forEach(function (th) {
      var match = th.className.match(/col-([a-z0-9_]+)/);
      if (match) body.append("order", match[1]);
    });
    // Within a view, its columns are part of it: the change is one to save into it.
    var unsaved = document.querySelector("[data-unsaved]");
    if (unsaved) {
      unsaved.hidden = false;
      unsaved.querySelector(".badge").dataset.testid = "unsaved";
    }
    post(holder.dataset.columnsUrl, body);
  }, true);  // capturing, as app.js's chooser handler, which stops the event going further

  // One post at a time, the latest choice last: two quick moves sent at once could be
  // applied by the server in the other order and leave the earlier choice saved.
  var inFlight = false, next = null;
  function post(url, body) {
    if (inFlight) { next = [url, body]; return; }
    inFlight = true;
    fetch(url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrf() }
    }).catch(function () { /* kept on the page; the next change posts the whole choice */ })
      .then(function () {
        inFlight = false;
        if (next) { var queued = next; next = null; post(queued[0], queued[1]); }
      });
  }
})();

// Coming back to the same list: the video list's last state in this tab (its URL's query)
// is what the navigation's "Videos" link opens, after a bulk edit, an undo, an import or
// anything else. Kept per tab (sessionStorage): two tabs keep two lists.
(function () {
  "use strict";
  var KEY = "catalog.videos.lastList";
  function redirectedHere() {
    var entries = window.performance && performance.getEntriesByType
      ? performance.getEntriesByType("navigation") : [];
    return entries.length > 0 && entries[0].redirectCount > 0;
  }
  function remember(event) {
    var results = document.getElementById("results");
    if (!results || !document.querySelector(".video-list")) return;
    // An action that ends on the plain list (an undo, an import) does not make it the
    // list to come back to: the one before it stays.
    if (!event && !window.location.search && redirectedHere()) return;
    try { sessionStorage.setItem(KEY, window.location.search); } catch (e) { /* private mode */ }
  }
  function pointBack() {
    var search;
    try { search = sessionStorage.getItem(KEY); } catch (e) { return; }
    if (!search) return;
    document.querySelectorAll("nav a.nav-link").forEach(function (link) {
      if (!/\/videos$/.test(link.pathname)) return;
      link.href = link.pathname + search;
    });
  }
  document.addEventListener("DOMContentLoaded", function () { remember(); pointBack(); });
  // htmx pushes the list's new URL after a filter change; remember that one.
  document.addEventListener("htmx:pushedIntoHistory", remember);
  document.addEventListener("htmx:afterSettle", remember);
})();
