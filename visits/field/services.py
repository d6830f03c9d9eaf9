"""Field check-ins (services): check out, arrive, leave, return, not returning, running late; what happens at
the door (waiting for a colleague, a parent running late, nobody answering, the letter posted, a child alone or in
danger); and undoing a return tapped by mistake.

The pair record them from a phone; the office records them on their behalf from a call (`CheckIn.recorded_by`
keeps who). Each one locks the visit, moves its status through the lifecycle, recomputes the alert timer
(`Visit.alert_due_at`) and writes its audit row, all in one transaction, so a check-in racing the sweep either
lands first (the sweep then finds nothing due) or waits for the sweep's lock and answers what it raised.
"""

import datetime
import decimal
import uuid
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.audit import audit
from core.models import School

from ..alerts.services import (
    ROUND_FIELDS,
    rebased_due_back,
    recompute_timer,
    resolve_open_alerts,
    start_new_round,
    visit_raise_duress,
)
from ..alerts.sweep import store_alert
from ..departure.services import check_out_blockers
from ..lifecycle import _transition, now_or
from ..models import (
    CLOSED_BY_A_PERSON,
    AlertKind,
    AlertOutcome,
    CheckIn,
    CheckInKind,
    Visit,
    VisitAlert,
    VisitRole,
    VisitStatus,
)
from ..permissions import is_pair, may_check_in
from .doorstep import DOORSTEP_KINDS, Doorstep, doorstep_of

S = VisitStatus
# Which statuses each check-in moves the visit through, from where.
ROUTES: dict[str, dict[str, list[str]]] = {
    CheckInKind.CHECKED_OUT: {S.AUTHORISED: [S.OUT]},
    CheckInKind.ARRIVED: {S.OUT: [S.ON_SITE]},
    CheckInKind.LEFT: {S.ON_SITE: [S.LEFT]},
    CheckInKind.RETURNED: {S.OUT: [S.RETURNED], S.LEFT: [S.RETURNED], S.ON_SITE: [S.LEFT, S.RETURNED]},
    CheckInKind.NOT_RETURNING: {S.OUT: [S.RETURNED], S.LEFT: [S.RETURNED], S.ON_SITE: [S.LEFT, S.RETURNED]},
}
NOT_RETURNING_NOTE = "Not returning to school: finished and safe"


def available_checkins(visit: Visit) -> list[str]:
    """The check-ins that make sense now, for the buttons on the field page."""
    kinds = [kind for kind, routes in ROUTES.items() if visit.status in routes]
    if visit.is_away:
        kinds.append(CheckInKind.EXTENDED)
    return kinds


def _finish(visit: Visit, *, actor, kind: str, now, minutes=None, fields=()) -> CheckIn:
    visit.save(update_fields=["updated_at", *fields])
    recompute_timer(visit)
    checkin = CheckIn(
        visit=visit, kind=kind, at=now, recorded_by=actor, on_behalf=not is_pair(actor, visit), minutes=minutes
    )
    checkin.full_clean()
    checkin.save()
    who = "on behalf of the pair" if checkin.on_behalf else "by the pair"
    audit(
        actor=actor,
        action=f"checkin.{kind}",
        obj=visit,
        summary=f"{checkin.get_kind_display()} ({who})",
        on_behalf=checkin.on_behalf,
        minutes=minutes,
    )
    return checkin


def _lock_for(actor, visit: Visit) -> Visit:
    locked = Visit.objects.locked(visit)
    if not may_check_in(actor, locked):
        raise PermissionDenied("Only the pair, or the office on their behalf, record their check-ins.")
    return locked


def check_out_refusal(visit: Visit, *, policy, now) -> str:
    """Why the pair may not check out now, in words that say what to do; empty when they may. A check-out long
    before the planned start, or on another day, would set a due-back time nobody would notice passing."""
    start, local_now = visit.local_start, timezone.localtime(now)
    change = "Change the visit's date and time first (a change goes back for a decision), then check out."
    if local_now.date() != start.date():
        return f"This visit is planned for {start:%A %-d %B}, not today. {change}"
    minutes = policy.earliest_checkout_minutes
    earliest = timezone.localtime(start - datetime.timedelta(minutes=minutes))
    if now < earliest:
        return (
            f"This visit is planned to start at {start:%H:%M}: you can check out from {earliest:%H:%M} "
            f"({minutes} minutes before). If you are going now, c{change[1:]}"
        )
    return ""


