"""The sweep that raises overdue and on-site-too-long alerts, and its heartbeat (after healthchecks' sendalerts).

Each visit stores when its next alert is due (`Visit.alert_due_at`, a partial index on away visits). The sweep
claims due rows with row locks that skip locked rows and a compare-and-swap update, and stores each alert under
a key unique per visit and step, so several workers never raise one twice. Each alert queues one notification
per recipient and channel (delivery.py sends them)."""

import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.audit import audit
from core.models import EscalationAction
from core.roles import Role
from core.selectors import users_with_role

from ..changes import board_changed
from ..lifecycle import AWAY
from ..models import (
    AlertKind,
    AlertNotification,
    NotificationChannel,
    SweepHeartbeat,
    Visit,
    VisitAlert,
)

HEARTBEAT_NAME = "alert-sweep"


def _recipients(visit: Visit, roles: set[str]) -> list:
    """Active users with any of `roles` at the visit's school, with their profiles."""
    return list(users_with_role(school=visit.school_id, roles=roles).select_related("profile"))


def _audience(alert: VisitAlert) -> tuple[set[str], bool]:
    """Who hears of an alert, and whether by text as well as email (the board shows every alert)."""
    senior = {Role.DSL, Role.PRINCIPAL}
    if alert.kind == AlertKind.DURESS or alert.action == EscalationAction.POLICE_PROMPT:
        return {Role.OFFICE} | senior, True
    if alert.action == EscalationAction.ALERT_SENIOR:
        return senior, True
    return {Role.OFFICE}, False


def _queue_notifications(alert: VisitAlert, now: datetime.datetime) -> None:
    roles, by_text = _audience(alert)
    rows = []
    for user in _recipients(alert.visit, roles):
        if user.email:
            rows.append(
                AlertNotification(alert=alert, channel=NotificationChannel.EMAIL, recipient=user.email, created_at=now)
            )
        mobile = getattr(user.profile, "mobile", None)
        if by_text and mobile:
            rows.append(
                AlertNotification(
                    alert=alert, channel=NotificationChannel.SMS, recipient=mobile.as_e164, created_at=now
                )
            )
    AlertNotification.objects.bulk_create(rows, ignore_conflicts=True)


def store_alert(*, visit: Visit, key: str, kind: str, due_at, now, action: str = "", step_order=None):
    """Store the alert once: a second attempt with the same key (another worker, a retry) changes nothing."""
    try:
        with transaction.atomic():
            # raised_at is the moment of storing, not the sweep's start: what the latency figures measure.
            alert = VisitAlert.objects.create(
                visit=visit,
                key=key,
                kind=kind,
                action=action,
                step_order=step_order,
                due_at=due_at,
                raised_at=timezone.now(),
            )
    except IntegrityError:
        return None
    board_changed()
    audit(
        actor=None,
        action="alert.raise",
        obj=alert,
        school=visit.school,
        summary=f"{alert.title} for visit {visit.pk}",
        visit_id=visit.pk,
        key=key,
    )
    _queue_notifications(alert, now)
    return alert


def _due_alerts(visit: Visit, policy, now) -> list[dict]:
    """Every alert due by `now` that this visit has not raised yet, earliest first (a sweep that was down
    catches up: all the steps that fell due while it was away are raised at once)."""
    due = []
    steps = policy.escalation_steps
    overdue_at = visit.overdue_at(policy)
    for index in range(visit.escalation_level, len(steps)):
        step = steps[index]
        at = overdue_at + datetime.timedelta(minutes=step.delay_minutes)
        if at > now:
            break
        due.append(
            dict(
                key=f"overdue:{visit.overdue_round}:{index}",
                kind=AlertKind.OVERDUE,
                due_at=at,
                action=step.action,
                step_order=index,
            )
        )
    on_site_at = visit.on_site_too_long_at(policy)
    if on_site_at and not visit.on_site_alert_raised and on_site_at <= now:
        due.append(
            dict(key=f"on_site:{int(visit.arrived_at.timestamp())}", kind=AlertKind.ON_SITE_TOO_LONG, due_at=on_site_at)
        )
    return sorted(due, key=lambda a: a["due_at"])


