// The review gates' keys on a task's page: each element with data-shortcut="<key>" (the
// Approve and Send back buttons, the next and previous waiting task's links) is clicked by
// its key. No key acts while the person types in a field, or with a modifier held (the
// browser's own shortcuts stay theirs). Progressive enhancement: the buttons work without it.
(function () {
  "use strict";

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  var busy = false;
  document.addEventListener("keydown", function (event) {
    if (busy || event.defaultPrevented || event.repeat) return;
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (event.key.length !== 1) return;
    var control = document.querySelector("[data-shortcut='" + event.key.toLowerCase() + "']");
    if (!control || control.disabled) return;
    event.preventDefault();
    busy = true;  // one decision per page: a held or repeated key must not post twice
    control.click();
  });
})();

// A result's preview that cannot be loaded (the file is gone, private, or its host away)
// says so in its place, instead of a player that spins or a broken image; its link stays.
(function () {
  "use strict";

  function failed(media) {
    var note = document.createElement("p");
    note.className = "text-body-secondary mb-0 mt-1";
    note.setAttribute("data-testid", "preview-failed");
    note.textContent = "The file could not be loaded here; its link above opens it where it is.";
    media.replaceWith(note);
  }

  document.querySelectorAll("[data-preview]").forEach(function (media) {
    media.addEventListener("error", function () { failed(media); });
    // An image may have failed before this script ran.
    if (media.tagName === "IMG" && media.complete && media.naturalWidth === 0) failed(media);
  });
})();