@transaction.atomic
def visit_check_in(*, visit: Visit, actor, kind: str, now=None) -> CheckIn:
    """Record a status check-in (check out, arrived, left, returned, not returning)."""
    now = now_or(now)
    locked = _lock_for(actor, visit)
    if kind == CheckInKind.CHECKED_OUT:
        blockers = check_out_blockers(locked, actor=actor, now=now)
        if blockers:
            raise ValidationError(blockers)
        policy = locked.school.policy()
        refusal = check_out_refusal(locked, policy=policy, now=now)
        if refusal:
            raise ValidationError(refusal)
    route = ROUTES.get(kind, {}).get(locked.status)
    if route is None:
        raise ValidationError(
            f"You cannot record “{CheckInKind(kind).label}” while the visit is {locked.get_status_display().lower()}."
        )
    note = NOT_RETURNING_NOTE if kind == CheckInKind.NOT_RETURNING else CheckInKind(kind).label
    for status in route:
        _transition(locked, to_status=status, actor=actor, now=now, note=note)
    fields = []
    if kind == CheckInKind.CHECKED_OUT:
        # The start of a safety session: due back re-based on the real departure, the chain frozen as it is now.
        locked.checked_out_at = now
        locked.due_back_at = rebased_due_back(locked, now)
        locked.safety_chain = policy.frozen_chain().to_json()
        fields += ["checked_out_at", "due_back_at", "safety_chain"]
    elif kind == CheckInKind.ARRIVED:
        locked.arrived_at = now
        fields.append("arrived_at")
    if kind in (CheckInKind.LEFT, CheckInKind.RETURNED, CheckInKind.NOT_RETURNING):
        # They are safe and off site: an open on-site alert is answered; once back, so is everything else.
        kinds = [AlertKind.ON_SITE_TOO_LONG] if kind == CheckInKind.LEFT else None
        resolve_open_alerts(visit=locked, actor=actor, outcome=AlertOutcome.RESOLVED_BY_CHECKIN, now=now, kinds=kinds)
    elif kind == CheckInKind.ARRIVED:
        # Someone came to the door after all: the office need not ring the family any more.
        resolve_open_alerts(
            visit=locked, actor=actor, outcome=AlertOutcome.RESOLVED_BY_CHECKIN, now=now, kinds=[AlertKind.NO_ANSWER]
        )
    checkin = _finish(locked, actor=actor, kind=kind, now=now, fields=fields)
    visit.status = locked.status
    return checkin


@transaction.atomic
def visit_extend(*, visit: Visit, actor, minutes: int, now=None) -> CheckIn:
    """'Running late': push the return time back, within the policy's limit on extensions from the field."""
    now = now_or(now)
    locked = _lock_for(actor, visit)
    if not locked.is_away:
        raise ValidationError("You can only extend a visit while you are out.")
    limit = locked.chain().max_extension_minutes
    left = limit - locked.extended_minutes
    if minutes is None or minutes < 1:
        raise ValidationError({"minutes": "Extend by at least one minute."})
    if minutes > left:
        raise ValidationError(
            {
                "minutes": (
                    f"You can extend by at most {left} more minutes (the policy allows "
                    f"{limit} in all). Ring the office to agree a later time."
                )
            }
        )
    locked.extended_minutes += minutes
    new_due = max(locked.due_back, now) + datetime.timedelta(minutes=minutes)
    # They have been in touch: any overdue alerts are answered and the chain starts again from the new time.
    resolve_open_alerts(
        visit=locked, actor=actor, outcome=AlertOutcome.RESOLVED_BY_CHECKIN, now=now, kinds=[AlertKind.OVERDUE]
    )
    start_new_round(locked, due_back=new_due)
    return _finish(
        locked,
        actor=actor,
        kind=CheckInKind.EXTENDED,
        now=now,
        minutes=minutes,
        fields=["extended_minutes", *ROUND_FIELDS],
    )


# --- At the door ------------------------------------------------------------------------------------------------


def doorstep(visit: Visit) -> Doorstep:
    """What is happening at the door, from the visit's check-ins (one query)."""
    return doorstep_of(visit.checkins.filter(kind__in=DOORSTEP_KINDS).select_related("recorded_by"))


def _at_the_door(visit: Visit, kind: str) -> Doorstep:
    """The doorstep steps are for the time between leaving school and going in (or leaving for good)."""
    if visit.status != VisitStatus.OUT:
        raise ValidationError(
            f"“{CheckInKind(kind).label}” is for the door, before you go in: the visit is "
            f"{visit.get_status_display().lower()}."
        )
    state = doorstep(visit)
    if state.letter_posted_at:
        raise ValidationError(
            f"You posted the letter at {timezone.localtime(state.letter_posted_at):%H:%M}: head back, and tap "
            "“Returned to school” when you are there."
        )
    return state


