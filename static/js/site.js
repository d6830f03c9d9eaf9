// Behaviour every page may use, bound here because the Content-Security-Policy allows no inline handlers.
(function () {
  "use strict";

  // The field pages kept on this phone for when there is no signal (static/js/field-offline.js) belong to whoever
  // was signed in: signed out, or someone else signed in, they go.
  if (window.caches && window.localStorage) {
    var who = document.body.dataset.user || "";
    var before = localStorage.getItem("homevisits-user");
    if (!who || (before && before !== who)) { window.caches.delete("homevisits-pages").catch(function () {}); }
    localStorage.setItem("homevisits-user", who);
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-print]");
    if (button) { window.print(); }
  });

  // A link to a part of the page inside a collapsed <details> (or to the <details> itself) opens it, so the
  // link lands on what it names rather than on a closed summary line.
  function openTarget(hash) {
    if (!hash || hash.length < 2) { return; }
    var target = document.getElementById(decodeURIComponent(hash.slice(1)));
    for (var node = target; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") { node.open = true; }
    }
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (link) { openTarget(link.getAttribute("href")); }
  });
  window.addEventListener("hashchange", function () { openTarget(window.location.hash); });
  openTarget(window.location.hash);

  // A wide table that scrolls sideways in its box (.table-responsive) on a narrow screen can be scrolled from
  // the keyboard too: the box takes focus, named after the table's caption.
  function scrollableTables() {
    document.querySelectorAll(".table-responsive").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth) {
        var caption = box.querySelector("caption");
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", (caption ? caption.textContent.trim() + ": " : "") + "scrolls sideways");
      } else if (box.getAttribute("role") === "region") {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    });
  }
  window.addEventListener("resize", scrollableTables);
  document.addEventListener("htmx:afterSwap", scrollableTables);
  scrollableTables();
})();
