// The field page's clocks: the wait for a late parent counts down, and the undo of a return disappears when its two
// minutes are up (the server refuses it after that anyway). The server says how many seconds are left, counted
// here from when each part arrives, so a phone whose clock is wrong still counts right. Parts the page's own poll
// swaps in are picked up on the next tick. What to do once the wait is over comes from the server.
(function () {
  "use strict";

  function secondsLeft(element, attribute) {
    if (!element.dataset.deadline) {
      var seconds = parseInt(element.getAttribute(attribute), 10);
      if (isNaN(seconds)) { return null; }
      element.dataset.deadline = String(Date.now() + seconds * 1000);
    }
    return Math.max(0, Math.ceil((Number(element.dataset.deadline) - Date.now()) / 1000));
  }

  function tick() {
    document.querySelectorAll("[data-countdown-seconds]").forEach(function (box) {
      var seconds = secondsLeft(box, "data-countdown-seconds");
      var out = box.querySelector("[data-countdown]");
      if (seconds === null || !out) { return; }
      var text = seconds > 0
        ? Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0") + " left"
        : "Time is up";
      if (out.textContent !== text) { out.textContent = text; }
    });
    document.querySelectorAll("[data-hide-in]").forEach(function (part) {
      if (secondsLeft(part, "data-hide-in") === 0) { part.hidden = true; }
    });
  }

  tick();
  window.setInterval(tick, 1000);
})();
