// The field pages' service worker (served by visits/field/views.py from /visits/, so its scope is /visits/).
// What it keeps, and why (README, "No signal on the doorstep"):
// - the static files the field page needs, under a name that changes with each release;
// - the field page and the visit page (/visits/<id>/field/ and /visits/<id>/), only as the signed-in person last
//   fetched them with a 200, and only to show when there is no network at all. A page the server now answers
//   with anything else (a sign-in redirect, a refusal) is dropped at once; signing out drops them all (site.js).
// Never kept: anything else, any POST's answer, the CSRF token (the outbox asks for a fresh one each time it sends).
// A tap the page posted that fails on the way (no answer at all) goes into the outbox, as a tap with no signal does.
// It also sends the outbox when it starts (outbox.js), besides the page's own sending.
"use strict";
importScripts("{{ outbox_js }}");

var STATIC_CACHE = "homevisits-static-{{ version }}";
var PAGES_CACHE = "homevisits-pages";
var ASSETS = {{ assets_json|safe }};
var KEPT_PAGE = /^\/visits\/\d+\/(field\/)?$/;

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(STATIC_CACHE).then(function (cache) { return cache.addAll(ASSETS); }).then(function () {
      return self.skipWaiting();
    })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("homevisits-static-") === 0 && name !== STATIC_CACHE;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); }).then(sendWaiting)
  );
});

function sendWaiting() {
  return self.HomeVisitsOutbox.drain().catch(function () { return null; });
}

// Keep (or drop) one page as the server answers it now.
function keep(path, response) {
  return caches.open(PAGES_CACHE).then(function (cache) {
    if (response.ok && !response.redirected && response.type === "basic") {
      return cache.put(path, response);
    }
    return cache.delete(path);
  });
}

function pageFromNetworkElseKept(request) {
  var path = new URL(request.url).pathname;
  return fetch(request).then(function (response) {
    return keep(path, response.clone()).then(function () { return response; });
  }, function () {
    return caches.open(PAGES_CACHE).then(function (cache) { return cache.match(path); }).then(function (kept) {
      return kept || new Response(
        "<!doctype html><meta charset=utf-8><title>No signal</title><h1>No signal</h1>" +
        "<p>This page was not saved on this phone. Open it once with signal (in school) and it will open here " +
        "without. Ring the office if you need to check in.</p>",
        { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } }
      );
    });
  });
}

// A tap posted with what looked like signal, that never reached school (one bar, gone mid-way): kept in the
// outbox under the id the page gave it (so if it did reach school after all, sending it again changes nothing), and
// the field page opened again, from the phone if need be, saying it is waiting. A form posted without the page's
// script has no id: that failure is the browser's own, as before.
var FIELD_POST = /^\/visits\/(\d+)\/field\/$/;

function postOrKeep(request, path, visit) {
  var copy = request.clone();
  return fetch(request).catch(function (failure) {
    return copy.formData().then(function (form) {
      if (!form.get("client_id") || !form.get("outbox_user")) { throw failure; }
      var tap = {
        client_id: form.get("client_id"),
        seq: Date.now(),
        user: Number(form.get("outbox_user")),
        visit: visit,
        url: path + "send/",
        kind: form.get("kind"),
        label: form.get("outbox_label") || form.get("kind"),
        minutes: form.get("minutes") || "",
        phone_at: form.get("phone_at"),
      };
      if (form.get("latitude")) {
        tap.latitude = Number(form.get("latitude"));
        tap.longitude = Number(form.get("longitude"));
        tap.accuracy = Number(form.get("accuracy"));
      }
      return self.HomeVisitsOutbox.add(tap).then(function () { return Response.redirect(path, 303); });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  var posted = FIELD_POST.exec(url.pathname);
  if (request.method === "POST" && request.mode === "navigate" && posted) {
    event.respondWith(postOrKeep(request, url.pathname, Number(posted[1])));
    return;
  }
  if (request.method !== "GET") { return; }
  if (ASSETS.indexOf(url.pathname) !== -1) {
    event.respondWith(caches.match(request).then(function (hit) { return hit || fetch(request); }));
  } else if (request.mode === "navigate" && KEPT_PAGE.test(url.pathname)) {
    event.respondWith(pageFromNetworkElseKept(request));
  }
  // Everything else goes to the network as if there were no service worker.
});

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.keep) {
    // The field page, opened in school: keep it and its visit page for later, if not kept already (each is kept
    // afresh whenever it is opened with signal, by the fetch handler above).
    event.waitUntil(caches.open(PAGES_CACHE).then(function (cache) {
      return Promise.all(data.keep.filter(function (path) { return KEPT_PAGE.test(path); }).map(function (path) {
        return cache.match(path).then(function (kept) {
          if (kept) { return null; }
          return fetch(path, { credentials: "same-origin", redirect: "manual" }).then(function (response) {
            return keep(path, response);
          }, function () { return null; });
        });
      }));
    }));
  } else if (data.forget) {  // signed out, or someone else signed in
    event.waitUntil(caches.delete(PAGES_CACHE));
  } else if (data.send) {
    event.waitUntil(sendWaiting());
  }
});

// Where the browser has Background Sync (Chrome on Android), it wakes this worker when the signal returns even with
// the page closed. Not relied on: Safari and Firefox have none, so the page and the worker's start send too.
self.addEventListener("sync", function (event) {
  if (event.tag === "homevisits-outbox") { event.waitUntil(sendWaiting()); }
});

// Started (for a fetch, a message, or after the browser stopped it): send what is waiting.
sendWaiting();