@transaction.atomic
def visit_here(*, visit: Visit, actor, now=None) -> CheckIn:
    """ "I'm here: waiting for my colleague". When staff travel separately both must be there before knocking (000,
    001, 002): the first to arrive waits outside. When the other visitor has already said so, this tap is the
    arrival (both are here); the office's tap on their behalf only records that one of them is there."""
    now = now_or(now)
    locked = _lock_for(actor, visit)
    state = _at_the_door(locked, CheckInKind.HERE)
    pair = {p.user_id for p in locked.people.all() if p.role in (VisitRole.LEAD, VisitRole.SECOND)}
    mine = is_pair(actor, locked)
    if mine and actor.pk in state.here_user_ids:
        raise ValidationError(
            "You have already said you are here. When your colleague arrives, tap “We are both here”."
        )
    if mine and len(pair) == 2 and pair - {actor.pk} <= state.here_user_ids:
        checkin = visit_check_in(visit=locked, actor=actor, kind=CheckInKind.ARRIVED, now=now)
    else:
        checkin = _finish(locked, actor=actor, kind=CheckInKind.HERE, now=now)
    visit.status = locked.status
    return checkin


@transaction.atomic
def visit_parent_late(*, visit: Visit, actor, now=None) -> CheckIn:
    """The parent is running late: wait at most the policy's minutes (001), once per visit. The field page counts
    down and, when the wait runs out, says to post the letter and leave."""
    now = now_or(now)
    locked = _lock_for(actor, visit)
    state = _at_the_door(locked, CheckInKind.PARENT_LATE)
    if state.wait_from:
        until = timezone.localtime(state.wait_until)
        if state.wait_over(now):
            raise ValidationError(
                f"You have waited as long as the policy asks ({state.wait_minutes} minutes, until {until:%H:%M}): "
                "post the letter through the door and leave."
            )
        raise ValidationError(f"You are already waiting for the family: until {until:%H:%M} at most.")
    minutes = locked.school.policy().wait_if_late_minutes
    return _finish(locked, actor=actor, kind=CheckInKind.PARENT_LATE, now=now, minutes=minutes)


@transaction.atomic
def visit_no_answer(*, visit: Visit, actor, now=None) -> CheckIn:
    """Nobody answers the door. Staff do not ring the family from their own phones (001): the office is asked at
    once, by an alert on the board and an email, to ring them; its answer ("they are coming" or "no answer")
    reaches the field page as a check-in (alerts.services.alert_acknowledge)."""
    now = now_or(now)
    locked = _lock_for(actor, visit)
    _at_the_door(locked, CheckInKind.NO_ANSWER)
    if locked.alerts.filter(kind=AlertKind.NO_ANSWER, acknowledged_at__isnull=True).exists():
        raise ValidationError("The office is already ringing the family: their answer will show on this page.")
    checkin = _finish(locked, actor=actor, kind=CheckInKind.NO_ANSWER, now=now)
    store_alert(visit=locked, key=f"no_answer:{checkin.pk}", kind=AlertKind.NO_ANSWER, due_at=now, now=now)
    recompute_timer(locked)
    return checkin


@transaction.atomic
def visit_letter_posted(*, visit: Visit, actor, now=None) -> CheckIn:
    """Nobody in: the letter goes through the letter box (004) and the pair head back. The Home Visit Form then
    starts at "No access: letter posted". The office need not ring the family any more."""
    now = now_or(now)
    locked = _lock_for(actor, visit)
    _at_the_door(locked, CheckInKind.LETTER_POSTED)
    resolve_open_alerts(
        visit=locked, actor=actor, outcome=AlertOutcome.RESOLVED_BY_CHECKIN, now=now, kinds=[AlertKind.NO_ANSWER]
    )
    return _finish(locked, actor=actor, kind=CheckInKind.LETTER_POSTED, now=now)


@transaction.atomic
def visit_child_in_danger(*, visit: Visit, actor, now=None) -> CheckIn:
    """A child alone, unsupervised or in danger (000, 002): the school's DSLs and Principal are told at once by text
    and email (nothing about the child: a link to the visit), and the board shows that a DSL is needed, without
    details. 999 for immediate danger is the pair's own call, from the field page; the concern itself is written
    on the concern form, which only the DSLs and the Principal read. A second tap while the alert is open is
    recorded on the timeline and sends nothing more."""
    now = now_or(now)
    locked = _lock_for(actor, visit)
    if not locked.is_away:
        raise ValidationError(
            "This is for while you are out on the visit. Back at school, speak to a DSL now and raise a concern."
        )
    checkin = _finish(locked, actor=actor, kind=CheckInKind.CHILD_DANGER, now=now)
    if not locked.alerts.filter(kind=AlertKind.CHILD_DANGER, acknowledged_at__isnull=True).exists():
        store_alert(visit=locked, key=f"child_danger:{checkin.pk}", kind=AlertKind.CHILD_DANGER, due_at=now, now=now)
        recompute_timer(locked)
    return checkin


