"""The field page: the pair's check-ins from a phone (or the office's, on their behalf)."""

import hashlib
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from core.audit import audit
from core.permissions import may_use_board
from core.scoping import school_ids_for

from ..departure.selectors import where_to_fix
from ..lifecycle import AWAY, OPEN_FOR_FAMILY
from ..models import CheckInKind, Visit, VisitStatus
from ..permissions import may_check_in
from . import selectors, services
from .forms import ExtendForm, SentCheckInForm

# The discreet duress control on the field page posts this kind; the page answers it like any other check-in.
QUICK_CHECKIN = "quick"


def _field_visit(user, pk) -> Visit:
    """The pair, or the office of the visit's school (recording on their behalf); anyone else a 404."""
    visit = get_object_or_404(
        Visit.objects.select_related("household", "school").prefetch_related("people__user"),
        pk=pk,
        school_id__in=school_ids_for(user),
    )
    if may_check_in(user, visit):
        return visit
    raise Http404("No such visit.")


# What the page says once the verb has recorded it (by what it recorded: a second "here" is the arrival).
DONE = {
    CheckInKind.HERE: "Check-in sent: you are here, waiting for your colleague.",
    CheckInKind.ARRIVED: "Check-in sent: you are both here.",
    CheckInKind.NO_ANSWER: "The office has been asked to ring the family.",
    CheckInKind.CHILD_DANGER: "The DSLs and the Principal have been alerted.",
    CheckInKind.RETURN_UNDONE: "Undone: the office is watching for you again.",
}


def done_message(checkin, kind: str) -> str:
    """What the page says once a tap of `kind` was recorded (as `checkin`: a second "here" is the arrival)."""
    if kind in services.ROUTES:
        return f"Check-in sent: {CheckInKind(kind).label}."
    return DONE.get(checkin.kind, f"Check-in sent: {checkin.get_kind_display()}.")


# Where the page opens after a doorstep tap: the part that says what to do next.
ANCHORS = {CheckInKind.CHILD_DANGER: "#danger"}


