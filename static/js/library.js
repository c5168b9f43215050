// The library: rows moved through with the arrow keys, and the watch page's player (keys,
// "Resume at", progress reports). The pages work without it, except the reports.
(function () {
  "use strict";

  // -- rows: the arrow keys move between the cards of a row, Home and End to its ends ------
  function cardsOf(row) {
    return Array.prototype.slice.call(row.querySelectorAll(".library-card, .library-more"));
  }
  document.addEventListener("keydown", function (event) {
    var row = event.target.closest && event.target.closest("[data-library-row]");
    if (!row || event.altKey || event.ctrlKey || event.metaKey) return;
    var items = cardsOf(row);
    var at = items.indexOf(event.target);
    if (at === -1) return;
    var to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: items.length - 1 }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    var next = items[Math.max(0, Math.min(items.length - 1, to))];
    // The focused card is scrolled into the row's view.
    next.focus();
    next.scrollIntoView({ block: "nearest", inline: "nearest" });
  });

  // "More" replaced by the next cards: when it had the focus, the first new card takes it.
  var moreHadFocus = false;
  document.addEventListener("htmx:beforeSwap", function (event) {
    moreHadFocus = event.detail.elt.classList.contains("library-more") &&
      document.activeElement === event.detail.elt;
  });
  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll("[data-library-row] [data-batch-start]").forEach(function (card) {
      card.removeAttribute("data-batch-start");
      if (moreHadFocus) card.focus();
    });
    moreHadFocus = false;
  });

  // -- the player -------------------------------------------------------------------------
  var video = document.getElementById("player");
  if (!video || !video.dataset.progressUrl) return;
  var duration = parseFloat(video.dataset.duration) || 0;
  var token = video.dataset.progressToken;

  // Seconds actually played since the last report: timeupdate steps while playing (a jump
  // of more than two seconds is a seek, which plays nothing).
  var played = 0;
  var sinceReport = 0;
  var lastTime = null;
  function clamp(value) { return Math.min(Math.max(value, 0), duration); }
  function report() {
    if (!duration || !token) return;
    var body = new URLSearchParams();
    body.set("token", token);
    body.set("position", clamp(video.currentTime).toFixed(3));
    body.set("played", clamp(played).toFixed(3));
    played = 0;
    sinceReport = 0;
    // A beacon outlives the page (hidden, closed); the form body carries the page's beacon
    // token (catalog/library/beacons.py), which stands in for the session and CSRF token.
    navigator.sendBeacon(video.dataset.progressUrl, body);
  }
  video.addEventListener("timeupdate", function () {
    var now = video.currentTime;
    if (lastTime !== null && !video.paused && !video.seeking) {
      var step = now - lastTime;
      if (step > 0 && step < 2) {
        played += step;
        sinceReport += step;
      }
    }
    lastTime = now;
    if (sinceReport >= 10) report();
  });
  video.addEventListener("seeking", function () { lastTime = null; });
  video.addEventListener("seeked", function () { lastTime = video.currentTime; report(); });
  video.addEventListener("pause", function () { if (!video.ended) report(); });
  video.addEventListener("ended", report);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") report();
  });

  // "Resume at 12:34" or "Start over": either one starts playing and the offer goes.
  var offer = document.querySelector("[data-testid='resume-offer']");
  function start(at) {
    video.currentTime = at;
    lastTime = null;
    var playing = video.play();
    if (playing && playing.catch) playing.catch(function () { /* the controls remain */ });
    if (offer) offer.remove();
    video.focus();
  }
  if (offer) {
    offer.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) return;
      if (button.hasAttribute("data-resume")) start(parseFloat(button.dataset.resume) || 0);
      if (button.hasAttribute("data-start-over")) start(0);
    });
  }

  // Keys on the focused player, as on the well-known video sites.
  function seekBy(seconds) {
    video.currentTime = Math.min(Math.max(video.currentTime + seconds, 0), video.duration || duration);
  }
  function toggleCaptions() {
    var track = video.textTracks && video.textTracks[0];
    if (track) track.mode = track.mode === "showing" ? "hidden" : "showing";
  }
  video.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    var actions = {
      " ": function () { if (video.paused) video.play(); else video.pause(); },
      k: function () { if (video.paused) video.play(); else video.pause(); },
      ArrowLeft: function () { seekBy(-5); },
      ArrowRight: function () { seekBy(5); },
      j: function () { seekBy(-10); },
      l: function () { seekBy(10); },
      m: function () { video.muted = !video.muted; },
      c: toggleCaptions,
      f: function () {
        if (document.fullscreenElement) document.exitFullscreen();
        else if (video.requestFullscreen) video.requestFullscreen();
      },
    };
    var action = actions[event.key.length === 1 ? event.key.toLowerCase() : event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });
})();
