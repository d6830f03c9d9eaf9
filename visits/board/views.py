"""The office board, its live fragment, the printable timetable, and what the office does from it: acknowledge
an alert, raise duress for a code word heard on a call; and the page where a DSL or the Principal confirms the
pair of a duress alert are safe."""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.audit import audit, audit_listing
from core.forms import add_service_errors
from core.permissions import BOARD_ROLES, may_use_board, school_ids_where
from core.roles import SENIOR
from core.selectors import users_with_role

from ..alerts import services as alert_services
from ..alerts import sweep
from ..alerts.forms import AcknowledgeForm, ConfirmSafeForm
from ..models import Visit, VisitAlert
from ..permissions import may_confirm_safe
from . import pages
from .selectors import board_rows, board_version, board_visits


def board_user_required(view):
    """The office, DSLs and the Principal; anyone else gets 403."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not may_use_board(user):
            raise PermissionDenied("The board is for the office, the DSLs and the Principal.")
        return view(request, *args, **kwargs)

    return wrapped


def board_viewer_required(view):
    """board_user_required, or an enrolled reception screen (core.screen_auth), which sees its own school's board
    and nothing else. A screen that was switched off is told so, with nothing of the board."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            if _screen(request):
                return view(request, *args, **kwargs)
            if getattr(request, "board_screen_off", False):
                return screen_switched_off(request)
        return board_user_required(view)(request, *args, **kwargs)

    return wrapped


def _screen(request):
    return getattr(request, "board_screen", None)


def screen_switched_off(request):
    response = render(request, "visits/board_screen_off.html", status=403)
    response["X-Board-Screen"] = "off"  # board.js reloads on it, so the screen stops showing the board at once
    return response


def _viewer(request) -> dict:
    """Whose board: a screen's school, or the signed-in user's schools."""
    screen = _screen(request)
    return {"school_ids": [screen.school_id]} if screen else {"user": request.user}


def _board_context(request, ack_forms=None):
    now = timezone.now()
    rows = board_rows(visits=board_visits(**_viewer(request), now=now), now=now)
    ack_forms = ack_forms or {}
    open_alerts = []
    for row in rows:
        for alert in row.visit.open_alerts:
            alert.visit = row.visit  # already loaded: no query per alert
            alert.since = alert.checkins_after(row.visit.duress_checkins) if alert.is_duress else []
            open_alerts.append((alert, row, ack_forms.get(alert.pk) or AcknowledgeForm(alert=alert)))
    # Duress first, then police prompts, then the oldest.
    open_alerts.sort(key=lambda item: (not item[0].is_duress, not item[0].is_police_prompt, item[0].raised_at))
    return {
        "rows": rows,
        "open_alerts": open_alerts,
        "now": now,
        "sweep": sweep.sweep_status(now),
        "poll_seconds": settings.BOARD_POLL_SECONDS,
        "many_schools": len({r.visit.school_id for r in rows}) > 1,
        "counts": {
            "out": sum(r.visit.is_away for r in rows),
            "overdue": sum(r.overdue for r in rows),
            "to_leave": sum(r.visit.is_authorised for r in rows),
            "back": sum(r.visit.is_back for r in rows),
        },
    }


def _board_page(request, version, fragment, status=200):
    context = {"poll_seconds": settings.BOARD_POLL_SECONDS}
    if _screen(request):
        context.update(screen_name=_screen(request).name, screen_school=_screen(request).school_name)
    html = pages.page(request, version, fragment, context)
    return HttpResponse(html.for_request(request), status=status)


@board_viewer_required
def board(request):
    version = board_version(**_viewer(request), now=timezone.now())
    return _board_page(request, version, pages.live_fragment(version, lambda: _board_context(request)))


@board_viewer_required
def board_live(request):
    """The fragment htmx swaps in every few seconds: alerts, the sweep's health and the rows.

    Most polls find nothing changed: an ETag of the board's version lets them end in a 304 after a cache read
    or two; a changed board is rendered once per version and served from memory (board/pages.py).
    """
    version = board_version(**_viewer(request), now=timezone.now())
    viewer = f"screen{_screen(request).pk}" if _screen(request) else request.user.pk
    etag = f'"{viewer}-{version}"'  # per person: the fragment carries their CSRF token
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        fragment = pages.live_fragment(version, lambda: _board_context(request))
        response = HttpResponse(fragment.for_request(request))
    response["ETag"] = etag
    # Revalidate on every poll; private because it holds this user's CSRF token.
    response["Cache-Control"] = "private, no-cache"
    return response


