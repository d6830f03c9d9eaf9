// The request form (templates/visits/visit_form.html). Without this script every field shows and the server checks
// everything; with it, fields that apply only to another answer show when that answer is chosen, "back by" follows
// the start and duration, colleagues whose training lapses before the visit's day are marked, and the summary of
// problems takes focus. Bound here, not inline: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var form = document.querySelector("form[data-request-form]");
  if (!form) { return; }

  // The summary of problems takes focus; each of its links moves focus to its field, with the label in view.
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      var target = link && document.getElementById(link.getAttribute("href").slice(1));
      if (!target) { return; }
      event.preventDefault();
      var label = document.querySelector("label[for='" + target.id + "']");
      (label || target).scrollIntoView();
      target.focus({ preventScroll: true });
    });
  }

  function valueOf(name) {
    var field = form.elements[name];
    if (!field) { return ""; }
    if (field.type === "checkbox") { return field.checked ? "on" : ""; }
    return field.value || "";  // a radio group's RadioNodeList gives the checked value
  }

  // --- fields shown only for an answer: <div data-show-when="announced" data-show-values="no"> -----------------
  var groups = form.querySelectorAll("[data-show-when]");
  function showGroups() {
    groups.forEach(function (group) {
      var wanted = group.getAttribute("data-show-values").split(" ");
      group.hidden = wanted.indexOf(valueOf(group.getAttribute("data-show-when"))) === -1;
    });
  }

  // --- the Principal's exception: offered when the times need it (or it is already asked for) ------------------
  var exception = document.getElementById("principal-exception");
  function minutesOf(hhmm) {
    var parts = (hhmm || "").split(":");
    return parts.length < 2 ? null : parseInt(parts[0], 10) * 60 + parseInt(parts[1], 10);
  }
  function showException() {
    if (!exception || !exception.hasAttribute("data-earliest")) { return; }
    var start = minutesOf(valueOf("start_time"));
    var duration = parseInt(valueOf("expected_duration_minutes"), 10);
    var outside = start !== null && (start < minutesOf(exception.getAttribute("data-earliest")) ||
                                     start > minutesOf(exception.getAttribute("data-latest")));
    var tooLong = duration > parseInt(exception.getAttribute("data-longest"), 10);
    exception.hidden = !(outside || tooLong || valueOf("principal_exception") === "on");
  }

  // --- "back by": the start plus the duration, until the person types a time of their own ---------------------
  var back = form.elements.return_time;
  var worked = back ? back.value : "";
  function workOutBack() {
    if (!back || (back.value && back.value !== worked)) { return; }
    var start = minutesOf(valueOf("start_time"));
    var duration = parseInt(valueOf("expected_duration_minutes"), 10);
    if (start === null || !(duration > 0) || start + duration >= 24 * 60) { return; }
    var end = start + duration;
    worked = String(Math.floor(end / 60)).padStart(2, "0") + ":" + String(end % 60).padStart(2, "0");
    back.value = worked;
  }

  // --- colleagues whose safer-working training lapses before the visit's day ---------------------------------
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function words(iso) {
    var p = iso.split("-");
    return parseInt(p[2], 10) + " " + MONTHS[parseInt(p[1], 10) - 1] + " " + p[0];
  }
  function markColleagues() {
    var day = valueOf("visit_date");
    var now = new Date();
    var today = now.getFullYear() + "-" + String(now.getMonth() + 1).padStart(2, "0") + "-" +
                String(now.getDate()).padStart(2, "0");
    form.querySelectorAll("option[data-name]").forEach(function (option) {
      var expires = option.getAttribute("data-training-expires");
      var label = option.getAttribute("data-name");
      if (!expires) { label += " (no safer-working training recorded)"; }
      else if (expires < today) { label += " (training expired " + words(expires) + ")"; }
      else if (day && expires < day) { label += " (training lapses " + words(expires) + ", before the visit)"; }
      option.textContent = label;
    });
  }

  function update() {
    showGroups();
    showException();
  }
  form.addEventListener("change", update);
  form.addEventListener("input", function (event) {
    var name = event.target.name;
    if (name === "start_time" || name === "expected_duration_minutes") { workOutBack(); }
    if (name === "visit_date") { markColleagues(); }
    update();
  });
  update();
})();
