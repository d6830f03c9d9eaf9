"""Overdue, on-site-too-long and duress alerts: the sweep that raises them, their delivery, and the office's
acknowledgements. Services, called by views and by the thin Celery tasks in visits/tasks.py.

Reliability (issue 5, after healthchecks' sendalerts): each visit stores when its next alert is due
(`Visit.alert_due_at`, partial index on away visits). A periodic sweep claims due rows with row locks that
skip locked rows (PostgreSQL) and a compare-and-swap update (every database), and stores each alert under a
key unique per visit and step. Notifications are an outbox with one row per recipient and channel, sent at
least once; a row marked sent is never sent again.
"""

import datetime
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.audit import audit
from core.models import EscalationAction
from core.roles import Role

from .changes import board_changed
from .lifecycle import AWAY
from .models import (
    AlertKind,
    AlertNotification,
    AlertOutcome,
    CheckIn,
    CheckInKind,
    NotificationChannel,
    SweepHeartbeat,
    Visit,
    VisitAlert,
    VisitRole,
)
from .sms import send_sms

logger = logging.getLogger(__name__)

HEARTBEAT_NAME = "alert-sweep"
MAX_SEND_ATTEMPTS = 10


# --- raising alerts ---------------------------------------------------------------------------------------


def _recipients(visit: Visit, roles: set[str]) -> list:
    """Active users with any of `roles` at the visit's school, with their profiles."""
    return list(
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=roles, profile__schools=visit.school_id)
        .select_related("profile")
        .distinct()
    )


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


def _store_alert(*, visit: Visit, key: str, kind: str, due_at, now, action: str = "", step_order=None):
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
    return sum(1 for a in due if _store_alert(visit=visit, now=now, **a))


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


# --- delivery -----------------------------------------------------------------------------------------------


def alert_message(alert: VisitAlert) -> tuple[str, str]:
    """Subject and body. Need to know: who, where, due back, phone, vehicle; never the reason or reports."""
    visit = alert.visit
    names = " and ".join(p.name for p in visit.people.all())
    local_due = timezone.localtime(visit.due_back)
    subject = f"[Home visits] {alert.title}: {names}"
    lines = [
        f"{alert.title}.",
        f"Visitors: {names}.",
        f"Address: {visit.household.address}.",
        f"Due back: {local_due:%H:%M} on {local_due:%d %b}.",
        f"Lead's mobile: {visit.lead_mobile or 'not given'}.",
        f"Vehicle: {visit.vehicle or 'not given'}.",
        "Open the board to acknowledge what you did.",
    ]
    return subject, "\n".join(lines)


def _send(notification: AlertNotification) -> None:
    subject, body = alert_message(notification.alert)
    if notification.channel == NotificationChannel.EMAIL:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [notification.recipient])
    else:
        send_sms(to=notification.recipient, body=f"{subject}\n{body}"[:600])


def notifications_deliver(*, limit: int = 100) -> int:
    """Send unsent notifications; each row is claimed under a lock that others skip, then marked sent.

    A crash between sending and the commit leaves the row unsent, so it is sent again (at least once);
    a row once marked sent is never sent again.
    """
    sent = 0
    with transaction.atomic():
        rows = list(
            AlertNotification.objects.filter(sent_at__isnull=True, attempts__lt=MAX_SEND_ATTEMPTS)
            .select_related("alert__visit__household")
            .prefetch_related("alert__visit__people__user")
            .order_by("created_at")
            .select_for_update(skip_locked=True, of=("self",))[:limit]
        )
        for row in rows:
            row.attempts += 1
            try:
                _send(row)
            except Exception as error:  # noqa: BLE001 - one failing recipient must not stop the rest
                logger.exception("Sending %s failed", row)
                row.last_error = f"{error.__class__.__name__}: {error}"[:300]
            else:
                row.sent_at = timezone.now()
                sent += 1
            row.save(update_fields=["attempts", "sent_at", "last_error"])
    return sent


# --- acknowledging, resolving and duress --------------------------------------------------------------------


def _lock(visit: Visit) -> Visit:
    return Visit.objects.select_for_update().select_related("school").get(pk=visit.pk)