@login_required
def field(request, pk):
    visit = _field_visit(request.user, pk)
    chain = visit.chain()
    extend_form = ExtendForm(minutes_left=chain.max_extension_minutes - visit.extended_minutes)
    confirm, refusals = "", []
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        sent = SentCheckInForm(request.POST).sent()
        try:
            if kind == QUICK_CHECKIN:
                services.checkin_receive(visit=visit, actor=request.user, kind=CheckInKind.DURESS, **sent)
                messages.success(request, "Check-in sent.")
                return redirect("visits:field", pk=visit.pk)
            if kind == CheckInKind.EXTENDED:
                extend_form = ExtendForm(
                    request.POST, minutes_left=chain.max_extension_minutes - visit.extended_minutes
                )
                if extend_form.is_valid():
                    minutes = extend_form.cleaned_data["minutes"]
                    services.checkin_receive(visit=visit, actor=request.user, kind=kind, minutes=minutes, **sent)
                    messages.success(request, f"Extended by {minutes} minutes.")
                    return redirect("visits:field", pk=visit.pk)
            elif kind in selectors.CONFIRM and request.POST.get("confirm") != "yes":
                confirm = kind  # asked once more on the page (the step opens without script too)
            elif kind in services.RECEIVABLE and kind != CheckInKind.DURESS:
                checkin = services.checkin_receive(visit=visit, actor=request.user, kind=kind, **sent).checkin
                messages.success(request, done_message(checkin, kind))
                return redirect(reverse("visits:field", args=[visit.pk]) + ANCHORS.get(kind, ""))
            else:
                messages.error(request, "Choose a check-in.")
        except ValidationError as error:
            if hasattr(error, "error_dict") and "minutes" in error.error_dict:
                extend_form.add_error("minutes", error.error_dict["minutes"])
            elif kind == CheckInKind.CHECKED_OUT and any(e.code for e in getattr(error, "error_list", [])):
                refusals = where_to_fix(visit=visit, user=request.user, refusals=error.error_list)
            else:
                messages.error(request, " ".join(error.messages))
        visit.refresh_from_db()
    now = timezone.now()
    panel = selectors.field_panel(visit=visit, user=request.user, now=now)
    return render(
        request,
        "visits/field.html",
        {
            "visit": visit,
            "panel": panel,
            # The pair and the office need the address while the visit is open; afterwards it is the family's.
            "show_address": visit.status in OPEN_FOR_FAMILY,
            "available": services.available_checkins(visit),
            "extend_form": extend_form,
            "on_behalf": panel.on_behalf,
            "kinds": CheckInKind,
            "quick": QUICK_CHECKIN,
            "pair": [p for p in visit.people.all() if p.user_id],
            "chain": chain,
            "planned_minutes": int(visit.planned_length.total_seconds() // 60),
            "confirm": confirm,
            "refusals": refusals,
            "offline": offline_data(visit, request.user, panel),
            "location_keep_days": visit.school.policy().location_keep_days,
        },
        status=400 if request.method == "POST" and not confirm else 200,
    )


def offline_data(visit: Visit, user, panel) -> dict:
    """What the page's script needs to carry on with no signal: where to send, and the steps that follow each
    status (the server's own table), so a tap kept on the phone moves the page on by itself."""
    steps = {}
    for status in VisitStatus:
        row = []
        for kind, routes in services.ROUTES.items():
            if status in routes and kind in selectors.LABELS:
                question = selectors.CONFIRM.get(kind, ("",))[0]
                primary = selectors.NEXT_STEP.get(status) == kind
                row.append({"kind": kind, "label": selectors.LABELS[kind], "question": question, "primary": primary})
        if status == VisitStatus.RETURNED:
            row.append({"kind": CheckInKind.RETURN_UNDONE, "label": "Undo: we are not back yet", "question": ""})
        if row:
            steps[status] = row
    visit_url = visit.get_absolute_url() if panel.may_view_visit else ""
    return {
        "user": user.pk,
        "visit": visit.pk,
        "status": visit.status,
        # The newest check-in this page shows: one that reached school later (sent by the service worker while
        # this page loaded) makes the page fetch itself again.
        "last_checkin": visit.checkins.order_by("-pk").values_list("pk", flat=True).first() or 0,
        "status_labels": dict(VisitStatus.choices),
        "routes": {kind: {start: path[-1] for start, path in by.items()} for kind, by in services.ROUTES.items()},
        "steps": steps,
        "away": list(AWAY),
        "quick": QUICK_CHECKIN,
        "danger": {"kind": CheckInKind.CHILD_DANGER, "label": selectors.LABELS[CheckInKind.CHILD_DANGER]},
        "send_url": reverse("visits:field-send", args=[visit.pk]),
        "sw_url": reverse("visits:field-sw"),
        "sw_scope": reverse("visits:list"),
        "keep": [reverse("visits:field", args=[visit.pk]), *([visit_url] if visit_url else [])],
    }


@login_required
def texts(request):
    """The texts received on the school's number: who, when, what, what it did, the reply."""
    if not may_use_board(request.user):
        raise PermissionDenied("The log of texts is for the office, the DSLs and the Principal.")
    rows = selectors.inbound_text_log(user=request.user)
    audit(actor=request.user, action="text.list", obj=request.user, school=None, summary=f"Viewed {len(rows)} texts")
    return render(request, "visits/texts.html", {"rows": rows, "limit": selectors.TEXT_LOG_LIMIT})


# --- The phone's outbox: check-ins tapped with no signal, sent when it returns (static/js/outbox.js) -------------


def _answer(received: services.Received) -> dict:
    checkin = received.checkin
    return {
        "status": "replay" if received.replay else "recorded",
        "checkin": checkin.pk,
        "client_id": str(checkin.client_id) if checkin.client_id else "",
        "kind": checkin.kind,
        "label": checkin.get_kind_display(),
        "at": checkin.at.isoformat(),
        "at_local": f"{timezone.localtime(checkin.at):%H:%M}",
    }


@login_required
@require_POST
def field_send(request, pk):
    """One check-in from the phone's outbox, as JSON: {client_id, kind, phone_at, minutes?, latitude?, longitude?,
    accuracy?}. Recorded once (a replay answers the first result), or refused in words the phone shows; a refusal
    is 400 with {"status": "refused"} so the phone drops it, anything else (no answer, a sign-in page) is kept and
    sent again later."""
    visit = _field_visit(request.user, pk)
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body)
        except ValueError:
            data = None
    else:  # a form's body works too
        data = request.POST.dict()
    if not isinstance(data, dict):
        return JsonResponse({"status": "refused", "message": "Expected a JSON object."}, status=400)
    sent = SentCheckInForm({k: v for k, v in data.items() if isinstance(v, str | int | float)})
    kind = data.get("kind")
    kind = CheckInKind.DURESS if kind == QUICK_CHECKIN else kind
    sent.is_valid()  # a location that makes no sense is dropped, never the check-in
    if not sent.cleaned_data.get("client_id"):
        return JsonResponse(
            {"status": "refused", "message": "A check-in needs the id the phone made for it."}, status=400
        )
    minutes = data.get("minutes")
    try:
        received = services.checkin_receive(
            visit=visit,
            actor=request.user,
            kind=kind if isinstance(kind, str) else "",
            minutes=int(minutes) if isinstance(minutes, int | str) and str(minutes).isdigit() else None,
            **sent.sent(),
        )
    except ValidationError as refusal:
        return JsonResponse({"status": "refused", "message": " ".join(refusal.messages)}, status=400)
    return JsonResponse(_answer(received))


@login_required
@require_GET
def field_token(request):
    """A fresh CSRF token for the outbox, fetched just before it sends: a page kept on the phone may carry an old
    one (the token changes at each sign-in). Never kept by the service worker or any cache (no-store). Says who is
    signed in too, so the outbox sends only that person's taps."""
    return JsonResponse({"token": get_token(request), "user": request.user.pk})


@require_GET
def field_service_worker(request):
    """The field pages' service worker, served from /visits/ so that its scope covers the field page and the visit
    page. Its cache names carry a hash of the files it keeps, so a release replaces them."""
    assets = [static(name) for name in OFFLINE_ASSETS]
    version = hashlib.sha256("\n".join(assets).encode()).hexdigest()[:12]
    response = render(
        request,
        "visits/field-sw.js",
        {"assets_json": json.dumps(assets), "version": version, "outbox_js": static("js/outbox.js")},
        content_type="text/javascript",
    )
    response["Service-Worker-Allowed"] = "/visits/"
    return response


# What the field page needs to open with no signal (the service worker keeps these from its install).
OFFLINE_ASSETS = [
    "vendor/bootstrap.min.css",
    "css/app.css",
    "vendor/bootstrap.bundle.min.js",
    "vendor/htmx.min.js",
    "js/site.js",
    "js/doorstep.js",
    "js/outbox.js",
    "js/field-offline.js",
    "manifest.webmanifest",
    "icons/icon-192.png",
    "icons/icon-512.png",
]