def _sweep_one(visit: Visit, policy, now) -> int:
    """Raise what is due for one claimed visit. The compare-and-swap makes a second claimant a no-op."""
    due = _due_alerts(visit, policy, now)
    level = visit.escalation_level + sum(1 for a in due if a["kind"] == AlertKind.OVERDUE)
    on_site_raised = visit.on_site_alert_raised or any(a["kind"] == AlertKind.ON_SITE_TOO_LONG for a in due)
    before = dict(
        status=visit.status,
        escalation_level=visit.escalation_level,
        overdue_round=visit.overdue_round,
        on_site_alert_raised=visit.on_site_alert_raised,
        due_back_at=visit.due_back_at,
    )
    visit.escalation_level, visit.on_site_alert_raised = level, on_site_raised
    next_due = visit.next_alert_due(policy)
    swapped = Visit.objects.filter(pk=visit.pk, **before).update(
        escalation_level=level, on_site_alert_raised=on_site_raised, alert_due_at=next_due
    )
    if swapped != 1:
        return 0  # Another sweep, or a check-in, changed the visit first: it has recomputed the timer itself.
    return sum(1 for a in due if store_alert(visit=visit, now=now, **a))


def alerts_sweep(*, now: datetime.datetime | None = None, batch: int = 50) -> int:
    """Raise every alert that has fallen due. Safe to run in several workers at once. Returns alerts raised."""
    now = now or timezone.now()
    raised, policies = 0, {}
    while True:
        with transaction.atomic():
            claimed = list(
                Visit.objects.filter(status__in=AWAY, alert_due_at__lte=now)
                .select_related("school")
                .order_by("alert_due_at")
                .select_for_update(skip_locked=True, of=("self",))[:batch]
            )
            for visit in claimed:
                if visit.school_id not in policies:
                    policies[visit.school_id] = visit.school.policy()
                raised += _sweep_one(visit, policies[visit.school_id], now)
        if len(claimed) < batch:
            break
    _beat_heart()
    return raised


def _beat_heart() -> None:
    now = timezone.now()
    beats = SweepHeartbeat.objects.filter(name=HEARTBEAT_NAME)
    if beats.filter(last_run_at__gte=now - sweep_stale_after()).update(last_run_at=now, runs=F("runs") + 1):
        return
    # Back after a gap (or the first run): the boards still say "degraded" until they hear it has recovered.
    if not beats.update(last_run_at=now, runs=F("runs") + 1):
        SweepHeartbeat.objects.get_or_create(name=HEARTBEAT_NAME, defaults={"last_run_at": now, "runs": 1})
    board_changed()


def sweep_stale_after() -> datetime.timedelta:
    """Alerting counts as degraded when the sweep has not run for two intervals (with a floor: see settings)."""
    seconds = max(2 * settings.ALERT_SWEEP_INTERVAL_SECONDS, settings.ALERT_SWEEP_STALE_FLOOR_SECONDS)
    return datetime.timedelta(seconds=seconds)


def sweep_status(now: datetime.datetime | None = None) -> dict:
    """{'ok': bool, 'last_run_at': datetime | None, 'message': str} for the board and /healthz."""
    now = now or timezone.now()
    beat = SweepHeartbeat.objects.filter(name=HEARTBEAT_NAME).first()
    if beat is None:
        return {"ok": False, "last_run_at": None, "message": "the alert sweep has never run"}
    age = (now - beat.last_run_at).total_seconds()
    if now - beat.last_run_at > sweep_stale_after():
        return {"ok": False, "last_run_at": beat.last_run_at, "message": f"the alert sweep last ran {age:.0f}s ago"}
    return {"ok": True, "last_run_at": beat.last_run_at, "message": "ok"}
