// The field page's clocks: the wait for a late parent counts down, and the undo of a return disappears when its two
// minutes are up (the server refuses it after that anyway). Elements are found afresh each second, so parts the
// page's poll swaps in keep counting. What the policy says to do when the wait is over comes from the server.
(function () {
  "use strict";

  function left(until) {
    var ms = Date.parse(until) - Date.now();
    return isNaN(ms) ? null : Math.max(0, ms);
  }

  function tick() {
    document.querySelectorAll("[data-countdown-to]").forEach(function (box) {
      var ms = left(box.getAttribute("data-countdown-to"));
      var out = box.querySelector("[data-countdown]");
      if (ms === null || !out) { return; }
      var seconds = Math.ceil(ms / 1000);
      var text = seconds > 0
        ? Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0") + " left"
        : "Time is up";
      if (out.textContent !== text) { out.textContent = text; }
    });
    document.querySelectorAll("[data-hide-after]").forEach(function (part) {
      if (left(part.getAttribute("data-hide-after")) === 0) { part.hidden = true; }
    });
  }

  tick();
  window.setInterval(tick, 1000);
})();