@board_user_required
def timetable(request):
    now = timezone.now()
    rows = board_rows(visits=board_visits(user=request.user, now=now), now=now)
    # A printed page of names and addresses: who printed which visits is on record.
    audit_listing(actor=request.user, action="visit.list", what="the day's timetable", objects=[r.visit for r in rows])
    return render(request, "visits/timetable.html", {"rows": rows, "now": now})


def _alert_for_board_user(user, pk) -> VisitAlert:
    return get_object_or_404(
        VisitAlert.objects.select_related("visit__school", "visit__household"),
        pk=pk,
        visit__school_id__in=school_ids_where(user, *BOARD_ROLES),
    )


@board_user_required
@require_POST
def acknowledge(request, pk):
    alert = _alert_for_board_user(request.user, pk)
    form = AcknowledgeForm(request.POST, alert=alert)
    if form.is_valid():
        try:
            alert_services.alert_acknowledge(
                alert=alert,
                actor=request.user,
                outcome=form.cleaned_data["outcome"],
                new_return=form.new_return_at(),
                police_reference=form.cleaned_data["police_reference"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Recorded: {alert.title}, {form.cleaned_data['outcome'].replace('_', ' ')}.")
            return redirect("board")
    # Keep what was typed, show why beside the field.
    fragment = pages.render_fragment(_board_context(request, {alert.pk: form}))
    return _board_page(request, None, fragment, status=400)


@board_user_required
@require_POST
def office_duress(request, pk):
    """The code word heard on a call: one confirmation first (a mis-click would send the whole school to 999)."""
    visit = get_object_or_404(
        Visit.objects.select_related("household").prefetch_related("people__user"),
        pk=pk,
        school_id__in=school_ids_where(request.user, *BOARD_ROLES),
    )
    if request.POST.get("confirm") != "yes":
        return render(request, "visits/duress_confirm.html", {"visit": visit})
    try:
        alert_services.visit_raise_duress(visit=visit, actor=request.user, from_office=True)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.warning(request, "Duress alert raised: call the police now (999) with the details shown.")
    return redirect("board")


@board_user_required
def confirm_safe(request, pk):
    """A duress alert on a page of its own, fit for a phone (the dashboard's red banner and the alert's messages
    link here): a DSL or the Principal of the visit's school confirms the pair are safe and says how they know.
    The office sees the same page with who can confirm it and their numbers, and no form."""
    alert = get_object_or_404(
        VisitAlert.objects.select_related("visit__school", "visit__household", "acknowledged_by").prefetch_related(
            "visit__people__user__profile", "visit__checkins__recorded_by"
        ),
        pk=pk,
        kind="duress",
        visit__school_id__in=school_ids_where(request.user, *BOARD_ROLES),
    )
    visit = alert.visit
    may_confirm = may_confirm_safe(request.user, visit)
    form = ConfirmSafeForm(request.POST or None)
    if request.method == "POST":
        if not may_confirm:
            raise PermissionDenied(
                f"Only a DSL or the Principal of {visit.school.name} can confirm the pair are safe and close a "
                "duress alert."
            )
        if form.is_valid():
            try:
                alert_services.alert_confirm_safe(
                    alert=alert, actor=request.user, how=form.cleaned_data["how"], note=form.cleaned_data["note"]
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Confirmed safe: the duress alert is closed on every board and dashboard.")
                return redirect("board-confirm-safe", pk=alert.pk)
    audit(actor=request.user, action="visit.view", obj=visit, summary=f"Opened the duress alert on {visit}")
    seniors = users_with_role(school=visit.school, roles=SENIOR).select_related("profile").order_by("first_name")
    pair = [p for p in visit.people.all() if p.user_id]
    usual = {str(getattr(getattr(p.user, "profile", None), "mobile", "")) for p in pair}
    return render(
        request,
        "visits/alert_confirm_safe.html",
        {
            "alert": alert,
            "visit": visit,
            "pair": pair,
            # The lead's number for this visit, when it is not the one shown by their name.
            "lead_mobile_today": visit.lead_mobile if str(visit.lead_mobile or "") not in usual else None,
            "since": alert.checkins_after(visit.checkins.all()),
            "may_confirm": may_confirm,
            "form": form,
            "seniors": [] if may_confirm else list(seniors),
        },
        status=400 if form.errors else 200,
    )