# --- Undoing a return tapped by mistake ------------------------------------------------------------------------

UNDO_WINDOW = datetime.timedelta(minutes=2)
RETURNS = (CheckInKind.RETURNED, CheckInKind.NOT_RETURNING)


def undo_until(visit: Visit, checkins=None) -> datetime.datetime | None:
    """Until when the visit's return may be undone (None: there is none to undo). `checkins`: the visit's,
    prefetched; otherwise read."""
    if visit.status != VisitStatus.RETURNED:
        return None
    rows = checkins if checkins is not None else visit.checkins.filter(kind__in=RETURNS)
    back = max((c for c in rows if c.kind in RETURNS), key=lambda c: (c.at, c.pk), default=None)
    return back.at + UNDO_WINDOW if back else None


@transaction.atomic
def visit_undo_return(*, visit: Visit, actor, now=None) -> CheckIn:
    """Undo "Returned to school" or "Not returning" within two minutes of the tap: the visit goes back to where it
    was, and the alerts the return answered are open again (and sent again now), so the sweep alerts as if the
    return never happened. Both the return and its undoing stay on the timeline. Duress and child-in-danger
    alerts are never touched: a return does not close them, so an undo has nothing to reopen."""
    now = now_or(now)
    locked = _lock_for(actor, visit)
    back = locked.checkins.filter(kind__in=RETURNS).order_by("-at", "-pk").first()
    if locked.status != VisitStatus.RETURNED or back is None:
        raise ValidationError(f"There is no return to undo: the visit is {locked.get_status_display().lower()}.")
    if now > back.at + UNDO_WINDOW:
        raise ValidationError(
            f"“{back.get_kind_display()}” was recorded at {timezone.localtime(back.at):%H:%M}: it can be undone for "
            "two minutes only. If you are not back at school, ring the office now."
        )
    before = _status_before(locked, back)
    _transition(locked, to_status=before, actor=actor, now=now, note=f"Undone: “{back.get_kind_display()}”")
    _reopen_alerts_closed_by(locked, back, actor=actor, now=now)
    checkin = _finish(locked, actor=actor, kind=CheckInKind.RETURN_UNDONE, now=now)
    visit.status = locked.status
    return checkin


def _status_before(visit: Visit, back: CheckIn) -> str:
    """Where the visit was when the return was tapped: the status its first move (at the same moment, e.g. on site
    -> left -> returned) started from."""
    status = VisitStatus.RETURNED
    for move in visit.transitions.filter(at=back.at).order_by("-pk"):
        if move.to_status != status:
            break
        status = move.from_status
    if status == VisitStatus.RETURNED:
        raise ValidationError("This return cannot be undone: ring the office.")
    return status


def _reopen_alerts_closed_by(visit: Visit, back: CheckIn, *, actor, now) -> None:
    closed = visit.alerts.filter(
        outcome=AlertOutcome.RESOLVED_BY_CHECKIN, acknowledged_at=back.at, acknowledged_by=back.recorded_by_id
    ).exclude(kind__in=CLOSED_BY_A_PERSON)
    for alert in closed:
        # An overdue step that a later one had taken over stays quiet, as store_alert left it.
        taken_over = (
            alert.kind == AlertKind.OVERDUE
            and alert.step_order is not None
            and visit.alerts.filter(
                kind=AlertKind.OVERDUE, step_order__gt=alert.step_order, raised_at__gte=alert.raised_at
            ).exists()
        )
        VisitAlert.objects.filter(pk=alert.pk).update(
            acknowledged_at=None, acknowledged_by=None, outcome="", next_repeat_at=None if taken_over else now
        )
        audit(
            actor=actor,
            action="alert.reopen",
            obj=alert,
            school=visit.school,
            summary=f"{alert.title}: open again, the return was undone",
        )


# --- The one door: every check-in, however it comes ------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    latitude: decimal.Decimal
    longitude: decimal.Decimal
    accuracy_m: int | None = None


@dataclass(frozen=True)
class Received:
    checkin: CheckIn
    replay: bool  # the phone had sent it before: this is the first result, and nothing changed


