"""The sweep that raises overdue and on-site-too-long alerts, and its heartbeat (after healthchecks' sendalerts).

Each visit stores when its next alert is due (`Visit.alert_due_at`, a partial index on away visits). The sweep
claims due rows with row locks that skip locked rows and a compare-and-swap update, and stores each alert under
a key unique per visit and step, so several workers never raise one twice. Each alert queues one notification
per recipient and channel (delivery.py sends them)."""

import datetime
import logging
import math
import threading
import time
import urllib.request

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
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

logger = logging.getLogger(__name__)


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


# A visit whose sweep raised an error is looked at again this long after (meanwhile the board says "ring them"),
# so it is never claimed first on every run and cannot hold up the visits behind it.
RETRY_FAILED_VISIT_AFTER = datetime.timedelta(seconds=30)


def alerts_sweep(*, now: datetime.datetime | None = None, batch: int = 50) -> int:
    """Raise every alert that has fallen due. Safe to run in several workers at once. Returns alerts raised.

    Each visit is swept inside its own savepoint: one that raises is rolled back alone, logged, marked on the
    board and set aside; every other due visit is still alerted in this sweep."""
    now = now or timezone.now()
    raised, failed, policies = 0, 0, {}
    while True:
        with transaction.atomic():
            claimed = list(
                Visit.objects.filter(status__in=AWAY, alert_due_at__lte=now)
                .select_related("school")
                .order_by("alert_due_at")
                .select_for_update(skip_locked=True, of=("self",))[:batch]
            )
            for visit in claimed:
                try:
                    with transaction.atomic():
                        if visit.school_id not in policies:
                            policies[visit.school_id] = visit.school.policy()
                        count = _sweep_one(visit, policies[visit.school_id], now)
                except Exception as error:  # noqa: BLE001 - one bad visit must not stop alerting for the rest
                    failed += 1
                    _set_aside(visit, error, now)
                    continue
                raised += count
                if visit.alerting_failed_at:
                    _clear_failure(visit)
        if len(claimed) < batch:
            break
    # Reached only once every batch has committed: a sweep whose work was rolled back leaves no heartbeat.
    _beat_heart()
    if not failed:
        ping_dead_mans_switch()
    return raised


def _set_aside(visit: Visit, error: Exception, now: datetime.datetime) -> None:
    logger.exception("Raising the alerts of visit %s failed; set aside and retried shortly", visit.pk)
    message = f"{error.__class__.__name__}: {error}"[:300]
    Visit.objects.filter(pk=visit.pk).update(
        alerting_failed_at=Coalesce(F("alerting_failed_at"), now),
        alerting_error=message,
        alert_due_at=now + RETRY_FAILED_VISIT_AFTER,
        updated_at=timezone.now(),
    )
    audit(
        actor=None,
        action="alert.sweep_failed",
        obj=visit,
        school=visit.school,
        summary=f"Raising the alerts of visit {visit.pk} failed: {message}",
        visit_id=visit.pk,
    )
    board_changed()


def _clear_failure(visit: Visit) -> None:
    Visit.objects.filter(pk=visit.pk).update(alerting_failed_at=None, alerting_error="", updated_at=timezone.now())
    board_changed()


def _beat_heart() -> None:
    now = timezone.now()
    beats = SweepHeartbeat.objects.filter(name=HEARTBEAT_NAME)
    if beats.filter(last_run_at__gte=now - sweep_stale_after()).update(last_run_at=now, runs=F("runs") + 1):
        return
    # Back after a gap (or the first run): the boards still say "degraded" until they hear it has recovered.
    if not beats.update(last_run_at=now, runs=F("runs") + 1):
        SweepHeartbeat.objects.get_or_create(name=HEARTBEAT_NAME, defaults={"last_run_at": now, "runs": 1})
    board_changed()


_ping_lock = threading.Lock()
_last_ping = [-math.inf]  # time.monotonic() of the last ping this process sent


def ping_dead_mans_switch() -> threading.Thread | None:
    """GET ALERT_SWEEP_PING_URL (a monitor outside the system, such as healthchecks.io, that raises the alarm
    when the pings stop), at most every ALERT_SWEEP_PING_EVERY_SECONDS per process. In a thread of its own with
    a short timeout: a slow or dead monitor never delays or fails a sweep. Returns the thread, if it started one."""
    url = settings.ALERT_SWEEP_PING_URL
    if not url:
        return None
    with _ping_lock:
        if time.monotonic() - _last_ping[0] < settings.ALERT_SWEEP_PING_EVERY_SECONDS:
            return None
        _last_ping[0] = time.monotonic()
    thread = threading.Thread(
        target=_ping, args=(url, settings.ALERT_SWEEP_PING_TIMEOUT_SECONDS), name="alert-sweep-ping", daemon=True
    )
    thread.start()
    return thread


def _ping(url: str, timeout: float) -> None:
    try:
        # The settings refuse any scheme but http(s).
        urllib.request.urlopen(url, timeout=timeout).close()  # noqa: S310
    except Exception as error:  # noqa: BLE001 - the monitor itself will notice the missing ping
        logger.warning("Pinging the alert sweep's monitor failed: %s", error)


def sweep_stale_after() -> datetime.timedelta:
    """Alerting counts as degraded when the sweep has not run for two intervals (with a floor: see settings)."""
    seconds = max(2 * settings.ALERT_SWEEP_INTERVAL_SECONDS, settings.ALERT_SWEEP_STALE_FLOOR_SECONDS)
    return datetime.timedelta(seconds=seconds)


def sweep_status(now: datetime.datetime | None = None) -> dict:
    """{'ok': bool, 'last_run_at': datetime | None, 'message': str, 'failed_visits': int} for the board and
    /healthz: ok while the sweep runs; failed_visits counts the visits out whose alerting failed."""
    now = now or timezone.now()
    beat = SweepHeartbeat.objects.filter(name=HEARTBEAT_NAME).first()
    if beat is None:
        return {"ok": False, "failed_visits": 0, "last_run_at": None, "message": "the alert sweep has never run"}
    age = (now - beat.last_run_at).total_seconds()
    if now - beat.last_run_at > sweep_stale_after():
        return {
            "ok": False,
            "failed_visits": 0,
            "last_run_at": beat.last_run_at,
            "message": f"the alert sweep last ran {age:.0f}s ago",
        }
    failed = Visit.objects.filter(status__in=AWAY, alerting_failed_at__isnull=False).count()
    if failed:
        # The sweep runs, so the board's "degraded" banner stays off; each such row says "ring them" and
        # /healthz answers 503 so that whoever watches it hears of it too.
        return {
            "ok": True,
            "failed_visits": failed,
            "last_run_at": beat.last_run_at,
            "message": f"alerting failed for {failed} visit(s): ring them",
        }
    return {"ok": True, "failed_visits": 0, "last_run_at": beat.last_run_at, "message": "ok"}
