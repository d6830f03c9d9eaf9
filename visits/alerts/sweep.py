"""The sweep that raises overdue and on-site-too-long alerts, repeats and climbs unanswered ones, queues the lead's
reminder, and its heartbeat (after healthchecks' sendalerts).

Each visit stores when the sweep must next look at it (`Visit.alert_due_at`, a partial index on away visits),
worked out from the chain frozen onto it at check-out (`Visit.safety_chain`), never the live policy. The sweep
claims due rows with row locks that skip locked rows and a compare-and-swap update, and stores each alert under a
key unique per visit and step, so several workers never raise one twice. Every message is an outbox row
(AlertNotification) unique per visit, key, channel and recipient: at least once, never twice (delivery.py sends
them)."""

import datetime
import logging
import math
import threading
import time
import urllib.request

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from phonenumber_field.phonenumber import PhoneNumber

from core.audit import audit
from core.models import EscalationAction
from core.selectors import step_audience, users_with_role

from ..changes import board_changed
from ..lifecycle import AWAY
from ..models import (
    AlertKind,
    AlertNotification,
    NotificationChannel,
    SweepHeartbeat,
    Visit,
    VisitAlert,
    VisitRole,
)

HEARTBEAT_NAME = "alert-sweep"

logger = logging.getLogger(__name__)


def _recipients(visit: Visit, roles) -> list:
    """Active users with any of `roles` at the visit's school, with their profiles."""
    return list(users_with_role(school=visit.school_id, roles=roles).select_related("profile"))


def _audience(alert: VisitAlert) -> tuple[set[str], bool]:
    """Who hears of an alert, and whether by text as well as email (the board shows every alert)."""
    if alert.kind == AlertKind.DURESS:
        roles, by_text = step_audience(EscalationAction.POLICE_PROMPT)
    elif alert.kind == AlertKind.CHILD_DANGER:
        roles, by_text = step_audience(EscalationAction.ALERT_SENIOR)
    else:
        roles, by_text = step_audience(alert.action or EscalationAction.RING_LEAD)
    return set(roles), by_text


def _next_audience(alert: VisitAlert) -> tuple[set[str], bool]:
    """The people an unanswered alert climbs to: its own and the next step's (the senior team after an on-site
    alert). The last step, and duress, stay with their own (already the widest)."""
    own, own_text = _audience(alert)
    following = None
    if alert.kind == AlertKind.ON_SITE_TOO_LONG:
        following = EscalationAction.ALERT_SENIOR
    elif alert.kind == AlertKind.OVERDUE and alert.step_order is not None:
        steps = alert.visit.chain().steps
        if alert.step_order + 1 < len(steps):
            following = steps[alert.step_order + 1].action
    if following is None:
        return own, own_text
    roles, by_text = step_audience(following)
    return own | roles, own_text or by_text


def _mobile(user):
    mobile = getattr(getattr(user, "profile", None), "mobile", None)
    return mobile.as_e164 if mobile else None


def field_link(visit: Visit) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("visits:field", args=[visit.pk])


def visit_link(visit: Visit) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("visits:detail", args=[visit.pk])


def family_phones(household) -> list[tuple[str, PhoneNumber]]:
    """(who, number) to ring when nobody answers the door: the carers with parental responsibility who have a
    phone, then the household's own number. From prefetched carers when there are any."""
    phones = [
        (f"{c.addressed_as} ({c.relationship})", c.phone)
        for c in household.carers.all()
        if c.parental_responsibility and c.phone
    ]
    if household.phone:
        phones.append(("Home", household.phone))
    return phones