# What each kind of check-in does (the discreet duress control's kind is DURESS; LATE is EXTENDED, with minutes).
DOORSTEP_VERBS = {
    CheckInKind.HERE: visit_here,
    CheckInKind.PARENT_LATE: visit_parent_late,
    CheckInKind.NO_ANSWER: visit_no_answer,
    CheckInKind.LETTER_POSTED: visit_letter_posted,
    CheckInKind.CHILD_DANGER: visit_child_in_danger,
    CheckInKind.RETURN_UNDONE: visit_undo_return,
}
RECEIVABLE = frozenset({*ROUTES, *DOORSTEP_VERBS, CheckInKind.EXTENDED, CheckInKind.DURESS})
# A phone's clock further out than this is not worth showing beside the server's.
PHONE_CLOCK_LIMIT = datetime.timedelta(days=7)


def _first_result(client_id, visit: Visit) -> CheckIn | None:
    first = CheckIn.objects.filter(client_id=client_id).first()
    if first is not None and first.visit_id != visit.pk:
        raise ValidationError("This check-in was sent for another visit.")
    return first


@transaction.atomic
def checkin_receive(
    *,
    visit: Visit,
    actor,
    kind: str,
    client_id: uuid.UUID | None = None,
    phone_at: datetime.datetime | None = None,
    minutes: int | None = None,
    location: Location | None = None,
    now=None,
) -> Received:
    """The one door for a check-in, however it comes: a tap on the field page, a tap queued on a phone with no
    signal and sent when the signal returns (perhaps more than once), or a text message. It is recorded by the
    kind's own verb, at the server's time (`now`); the phone's id makes it happen once (a replay returns the first
    result, changing nothing), and the phone's clock (`phone_at`) and location, if its visitor allows it, are kept
    beside it. A refusal raises ValidationError and records nothing, as the verbs do."""
    now = now_or(now)
    if kind not in RECEIVABLE:
        raise ValidationError("Choose a check-in.")
    if client_id and (first := _first_result(client_id, visit)):
        return Received(checkin=first, replay=True)
    locked = _lock_for(actor, visit)
    # A copy of the same tap sent alongside waited for the lock: it finds the first one now.
    if client_id and (first := _first_result(client_id, visit)):
        return Received(checkin=first, replay=True)
    if kind == CheckInKind.DURESS:
        visit_raise_duress(visit=locked, actor=actor, from_office=False, now=now)
        checkin = locked.checkins.filter(kind=kind, recorded_by=actor, at=now).order_by("-pk").first()
    elif kind == CheckInKind.EXTENDED:
        checkin = visit_extend(visit=locked, actor=actor, minutes=minutes, now=now)
    elif kind in ROUTES:
        checkin = visit_check_in(visit=locked, actor=actor, kind=kind, now=now)
    else:
        checkin = DOORSTEP_VERBS[kind](visit=locked, actor=actor, now=now)
    visit.status = locked.status
    extra = {}
    if client_id:
        extra["client_id"] = client_id
    if phone_at and abs(phone_at - now) <= PHONE_CLOCK_LIMIT:
        extra["phone_at"] = phone_at
    if location:
        extra.update(latitude=location.latitude, longitude=location.longitude, accuracy_m=location.accuracy_m)
    if extra:
        try:
            with transaction.atomic():
                CheckIn.objects.filter(pk=checkin.pk).update(**extra)
        except IntegrityError as clash:  # the same id for another visit, sent alongside
            raise ValidationError("This check-in was sent for another visit.") from clash
        for name, value in extra.items():
            setattr(checkin, name, value)
    if location:
        audit(
            actor=actor,
            action="checkin.location",
            obj=locked,
            summary=f"{checkin.get_kind_display()}: the phone's location attached (the visitor allows it)",
        )
    return Received(checkin=checkin, replay=False)


# --- Locations are kept for the policy's days, then removed -----------------------------------------------------


@transaction.atomic
def checkin_locations_remove_expired(*, now=None) -> int:
    """Remove the phone's location from every check-in older than its school's `location_keep_days` (the check-in
    itself stays: only where the phone was goes). Run daily (tasks.py); safe to run twice. One audit row per school
    that had any. Returns how many check-ins lost their location."""
    now = now_or(now)
    located = CheckIn.objects.filter(latitude__isnull=False)
    removed = 0
    for school in School.objects.filter(visits__checkins__latitude__isnull=False).distinct():
        days = school.policy().location_keep_days
        cutoff = now - datetime.timedelta(days=days)
        count = located.filter(visit__school=school, at__lt=cutoff).update(
            latitude=None, longitude=None, accuracy_m=None
        )
        if count:
            removed += count
            audit(
                actor=None,
                action="checkin.locations_removed",
                obj=school,
                school=school,
                summary=f"Removed the phone's location from {count} check-ins older than {days} days",
                count=count,
                days=days,
            )
    return removed
