// The phone's outbox of check-ins: a tap with no signal is kept here (IndexedDB) under an id the phone made for it,
// and sent, oldest first, when the signal returns. The field page (field-offline.js) and the service worker
// (field-sw.js) both load this and both may send: the server records each id once, so a tap sent twice (two
// senders at once, or an answer lost on the way back) is still one check-in.
//
// Nothing here keeps a CSRF token: each round of sending asks the server for a fresh one (GET /visits/field/token/,
// which also says who is signed in, so only that person's taps are sent). A refusal in words (400, "refused") is
// dropped and shown on the page; anything else (no signal, a sign-in page, a server error) keeps the tap for later.
(function (scope) {
  "use strict";

  var DB_NAME = "homevisits-outbox";
  var TAPS = "checkins";
  var META = "meta";
  var TOKEN_URL = "/visits/field/token/";
  var channel = typeof BroadcastChannel === "function" ? new BroadcastChannel("homevisits-outbox") : null;

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(TAPS, { keyPath: "client_id" });
        request.result.createObjectStore(META);
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  // run(store, mode, fn): fn(objectStore) returns an IDBRequest (or nothing); resolves with its result once the
  // transaction has committed.
  function run(storeName, mode, fn) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(storeName, mode);
        var request = fn(transaction.objectStore(storeName));
        transaction.oncomplete = function () { db.close(); resolve(request ? request.result : undefined); };
        transaction.onerror = transaction.onabort = function () { db.close(); reject(transaction.error); };
      });
    });
  }

  function changed() {
    if (channel) { channel.postMessage("changed"); }
  }

  function add(tap) {
    return run(TAPS, "readwrite", function (store) { return store.put(tap); }).then(changed);
  }

  function all(user) {
    return run(TAPS, "readonly", function (store) { return store.getAll(); }).then(function (taps) {
      return (taps || [])
        .filter(function (tap) { return user === undefined || tap.user === user; })
        .sort(function (a, b) { return a.seq - b.seq; });
    });
  }

  function remove(clientId) {
    return run(TAPS, "readwrite", function (store) { return store.delete(clientId); });
  }

  function getMeta(key) {
    return run(META, "readonly", function (store) { return store.get(key); });
  }

  function setMeta(key, value) {
    return run(META, "readwrite", function (store) { return store.put(value, key); });
  }

  function freshToken() {
    return fetch(TOKEN_URL, { credentials: "same-origin", redirect: "manual", cache: "no-store" }).then(function (r) {
      if (r.type === "opaqueredirect" || r.status === 401 || r.status === 403) { return { signIn: true }; }
      if (!r.ok) { throw new Error("token " + r.status); }
      return r.json();
    });
  }

  function sendOne(tap, token) {
    var body = {
      client_id: tap.client_id, kind: tap.kind, phone_at: tap.phone_at, minutes: tap.minutes || "",
    };
    if (tap.latitude !== undefined && tap.latitude !== null) {
      body.latitude = tap.latitude; body.longitude = tap.longitude; body.accuracy = tap.accuracy;
    }
    return fetch(tap.url, {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual",
      cache: "no-store",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(body),
    });
  }

  // Send what is waiting, oldest first; stop at the first that cannot go now. Resolves with
  // {sent, refused, stopped} where stopped is "", "offline", "signin" or "error".
  function drainNow() {
    var result = { sent: 0, refused: 0, stopped: "" };
    return all().then(function (taps) {
      if (!taps.length) { return result; }
      return freshToken().then(function (answer) {
        if (answer.signIn) { result.stopped = "signin"; return result; }
        var mine = taps.filter(function (tap) { return tap.user === answer.user; });
        var next = function (i) {
          if (i >= mine.length) { return Promise.resolve(result); }
          var tap = mine[i];
          return sendOne(tap, answer.token).then(function (response) {
            if (response.type === "opaqueredirect") { result.stopped = "signin"; return result; }
            var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0
              ? response.json() : Promise.resolve(null);
            return json.then(function (data) {
              if (response.ok && data) {
                result.sent += 1;
                return remove(tap.client_id)
                  .then(function () {
                    return setMeta("reached:" + tap.user, {
                      label: tap.label, at_local: data.at_local, at: data.at, visit: tap.visit, checkin: data.checkin,
                    });
                  })
                  .then(function () { changed(); return next(i + 1); });
              }
              if (response.status === 400 && data && data.status === "refused") {
                result.refused += 1;
                return remove(tap.client_id)
                  .then(function () { return getMeta("refused:" + tap.user); })
                  .then(function (refusals) {
                    refusals = (refusals || []).concat([{ label: tap.label, message: data.message }]).slice(-5);
                    return setMeta("refused:" + tap.user, refusals);
                  })
                  .then(function () { changed(); return next(i + 1); });
              }
              result.stopped = "error";
              return result;
            });
          });
        };
        return next(0);
      });
    }).catch(function () {
      result.stopped = "offline";
      return result;
    }).then(function (done) {
      return setMeta("stopped", done.stopped).then(function () { changed(); return done; });
    });
  }

  // One round at a time in this browser (the page and the service worker share the lock where it exists; where it
  // does not, the server's once-per-id keeps a doubled send harmless).
  function drain() {
    if (scope.navigator && scope.navigator.locks && scope.navigator.locks.request) {
      return scope.navigator.locks.request("homevisits-outbox", drainNow);
    }
    return drainNow();
  }

  scope.HomeVisitsOutbox = {
    add: add, all: all, drain: drain, getMeta: getMeta, setMeta: setMeta, channel: channel,
  };
})(self);