def alert_message(alert: VisitAlert, round_number: int = 0) -> tuple[str, str]:
    """Subject and body. Need to know: who, where, due back, phone, vehicle; never the reason or reports, nor
    anything about a child (a child-in-danger alert says only that the visitors need a DSL, with a link)."""
    visit = alert.visit
    names = " and ".join(p.name for p in visit.people.all())
    local_due = timezone.localtime(visit.due_back)
    again = f" (still unanswered, round {round_number + 1})" if round_number else ""
    subject = f"[Home visits] {alert.title}{again}: {names}"
    lines = [
        f"{alert.title}.",
        f"Visitors: {names}.",
        f"Address: {visit.household.address}.",
        f"Due back: {local_due:%H:%M} on {local_due:%d %b}.",
        f"Lead's mobile: {visit.lead_mobile or 'not given'}.",
        f"Vehicle: {visit.vehicle or 'not given'}.",
        "Nobody has acknowledged this yet." if round_number else "",
    ]
    if alert.kind == AlertKind.NO_ANSWER:
        phones = "; ".join(f"{who}: {number}" for who, number in family_phones(visit.household))
        lines.append(f"Ring the family now: {phones or 'no number on record'}. Say the visitors are at the door.")
        lines.append("Then record on the board what they said: the visitors read it on their phones.")
    elif alert.kind == AlertKind.CHILD_DANGER:
        lines.append(f"Ring the lead now. The visit: {visit_link(visit)}")
    else:
        lines.append("Open the board to acknowledge what you did.")
    if alert.is_duress:
        # Only a DSL or the Principal closes it, often from their phone: the page to do it on.
        confirm = settings.SITE_URL.rstrip("/") + reverse("board-confirm-safe", args=[alert.pk])
        lines.append(f"Only a DSL or the Principal closes it, once they know the pair are safe: {confirm}")
    return subject, "\n".join(line for line in lines if line)


def _rows_for(visit, *, key, alert, users, by_text, subject, body, now) -> list[AlertNotification]:
    rows = []
    for user in users:
        common = dict(visit=visit, alert=alert, key=key, user=user, subject=subject, body=body, created_at=now)
        if user.email:
            rows.append(AlertNotification(channel=NotificationChannel.EMAIL, recipient=user.email, **common))
        mobile = _mobile(user)
        if by_text and mobile:
            rows.append(AlertNotification(channel=NotificationChannel.SMS, recipient=mobile, **common))
    return rows


def _pair_texts(visit: Visit, *, key: str, alert, body: str, lead_only: bool, now) -> list[AlertNotification]:
    """Texts to the pair themselves: the lead on the mobile given for the visit (else their profile's)."""
    rows = []
    for person in visit.people.select_related("user__profile").filter(role__in=[VisitRole.LEAD, VisitRole.SECOND]):
        if lead_only and person.role != VisitRole.LEAD:
            continue
        mobile = _mobile(person.user)
        if person.role == VisitRole.LEAD and visit.lead_mobile:
            mobile = visit.lead_mobile.as_e164
        if mobile:
            rows.append(
                AlertNotification(
                    visit=visit,
                    alert=alert,
                    key=key,
                    user=person.user,
                    channel=NotificationChannel.SMS,
                    recipient=mobile,
                    subject="Home visit",
                    body=body,
                    created_at=now,
                )
            )
    return rows


def _queue_notifications(alert: VisitAlert, now: datetime.datetime, round_number: int = 0) -> None:
    """One round of an alert's messages. The second round goes to the same people; from the third it climbs
    to the next step's people too. The first overdue step also texts the pair."""
    roles, by_text = _audience(alert) if round_number < 2 else _next_audience(alert)
    subject, body = alert_message(alert, round_number)
    key = f"alert:{alert.pk}:{round_number}"
    visit = alert.visit
    rows = _rows_for(
        visit,
        key=key,
        alert=alert,
        users=_recipients(visit, roles),
        by_text=by_text,
        subject=subject,
        body=body,
        now=now,
    )
    if alert.kind == AlertKind.OVERDUE and alert.step_order == 0 and round_number == 0:
        local_due = timezone.localtime(visit.due_back)
        text = (
            f"You were due back at {local_due:%H:%M} and the office has not heard from you. Ring the office now, "
            f"or check in or extend: {field_link(visit)}"
        )
        rows += _pair_texts(visit, key=f"{key}:pair", alert=alert, body=text, lead_only=False, now=now)
    AlertNotification.objects.bulk_create(rows, ignore_conflicts=True)


