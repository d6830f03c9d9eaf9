// The field page with no signal. It installs the service worker (which keeps this page and its visit page for when
// there is no network), asks for storage that the browser will not clear on its own, and sends every tap through
// the outbox (outbox.js) with an id made on this phone: with signal the tap is posted as the page's form, as
// before; with none (or while earlier taps still wait) it is kept and the page moves on by itself, saying how many
// are waiting to send and when the last one reached school. Waiting taps go when the signal returns (the `online`
// event), when a page loads, when the service worker starts, and every half minute while any wait.
(function () {
  "use strict";

  var dataNode = document.getElementById("field-offline-data");
  if (!dataNode || !window.indexedDB || !window.HomeVisitsOutbox) { return; }
  var info = JSON.parse(dataNode.textContent);
  var outbox = window.HomeVisitsOutbox;
  var LOCATION_KEY = "homevisits-share-location";
  var seq = Date.now();
  var shown = null;  // how many waiting taps of this visit the page last showed on its own

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(info.sw_url, { scope: info.sw_scope }).catch(function () { return null; });
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.active && navigator.onLine) { registration.active.postMessage({ keep: info.keep }); }
    });
  }
  if (navigator.storage && navigator.storage.persist) {
    navigator.storage.persisted().then(function (yes) { return yes || navigator.storage.persist(); });
  }

  // --- Location, only with the visitor's say-so ------------------------------------------------------------------
  function showShareLocation() {
    var share = document.getElementById("share-location");
    if (!share) { return; }
    share.hidden = !navigator.geolocation;
    share.querySelector("input").checked = localStorage.getItem(LOCATION_KEY) === "yes";
  }
  document.addEventListener("change", function (event) {
    if (event.target.id !== "share-location-box") { return; }
    localStorage.setItem(LOCATION_KEY, event.target.checked ? "yes" : "no");
    if (event.target.checked) { whereAmI(); }  // asks the browser's permission now, not on the doorstep
  });

  function whereAmI() {
    if (!navigator.geolocation || localStorage.getItem(LOCATION_KEY) !== "yes") { return Promise.resolve(null); }
    return new Promise(function (resolve) {
      var done = false;
      var finish = function (value) { if (!done) { done = true; resolve(value); } };
      window.setTimeout(function () { finish(null); }, 4000);  // a tap never waits long for a position
      navigator.geolocation.getCurrentPosition(function (position) {
        finish({
          latitude: position.coords.latitude, longitude: position.coords.longitude, accuracy: position.coords.accuracy,
        });
      }, function () { finish(null); }, { enableHighAccuracy: true, timeout: 4000, maximumAge: 60000 });
    });
  }

  // --- What the page says ------------------------------------------------------------------------------------------
  // The page's own poll (htmx) may swap it all for a newer copy: find the parts afresh each time.
  function part(id) { return document.getElementById(id); }

  function localStatus(taps) {
    var status = info.status;
    taps.forEach(function (tap) {
      var to = (info.routes[tap.kind] || {})[status];
      if (to) { status = to; }
    });
    return status;
  }

  function button(step) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn-lg w-100 py-3 " + (step.primary ? "btn-primary" : "btn-outline-secondary");
    b.textContent = step.label;
    b.addEventListener("click", function () {
      if (step.question && !window.confirm(step.question)) { return; }
      queue({ kind: step.kind, label: step.label });
    });
    return b;
  }

  function showLocal(taps) {
    var status = localStatus(taps);
    var badge = document.querySelector(".status-badge");
    var serverSteps = part("field-steps");
    var localSteps = part("offline-steps");
    if (badge) {
      badge.textContent = "Status: " + info.status_labels[status] + " (waiting to send)";
      badge.classList.add("text-wrap", "text-start");
    }
    if (serverSteps) { serverSteps.hidden = true; }
    localSteps.replaceChildren();
    (info.steps[status] || []).forEach(function (step) { localSteps.appendChild(button(step)); });
    if (info.away.indexOf(status) !== -1) {
      localSteps.appendChild(button(info.danger));
      localSteps.appendChild(button({ kind: info.quick, label: "Quick check-in" }));
    }
    localSteps.hidden = false;
  }

  function render() {
    showShareLocation();
    return Promise.all([
      outbox.all(info.user), outbox.getMeta("reached:" + info.user), outbox.getMeta("refused:" + info.user),
      outbox.getMeta("stopped"),
    ]).then(function (found) {
      var taps = found[0], reached = found[1], refused = found[2] || [], stopped = found[3];
      var mine = taps.filter(function (tap) { return tap.visit === info.visit; });
      var lines = [];
      if (taps.length) {
        lines.push(taps.length + " waiting to send. " + (stopped === "signin"
          ? "Sign in again to send them."
          : "They go as soon as this phone has signal: keep this page open if you can."));
      }
      if (reached && reached.visit === info.visit) { lines.push("Last check-in reached school at " + reached.at_local + " (" + reached.label + ")."); }
      refused.forEach(function (r) { lines.push("Not recorded: " + r.label + ". " + r.message); });
      var statusNode = part("outbox-status");
      statusNode.textContent = lines.join(" ");
      statusNode.hidden = !lines.length;
      statusNode.classList.toggle("alert-warning", taps.length > 0 || refused.length > 0);
      statusNode.classList.toggle("alert-light", !taps.length && !refused.length);
      // Some of what this page showed on its own has reached school (sent by the page or by the service worker), or
      // a check-in newer than this page landed while it loaded: the server's page says where the visit is now.
      var newer = reached && reached.visit === info.visit && (reached.checkin || 0) > (info.last_checkin || 0);
      if (navigator.onLine && ((shown !== null && mine.length < shown) || (newer && !mine.length))) {
        window.location.reload();
      } else if (mine.length) {
        showLocal(mine);
        shown = mine.length;
      }
      return taps;
    });
  }

  // --- Taps ----------------------------------------------------------------------------------------------------------
  function queue(fields, form) {
    outbox.setMeta("refused:" + info.user, []);  // what was refused before has been read
    return whereAmI().then(function (place) {
      var tap = {
        client_id: crypto.randomUUID(),
        seq: seq++,
        user: info.user,
        visit: info.visit,
        url: info.send_url,
        kind: fields.kind,
        label: fields.label,
        minutes: fields.minutes || "",
        phone_at: new Date().toISOString(),
      };
      if (place) { tap.latitude = place.latitude; tap.longitude = place.longitude; tap.accuracy = place.accuracy; }
      return outbox.all(info.user).then(function (waiting) {
        if (form && navigator.onLine && !waiting.length) {
          postForm(form, tap);  // with signal and nothing waiting: the page's own form, as before (with the id)
          return;
        }
        // Not waited for: `ready` never settles where the service worker could not be installed.
        return outbox.add(tap).then(render).then(function () { askForSync(); return sendWaiting(); });
      });
    });
  }

  function askForSync() {
    if (!("serviceWorker" in navigator)) { return null; }
    return navigator.serviceWorker.ready.then(function (registration) {
      return registration.sync ? registration.sync.register("homevisits-outbox") : null;
    }).catch(function () { return null; });
  }

  function cookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : "";
  }

  function postForm(form, tap) {
    // outbox_user and outbox_label: for the service worker, should this post fail on the way (field-sw.js).
    tap.outbox_user = tap.user;
    tap.outbox_label = tap.label;
    ["client_id", "phone_at", "latitude", "longitude", "accuracy", "outbox_user", "outbox_label"].forEach(function (name) {
      if (tap[name] === undefined) { return; }
      var input = form.querySelector("input[name='" + name + "']") || document.createElement("input");
      input.type = "hidden"; input.name = name; input.value = tap[name];
      form.appendChild(input);
    });
    // A page kept on the phone may hold an old token: the cookie always has the current one.
    var token = form.querySelector("input[name='csrfmiddlewaretoken']");
    if (token && cookie("csrftoken")) { token.value = cookie("csrftoken"); }
    HTMLFormElement.prototype.submit.call(form);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var kind = form.querySelector("input[name='kind']");
    if (!kind || !form.closest("#field-live")) { return; }
    event.preventDefault();
    var minutes = form.querySelector("[name='minutes']");
    var submitter = event.submitter || form.querySelector("button[type='submit']");
    var label = submitter ? submitter.textContent.trim() : kind.value;
    if (form.querySelector("input[name='confirm']")) {  // the step that asked once more: name it as the step
      var summary = form.closest("details") && form.closest("details").querySelector("summary");
      if (summary) { label = summary.textContent.trim(); }
    }
    queue({ kind: kind.value, label: label, minutes: minutes ? minutes.value : "" }, form);
  }, true);

  // --- Sending ---------------------------------------------------------------------------------------------------------
  var sending = false;
  function sendWaiting() {
    if (sending) { return Promise.resolve(); }
    sending = true;
    return outbox.drain().then(function () {
      sending = false;
      return render();
    }, function () { sending = false; });
  }

  window.addEventListener("online", sendWaiting);
  document.body.addEventListener("htmx:afterSettle", function () {
    var fresh = part("field-offline-data");
    if (fresh) { info = JSON.parse(fresh.textContent); }
    render();
  });
  if (outbox.channel) { outbox.channel.addEventListener("message", render); }
  window.setInterval(function () {
    outbox.all(info.user).then(function (taps) { if (taps.length && navigator.onLine) { sendWaiting(); } });
  }, 30000);
  render().then(function (taps) { if (taps.length) { sendWaiting(); } });
})();
