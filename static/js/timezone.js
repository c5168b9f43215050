// A user who has not chosen a time zone gets their browser's (the page says where to change
// it). The server renders every time; this only reports the zone, once, with the CSRF token.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var url = document.body.dataset.timeZoneUrl;
    var meta = document.querySelector("meta[name='csrf-token']");
    if (!url || !meta || !window.fetch) return;
    var zone;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    if (!zone) return;
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": meta.content, "Content-Type": "application/x-www-form-urlencoded" },
      body: "time_zone=" + encodeURIComponent(zone),
    }).catch(function () { /* offline: the next page asks again */ });
  });
})();