def _queue_reminder(visit: Visit, now) -> None:
    local_due = timezone.localtime(visit.due_back)
    text = f"Due back {local_due:%H:%M}: extend or check in: {field_link(visit)}"
    rows = _pair_texts(visit, key=f"reminder:{visit.overdue_round}", alert=None, body=text, lead_only=True, now=now)
    AlertNotification.objects.bulk_create(rows, ignore_conflicts=True)
    audit(
        actor=None,
        action="visit.reminder",
        obj=visit,
        school=visit.school,
        summary=f"Lead reminded: due back {local_due:%H:%M}" if rows else "No mobile to remind the lead on",
    )


def store_alert(*, visit: Visit, key: str, kind: str, due_at, now, action: str = "", step_order=None):
    """Store the alert once: a second attempt with the same key (another worker, a retry) changes nothing."""
    repeat = datetime.timedelta(minutes=visit.chain().repeat_after_minutes)
    try:
        with transaction.atomic():
            # raised_at is the moment of storing, not the sweep's start: what the latency figures measure.
            raised_at = timezone.now()
            alert = VisitAlert.objects.create(
                visit=visit,
                key=key,
                kind=kind,
                action=action,
                step_order=step_order,
                due_at=due_at,
                raised_at=raised_at,
                next_repeat_at=max(raised_at, now) + repeat,
            )
    except IntegrityError:
        return None
    if kind == AlertKind.OVERDUE and step_order:
        # The later step carries on repeating and climbing; the earlier ones it replaces stop.
        visit.alerts.filter(kind=AlertKind.OVERDUE, acknowledged_at__isnull=True, step_order__lt=step_order).update(
            next_repeat_at=None
        )
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
    # The console (and the log) says what the sweep did, never that it ran: a quiet sweep logs nothing.
    logger.info("Raised %s for visit %s (due %s)", alert.title, visit.pk, f"{timezone.localtime(due_at):%H:%M:%S}")
    return alert


def _due_alerts(visit: Visit, policy, now) -> list[dict]:
    """Every alert due by `now` that this visit has not raised yet, earliest first (a sweep that was down
    catches up: all the steps that fell due while it was away are raised at once). Reads the visit's frozen
    chain; `policy` only stands in for a visit that has none (checked out before chains were frozen)."""
    due = []
    chain = visit.chain(policy)
    steps = chain.steps
    overdue_at = visit.overdue_at(chain)
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
    on_site_at = visit.on_site_too_long_at(chain)
    if on_site_at and not visit.on_site_alert_raised and on_site_at <= now:
        due.append(
            dict(key=f"on_site:{int(visit.arrived_at.timestamp())}", kind=AlertKind.ON_SITE_TOO_LONG, due_at=on_site_at)
        )
    return sorted(due, key=lambda a: a["due_at"])


def _repeat_unanswered(visit: Visit, now) -> int:
    """Send another round of each unanswered alert whose repeat has fallen due. The round number is in each
    outbox row's key, so a second sweep (or a retry) never sends one twice."""
    repeat = datetime.timedelta(minutes=visit.chain().repeat_after_minutes)
    due = list(
        visit.alerts.select_for_update()
        .filter(acknowledged_at__isnull=True, next_repeat_at__lte=now)
        .order_by("raised_at")
    )
    for alert in due:
        alert.visit = visit
        _queue_notifications(alert, now, round_number=alert.rounds_sent)
        alert.rounds_sent += 1
        alert.next_repeat_at = now + repeat
        alert.save(update_fields=["rounds_sent", "next_repeat_at"])
        audit(
            actor=None,
            action="alert.repeat",
            obj=alert,
            school=visit.school,
            summary=f"{alert.title}: unanswered, sent again (round {alert.rounds_sent})",
        )
    return len(due)


