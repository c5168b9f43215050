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
