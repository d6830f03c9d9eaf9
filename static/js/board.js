// The office board: an audible cue when a new alert appears (mutable), and a banner while the network is down.
(function () {
  "use strict";
  var KEY = "homevisits-board-muted";
  var toggle = document.getElementById("sound-toggle");
  var lost = document.getElementById("connection-lost");
  var seen = null;
  var audio = null;
  document.body.dataset.cues = "0";

  function muted() { return window.localStorage.getItem(KEY) === "1"; }
  function showMute() {
    toggle.setAttribute("aria-pressed", muted() ? "true" : "false");
    toggle.textContent = muted() ? "Sound: muted" : "Sound: on";
  }
  toggle.addEventListener("click", function () {
    window.localStorage.setItem(KEY, muted() ? "0" : "1");
    showMute();
  });
  showMute();

  function cue() {
    // Counted even when muted or blocked, so the page (and its tests) can tell a cue was due.
    document.body.dataset.cues = String(Number(document.body.dataset.cues) + 1);
    if (muted()) { return; }
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      [0, 0.35, 0.7].forEach(function (offset) {
        var osc = audio.createOscillator();
        var gain = audio.createGain();
        osc.frequency.value = 880;
        gain.gain.value = 0.2;
        osc.connect(gain); gain.connect(audio.destination);
        osc.start(audio.currentTime + offset);
        osc.stop(audio.currentTime + offset + 0.2);
      });
    } catch (e) { /* a browser that refuses sound still shows the alert */ }
  }

  function check() {
    var state = document.getElementById("board-state");
    if (!state) { return; }
    var ids = state.dataset.openAlerts.trim().split(/\s+/).filter(Boolean);
    if (seen !== null && ids.some(function (id) { return seen.indexOf(id) === -1; })) { cue(); }
    if (seen === null && ids.length) { cue(); }
    seen = ids;
  }

  document.body.addEventListener("htmx:afterSwap", function () { lost.classList.add("d-none"); check(); });
  // An unchanged board answers 304 (no swap): still show when the server last confirmed it.
  document.body.addEventListener("htmx:afterRequest", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status === 200 || status === 304) {
      lost.classList.add("d-none");
      var stamp = document.querySelector(".last-checked");
      if (stamp) { stamp.textContent = new Date().toLocaleTimeString("en-GB"); }
    }
  });
  document.body.addEventListener("htmx:sendError", function () { lost.classList.remove("d-none"); });
  document.body.addEventListener("htmx:responseError", function (event) {
    // A reception screen that was switched off: reload, so it shows that message and none of the board.
    var xhr = event.detail.xhr;
    if (xhr && xhr.status === 403 && xhr.getResponseHeader("X-Board-Screen") === "off") {
      window.location.reload();
      return;
    }
    lost.classList.remove("d-none");
  });
  check();
})();
