// The office board: polls /board/live/ and swaps in only what changed; an audible cue when a new alert appears
// (mutable), and a banner while the network is down.
(function () {
  "use strict";
  var KEY = "homevisits-board-muted";
  var live = document.getElementById("board-live");
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

  function state() { return document.getElementById("board-state"); }

  function check() {
    var current = state();
    if (!current) { return; }
    var ids = current.dataset.openAlerts.trim().split(/\s+/).filter(Boolean);
    if (seen !== null && ids.some(function (id) { return seen.indexOf(id) === -1; })) { cue(); }
    if (seen === null && ids.length) { cue(); }
    seen = ids;
  }

  // A poll that brings the version already shown changes nothing: leave the DOM alone. The status code cannot
  // tell (the browser answers a 304 from its cache with a 200), the version in the fragment can.
  var VERSION = /data-version="([^"]*)"/;
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target !== live || !event.detail.xhr || event.detail.xhr.status !== 200) { return; }
    var incoming = VERSION.exec(event.detail.serverResponse || "");
    var current = state();
    if (incoming && current && incoming[1] && incoming[1] === current.dataset.version) {
      event.detail.shouldSwap = false;
    }
  });

  // A changed board is morphed in place (idiomorph): rows keep their elements, so focus and scroll stay. An
  // acknowledgement form someone has started, or one showing why it was refused, is left exactly as it is.
  document.body.addEventListener("input", function (event) {
    var form = event.target.closest && event.target.closest("form.ack-form");
    if (form) { form.dataset.touched = "1"; }
  });
  if (window.Idiomorph) {
    window.Idiomorph.defaults.ignoreActiveValue = true;
    window.Idiomorph.defaults.callbacks.beforeNodeMorphed = function (oldNode) {
      if (oldNode.nodeType === 1 && oldNode.matches("form.ack-form") &&
          (oldNode.dataset.touched || oldNode.hasAttribute("data-has-errors"))) {
        return false;
      }
      return true;
    };
  }

  function confirmed() {
    lost.classList.add("d-none");
    var stamp = document.querySelector(".last-checked");
    if (stamp) { stamp.textContent = new Date().toLocaleTimeString("en-GB"); }
  }

  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target === live) { check(); }
  });
  document.body.addEventListener("htmx:afterRequest", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status === 200 || status === 304) { confirmed(); }
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
  confirmed();
  check();
})();
