"""Field check-ins (services): check out, arrive, leave, return, not returning, running late.

The pair record them from a phone; the office records them on their behalf from a call (`CheckIn.recorded_by`
keeps who). Each one locks the visit, moves its status through the lifecycle, recomputes the alert timer
(`Visit.alert_due_at`) and writes its audit row, all in one transaction, so a check-in racing the sweep either
lands first (the sweep then finds nothing due) or waits for the sweep's lock and answers what it raised.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core.audit import audit

from ..alerts.services import ROUND_FIELDS, rebased_due_back, recompute_timer, resolve_open_alerts, start_new_round
from ..departure.services import check_out_blockers
from ..lifecycle import _transition, now_or
from ..models import AlertKind, AlertOutcome, CheckIn, CheckInKind, Visit, VisitStatus
from ..permissions import is_pair, may_check_in

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