def _sweep_one(visit: Visit, policy, now) -> int:
    """Raise what is due for one claimed visit, repeat what is unanswered, queue the lead's reminder. The
    compare-and-swap makes a second claimant a no-op."""
    chain = visit.chain(policy)
    if not visit.safety_chain:
        # Checked out before chains were frozen: work to the policy's chain for this run without asking again.
        visit.safety_chain = chain.to_json()
    # A visit that is back raises nothing new (its reminder is off too); only an unanswered duress alert repeats.
    due = _due_alerts(visit, chain, now) if visit.is_away else []
    remind_at = visit.remind_at(chain)
    remind = bool(remind_at and remind_at <= now)
    level = visit.escalation_level + sum(1 for a in due if a["kind"] == AlertKind.OVERDUE)
    on_site_raised = visit.on_site_alert_raised or any(a["kind"] == AlertKind.ON_SITE_TOO_LONG for a in due)
    before = dict(
        status=visit.status,
        escalation_level=visit.escalation_level,
        overdue_round=visit.overdue_round,
        on_site_alert_raised=visit.on_site_alert_raised,
        reminder_queued=visit.reminder_queued,
        due_back_at=visit.due_back_at,
    )
    visit.escalation_level, visit.on_site_alert_raised = level, on_site_raised
    visit.reminder_queued = visit.reminder_queued or remind
    swapped = Visit.objects.filter(pk=visit.pk, **before).update(
        escalation_level=level, on_site_alert_raised=on_site_raised, reminder_queued=visit.reminder_queued
    )
    if swapped != 1:
        return 0  # Another sweep, or a check-in, changed the visit first: it has recomputed the timer itself.
    # Past due already (a sweep that was down): the overdue texts say it better than a late reminder.
    if remind and now < visit.overdue_at(chain):
        _queue_reminder(visit, now)
    raised = sum(1 for a in due if store_alert(visit=visit, now=now, **a))
    _repeat_unanswered(visit, now)
    Visit.objects.filter(pk=visit.pk).update(alert_due_at=visit.alert_due(chain))
    return raised


# A visit whose sweep raised an error is looked at again this long after (meanwhile the board says "ring them"),
# so it is never claimed first on every run and cannot hold up the visits behind it.
RETRY_FAILED_VISIT_AFTER = datetime.timedelta(seconds=30)


def due_visits(*, now: datetime.datetime):
    """The sweep's claim: visits whose timer has passed, earliest first, locked (rows another sweep holds are
    skipped). Read through the partial index visit_alert_due; slice it to a batch."""
    return (
        Visit.objects.filter(alert_due_at__lte=now)
        .select_related("school")
        .order_by("alert_due_at")
        .select_for_update(skip_locked=True, of=("self",))
    )


def alerts_sweep(*, now: datetime.datetime | None = None, batch: int = 50) -> int:
    """Raise every alert that has fallen due. Safe to run in several workers at once. Returns alerts raised.

    Each visit is swept inside its own savepoint: one that raises is rolled back alone, logged, marked on the
    board and set aside; every other due visit is still alerted in this sweep."""
    now = now or timezone.now()
    raised, failed, policies = 0, 0, {}
    while True:
        with transaction.atomic():
            claimed = list(due_visits(now=now)[:batch])
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
    last = beats.values_list("last_run_at", flat=True).first()
    if not beats.update(last_run_at=now, runs=F("runs") + 1):
        SweepHeartbeat.objects.get_or_create(name=HEARTBEAT_NAME, defaults={"last_run_at": now, "runs": 1})
    if last is None:
        logger.info("The alert sweep is running")
    else:
        logger.warning("The alert sweep is running again after a gap of %.0f s", (now - last).total_seconds())
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
    failed = Visit.objects.filter(
        Q(status__in=AWAY) | Q(alert_due_at__isnull=False), alerting_failed_at__isnull=False
    ).count()
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