def resolve_open_alerts(*, visit: Visit, actor, outcome: str, now, kinds=None) -> int:
    """Close the visit's open alerts (a check-in or 'all fine' answers them). Call with the visit locked."""
    open_alerts = visit.alerts.filter(acknowledged_at__isnull=True)
    if kinds:
        open_alerts = open_alerts.filter(kind__in=kinds)
    return open_alerts.update(acknowledged_at=now, acknowledged_by=actor, outcome=outcome)


def start_new_round(visit: Visit, *, due_back: datetime.datetime) -> None:
    """A new return time: the overdue chain starts again from its first step if they are late again."""
    visit.due_back_at = due_back
    visit.overdue_round += 1
    visit.escalation_level = 0


@transaction.atomic
def alert_acknowledge(
    *,
    alert: VisitAlert,
    actor,
    outcome: str,
    new_return: datetime.datetime | None = None,
    police_reference: str = "",
    note: str = "",
) -> VisitAlert:
    """The office says what it did about an alert. 'Rang, all fine' with a new return time resolves the visit's
    overdue alerts and restarts the chain; 'no answer' and 'police called' leave the chain running."""
    now = timezone.now()
    visit = _lock(alert.visit)
    alert = VisitAlert.objects.select_for_update().get(pk=alert.pk)
    if alert.acknowledged_at:
        raise ValidationError("This alert has already been acknowledged.")
    if outcome not in {
        AlertOutcome.RANG_ALL_FINE,
        AlertOutcome.RANG_NO_ANSWER,
        AlertOutcome.POLICE_CALLED,
        AlertOutcome.CHECKED_FINE,
    }:
        raise ValidationError({"outcome": "Choose what you did."})
    police_reference = police_reference.strip()
    if outcome == AlertOutcome.POLICE_CALLED and not police_reference:
        raise ValidationError({"police_reference": "Give the police reference number."})
    if outcome == AlertOutcome.RANG_ALL_FINE:
        if new_return is None:
            raise ValidationError({"new_return": "Give the new return time they agreed."})
        if new_return <= now:
            raise ValidationError({"new_return": "The new return time must be in the future."})
    alert.acknowledged_at, alert.acknowledged_by, alert.outcome = now, actor, outcome
    alert.police_reference, alert.note = police_reference, note.strip()
    alert.full_clean()
    alert.save()
    if outcome == AlertOutcome.RANG_ALL_FINE and visit.is_away:
        resolve_open_alerts(
            visit=visit,
            actor=actor,
            outcome=AlertOutcome.RANG_ALL_FINE,
            now=now,
            kinds=[AlertKind.OVERDUE, AlertKind.ON_SITE_TOO_LONG],
        )
        start_new_round(visit, due_back=new_return)
        visit.alert_due_at = visit.next_alert_due(visit.school.policy())
        visit.save(update_fields=["due_back_at", "overdue_round", "escalation_level", "alert_due_at", "updated_at"])
    board_changed()
    audit(
        actor=actor,
        action="alert.acknowledge",
        obj=alert,
        school=visit.school,
        summary=f"{alert.title}: {alert.get_outcome_display()}",
        outcome=outcome,
        police_reference=police_reference,
        new_return=new_return.isoformat() if new_return else None,
    )
    return alert


@transaction.atomic
def visit_raise_duress(*, visit: Visit, actor, from_office: bool) -> VisitAlert:
    """The code word, from the field's discreet control or the office's button: the top escalation at once.
    A second press while one is open adds nothing (the office is already acting)."""
    now = timezone.now()
    visit = _lock(visit)
    if not visit.is_away:
        raise ValidationError("Duress alerts are for visits that are out.")
    kind = CheckInKind.OFFICE_CODE_WORD if from_office else CheckInKind.DURESS
    pair = set(visit.people.filter(role__in=[VisitRole.LEAD, VisitRole.SECOND]).values_list("user_id", flat=True))
    checkin = CheckIn.objects.create(visit=visit, kind=kind, at=now, recorded_by=actor, on_behalf=actor.pk not in pair)
    existing = visit.alerts.filter(kind=AlertKind.DURESS, acknowledged_at__isnull=True).first()
    if existing:
        return existing
    alert = _store_alert(
        visit=visit,
        key=f"duress:{checkin.pk}",
        kind=AlertKind.DURESS,
        due_at=now,
        now=now,
        action=EscalationAction.POLICE_PROMPT,
    )
    audit(actor=actor, action="visit.duress", obj=visit, summary="Duress alert raised", from_office=from_office)
    return alert
