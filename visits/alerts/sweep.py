"""The sweep that raises overdue and on-site-too-long alerts, repeats and climbs unanswered ones, queues the lead's
reminder, and its heartbeat (after healthchecks' sendalerts).

Each visit stores when the sweep must next look at it (`Visit.alert_due_at`, a partial index on away visits),
worked out from the chain frozen onto it at check-out (`Visit.safety_chain`), never the live policy. The sweep
claims due rows in batches, with row locks that skip locked rows, records them with a compare-and-swap update, and
stores each alert under a key unique per visit and step, so several workers never raise one twice. Every message
is an outbox row (AlertNotification) unique per visit, key, channel and recipient: at least once, never twice
(delivery.py sends them). A batch's reads and writes are one query each, whatever its size: the sweep's cost
follows what is due, and a quiet sweep is one look at the partial index of timers."""

import datetime
import logging
import math
import threading
import time
import urllib.request
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Prefetch, Q, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from phonenumber_field.phonenumber import PhoneNumber

from core.audit import audit, audit_many
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
    VisitPerson,
    VisitRole,
)

HEARTBEAT_NAME = "alert-sweep"

logger = logging.getLogger(__name__)


class _SweepReads:
    """What one sweep reads once and shares between the visits it sweeps: each school's policy (for visits checked
    out before chains were frozen) and who holds which roles at each school. A burst at one school then costs one
    recipients query, not one per alert."""

    def __init__(self):
        self._policies = {}
        self._people = {}

    def policy(self, visit: Visit):
        """The school's live policy, for a visit with no frozen chain only (read once per school)."""
        if visit.safety_chain:
            return None
        if visit.school_id not in self._policies:
            self._policies[visit.school_id] = visit.school.policy()
        return self._policies[visit.school_id]

    def recipients(self, school_id: int, roles) -> list:
        """Active users with any of `roles` at the school, with their profiles."""
        key = (school_id, frozenset(roles))
        if key not in self._people:
            self._people[key] = list(users_with_role(school=school_id, roles=roles).select_related("profile"))
        return self._people[key]


def _people() -> Prefetch:
    """The visit's people with their accounts and profiles: the messages name them and text the pair."""
    return Prefetch("people", queryset=VisitPerson.objects.select_related("user__profile"))


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
    # A blank number is read as "": a PhoneNumber's own truth test formats it, which a burst of alerts feels.
    return (mobile.as_e164 or None) if isinstance(mobile, PhoneNumber) else None


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
        mobile = _mobile(user) if by_text else None
        if mobile:
            rows.append(AlertNotification(channel=NotificationChannel.SMS, recipient=mobile, **common))
    return rows


def _pair_texts(visit: Visit, *, key: str, alert, body: str, lead_only: bool, now) -> list[AlertNotification]:
    """Texts to the pair themselves: the lead on the mobile given for the visit (else their profile's). From the
    visit's prefetched people (_people)."""
    rows = []
    lead_mobile = visit.lead_mobile.as_e164 if isinstance(visit.lead_mobile, PhoneNumber) else None
    for person in visit.people.all():
        if person.role not in (VisitRole.LEAD, VisitRole.SECOND) or (lead_only and person.role != VisitRole.LEAD):
            continue
        mobile = _mobile(person.user)
        if person.role == VisitRole.LEAD and lead_mobile:
            mobile = lead_mobile
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


@dataclass
class _Writes:
    """What a sweep writes besides the visits and alerts, gathered so each kind goes in one INSERT: outbox rows
    (a retry never sends twice: the outbox's unique key) and audit entries."""

    messages: list[AlertNotification] = field(default_factory=list)
    entries: list[dict] = field(default_factory=list)

    def audit(self, **entry) -> None:
        self.entries.append(dict(actor=None, **entry))

    def save(self) -> None:
        AlertNotification.objects.bulk_create(self.messages, ignore_conflicts=True)
        audit_many(self.entries)


def _notify(alert: VisitAlert, now, reads: _SweepReads, writes: _Writes, round_number: int = 0) -> None:
    """One round of an alert's messages. The second round goes to the same people; from the third it climbs to
    the next step's people too. The first overdue step also texts the pair."""
    roles, by_text = _audience(alert) if round_number < 2 else _next_audience(alert)
    subject, body = alert_message(alert, round_number)
    key = f"alert:{alert.pk}:{round_number}"
    visit = alert.visit
    writes.messages += _rows_for(
        visit,
        key=key,
        alert=alert,
        users=reads.recipients(visit.school_id, roles),
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
        writes.messages += _pair_texts(visit, key=f"{key}:pair", alert=alert, body=text, lead_only=False, now=now)


def _remind(visit: Visit, now, writes: _Writes) -> None:
    """The lead's "due back soon" text."""
    local_due = timezone.localtime(visit.due_back)
    text = f"Due back {local_due:%H:%M}: extend or check in: {field_link(visit)}"
    rows = _pair_texts(visit, key=f"reminder:{visit.overdue_round}", alert=None, body=text, lead_only=True, now=now)
    writes.messages += rows
    writes.audit(
        action="visit.reminder",
        obj=visit,
        school=visit.school,
        summary=f"Lead reminded: due back {local_due:%H:%M}" if rows else "No mobile to remind the lead on",
    )


def _insert_alerts(alerts: list[VisitAlert], *, one_by_one: bool) -> list[VisitAlert]:
    """Store the alerts; returns those stored. Together in one INSERT, where a key already taken fails them all
    (the caller then sweeps again one by one); or one by one, where an alert whose key is taken (another worker,
    a retry) is left out and changes nothing."""
    if not alerts or not one_by_one:
        return VisitAlert.objects.bulk_create(alerts)
    stored = []
    for alert in alerts:
        try:
            with transaction.atomic():
                alert.save(force_insert=True)
        except IntegrityError:
            continue
        stored.append(alert)
    return stored


def _announce(stored: list[VisitAlert], now, reads: _SweepReads, writes: _Writes) -> None:
    """The board and the audit trail hear of each stored alert, and its first round of messages is queued."""
    if stored:
        board_changed()
    for alert in stored:
        visit = alert.visit
        writes.audit(
            action="alert.raise",
            obj=alert,
            school=visit.school,
            summary=f"{alert.title} for visit {visit.pk}",
            visit_id=visit.pk,
            key=alert.key,
        )
        _notify(alert, now, reads, writes)


def _log_raised(stored: list[VisitAlert]) -> None:
    # The console (and the log) says what the sweep did, never that it ran: a quiet sweep logs nothing.
    for alert in stored:
        due = f"{timezone.localtime(alert.due_at):%H:%M:%S}"
        logger.info("Raised %s for visit %s (due %s)", alert.title, alert.visit_id, due)


def store_alert(*, visit: Visit, key: str, kind: str, due_at, now, action: str = "", step_order=None):
    """Store an alert raised outside the sweep (from the doorstep, the code word) once: a second attempt with the
    same key (a retry) changes nothing."""
    # raised_at is the moment of storing: what the latency figures measure.
    raised_at = timezone.now()
    repeat = datetime.timedelta(minutes=visit.chain().repeat_after_minutes)
    alert = VisitAlert(
        visit=visit,
        key=key,
        kind=kind,
        action=action,
        step_order=step_order,
        due_at=due_at,
        raised_at=raised_at,
        next_repeat_at=max(raised_at, now) + repeat,
    )
    if not _insert_alerts([alert], one_by_one=True):
        return None
    prefetch_related_objects([visit], _people())
    writes = _Writes()
    _announce([alert], now, _SweepReads(), writes)
    writes.save()
    _log_raised([alert])
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


# What the sweep records on a visit, and the fields it must still hold as read for the sweep to record anything.
SWEPT_FIELDS = ("escalation_level", "on_site_alert_raised", "reminder_queued", "alert_due_at")
AS_READ_FIELDS = (
    "status",
    "escalation_level",
    "overdue_round",
    "on_site_alert_raised",
    "reminder_queued",
    "due_back_at",
)


@dataclass
class _Plan:
    """What the sweep does for one claimed visit, worked out from its fields and open alerts alone."""

    visit: Visit
    as_read: dict
    alerts: list[VisitAlert]  # to raise, earliest first
    repeats: list[VisitAlert]  # open ones sent again (their round and next repeat already moved on)
    taken_over: list[VisitAlert]  # open overdue steps a later step raised now replaces: their repeats stop
    remind: bool


def _plan(visit: Visit, policy, now, open_alerts: list[VisitAlert], raised_at) -> _Plan:
    """What is due for the visit: the alerts to raise, the unanswered ones to send again, the lead's reminder;
    and the visit's fields once done, its next timer among them (set on `visit`, written by _swap)."""
    chain = visit.chain(policy)
    if not visit.safety_chain:
        # Checked out before chains were frozen: work to the policy's chain for this run without asking again.
        visit.safety_chain = chain.to_json()
    as_read = {name: getattr(visit, name) for name in AS_READ_FIELDS}
    repeat = datetime.timedelta(minutes=chain.repeat_after_minutes)
    # A visit that is back raises nothing new (its reminder is off too); only an unanswered duress alert repeats.
    due = _due_alerts(visit, chain, now) if visit.is_away else []
    alerts = [
        VisitAlert(visit=visit, raised_at=raised_at, next_repeat_at=max(raised_at, now) + repeat, **alert)
        for alert in due
    ]
    remind_at = visit.remind_at(chain)
    remind = bool(remind_at and remind_at <= now)
    # Past due already (a sweep that was down): the overdue texts say it better than a late reminder.
    remind_now = remind and now < visit.overdue_at(chain)
    visit.escalation_level += sum(1 for alert in alerts if alert.kind == AlertKind.OVERDUE)
    visit.on_site_alert_raised = visit.on_site_alert_raised or any(
        alert.kind == AlertKind.ON_SITE_TOO_LONG for alert in alerts
    )
    visit.reminder_queued = visit.reminder_queued or remind
    # The latest overdue step raised carries on repeating and climbing; the earlier ones it replaces stop.
    latest = max((a.step_order for a in alerts if a.kind == AlertKind.OVERDUE), default=0)
    taken_over = []
    for alert in [*open_alerts, *alerts]:
        if latest and alert.kind == AlertKind.OVERDUE and (alert.step_order or 0) < latest:
            if alert.pk:
                taken_over.append(alert)
            alert.next_repeat_at = None
    repeats = sorted(
        (a for a in open_alerts if a.next_repeat_at and a.next_repeat_at <= now), key=lambda a: a.raised_at
    )
    for alert in repeats:
        alert.rounds_sent += 1
        alert.next_repeat_at = now + repeat
    repeat_at = min((a.next_repeat_at for a in [*open_alerts, *alerts] if a.next_repeat_at), default=None)
    visit.alert_due_at = visit.next_alert_due(chain, repeat_at=repeat_at)
    return _Plan(visit, as_read, alerts, repeats, taken_over, remind_now)


def _update_each(model, objs: list, fields, as_read: list[dict] | None = None) -> list:
    """Write `fields` of each object, in one UPDATE on PostgreSQL (one each elsewhere). With `as_read` (per
    object, the fields as they were read), a row is written only if it still holds them: a compare-and-swap.
    Returns the objects written."""
    if not objs:
        return []
    reads = as_read or [{} for _ in objs]
    if connection.vendor != "postgresql":
        return [
            obj
            for obj, read in zip(objs, reads, strict=True)
            if model.objects.filter(pk=obj.pk, **read).update(**{name: getattr(obj, name) for name in fields})
        ]
    opts, quote = model._meta, connection.ops.quote_name
    written = [opts.get_field(name) for name in fields]
    compared = [opts.get_field(name) for name in reads[0]]
    columns = [opts.pk, *written, *compared]
    row = "(" + ", ".join(f"%s::{column.db_type(connection)}" for column in columns) + ")"
    names = ["id", *(f"new{i}" for i in range(len(written))), *(f"was{i}" for i in range(len(compared)))]
    pk = quote(opts.pk.column)
    assignments = ", ".join(f"{quote(f.column)} = v.new{i}" for i, f in enumerate(written))
    same_as_read = "".join(f" AND t.{quote(f.column)} IS NOT DISTINCT FROM v.was{i}" for i, f in enumerate(compared))
    # Only quoted column names and placeholders go into the text; every value is a parameter.
    sql = (
        f"UPDATE {quote(opts.db_table)} AS t SET {assignments} "  # noqa: S608
        f"FROM (VALUES {', '.join([row] * len(objs))}) AS v ({', '.join(names)}) "
        f"WHERE t.{pk} = v.id{same_as_read} RETURNING t.{pk}"
    )
    params = []
    for obj, read in zip(objs, reads, strict=True):
        params.append(obj.pk)
        params += [f.get_db_prep_value(getattr(obj, f.attname), connection) for f in written]
        params += [f.get_db_prep_value(read[f.name], connection) for f in compared]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        changed = {pk for (pk,) in cursor.fetchall()}
    return [obj for obj in objs if obj.pk in changed]


def _swap(plans: list[_Plan]) -> list[_Plan]:
    """Record each plan on its visit (the steps raised, the reminder, the next timer), each only if the visit is
    still as it was read: another sweep, or a check-in, that changed it first has recomputed the timer itself.
    Returns the plans recorded."""
    written = _update_each(Visit, [p.visit for p in plans], SWEPT_FIELDS, as_read=[p.as_read for p in plans])
    written_pks = {visit.pk for visit in written}
    return [plan for plan in plans if plan.visit.pk in written_pks]


def _open_alerts(visits: list[Visit]) -> dict[int, list[VisitAlert]]:
    """Each visit's unanswered alerts, locked, oldest first."""
    open_alerts = {visit.pk: [] for visit in visits}
    by_pk = {visit.pk: visit for visit in visits}
    for alert in (
        VisitAlert.objects.filter(visit__in=visits, acknowledged_at__isnull=True)
        .select_for_update(of=("self",))
        .order_by("raised_at", "pk")
    ):
        alert.visit = by_pk[alert.visit_id]
        open_alerts[alert.visit_id].append(alert)
    return open_alerts


def _sweep_visits(visits: list[Visit], reads: _SweepReads, now, *, one_by_one: bool = False) -> int:
    """Raise what is due for these claimed visits, repeat what is unanswered, queue the leads' reminders, and
    store each visit's next timer. Returns alerts raised. A visit changed since it was read is left alone.

    Its queries are per batch, not per visit or alert: the visits' open alerts, people and households; one
    compare-and-swap that also stores the timers; one INSERT each for the alerts, their messages and their audit
    entries (and, when due, one UPDATE for the repeats and one for the steps taken over)."""
    open_alerts = _open_alerts(visits)
    raised_at = timezone.now()  # the moment of storing, a few statements early: what the latency figures measure
    plans = _swap([_plan(v, reads.policy(v), now, open_alerts[v.pk], raised_at) for v in visits])
    prefetch_related_objects([plan.visit for plan in plans], _people(), "household")
    writes = _Writes()
    for plan in plans:
        if plan.remind:
            _remind(plan.visit, now, writes)
    planned = [alert for plan in plans for alert in plan.alerts]
    stored = _insert_alerts(planned, one_by_one=one_by_one)
    _announce(stored, now, reads, writes)
    taken_over = [alert.pk for plan in plans for alert in plan.taken_over]
    if taken_over:
        VisitAlert.objects.filter(pk__in=taken_over).update(next_repeat_at=None)
    repeats = [alert for plan in plans for alert in plan.repeats]
    for alert in repeats:
        _notify(alert, now, reads, writes, round_number=alert.rounds_sent - 1)
        writes.audit(
            action="alert.repeat",
            obj=alert,
            school=alert.visit.school,
            summary=f"{alert.title}: unanswered, sent again (round {alert.rounds_sent})",
        )
    _update_each(VisitAlert, repeats, ["rounds_sent", "next_repeat_at"])
    writes.save()
    if len(stored) < len(planned):
        # One by one, an alert whose key was taken was left out: the timer is worked out again from what is stored.
        for plan in plans:
            Visit.objects.filter(pk=plan.visit.pk).update(alert_due_at=plan.visit.alert_due())
    _log_raised(stored)
    return len(stored)


# A visit whose sweep raised an error is looked at again this long after (meanwhile the board says "ring them"),
# so it is never claimed first on every run and cannot hold up the visits behind it.
RETRY_FAILED_VISIT_AFTER = datetime.timedelta(seconds=30)
# Visits claimed, swept and committed together: each batch's alerts are visible to the board once it commits.
BATCH = 50


def due_visits(*, now: datetime.datetime):
    """The sweep's claim: visits whose timer has passed, earliest first, locked (rows another sweep holds are
    skipped). Read through the partial index visit_alert_due; slice it to a batch."""
    return (
        Visit.objects.filter(alert_due_at__lte=now)
        .select_related("school")
        .order_by("alert_due_at")
        .select_for_update(skip_locked=True, of=("self",))
    )


def alerts_sweep(*, now: datetime.datetime | None = None, batch: int = BATCH) -> int:
    """Raise every alert that has fallen due. Safe to run in several workers at once. Returns alerts raised.

    Each batch of claimed visits is swept together inside a savepoint. If that raises, the batch is rolled back
    and swept again visit by visit, each in its own savepoint: one that raises is rolled back alone, logged,
    marked on the board and set aside; every other due visit is still alerted in this sweep.

    Without `now`, each batch looks at the clock afresh: visits falling due while a long sweep runs (a burst) are
    raised by it, not left for the next tick."""
    fixed_now, raised, failed, reads = now, 0, 0, _SweepReads()
    while True:
        now = fixed_now or timezone.now()
        with transaction.atomic():
            claimed = list(due_visits(now=now)[:batch])
            if not claimed:
                break
            swept = claimed
            try:
                with transaction.atomic():
                    raised += _sweep_visits(claimed, reads, now)
            except Exception as error:  # noqa: BLE001 - swept one by one below, so the bad visit is found
                logger.warning("Sweeping %s visits together failed (%s); one by one now", len(claimed), error)
                # Read afresh (the rows are still locked by this transaction): the failed try changed them in memory.
                again = Visit.objects.filter(pk__in=[visit.pk for visit in claimed]).select_related("school")
                swept = list(again.order_by("alert_due_at"))
                for visit in list(swept):
                    try:
                        with transaction.atomic():
                            raised += _sweep_visits([visit], reads, now, one_by_one=True)
                    except Exception as error:  # noqa: BLE001 - one bad visit must not stop alerting for the rest
                        failed += 1
                        swept.remove(visit)
                        _set_aside(visit, error, now)
            _clear_failures([visit for visit in swept if visit.alerting_failed_at])
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


def _clear_failures(visits: list[Visit]) -> None:
    """These visits, set aside after a failure before, have now been swept: the board stops saying "ring them"."""
    if not visits:
        return
    Visit.objects.filter(pk__in=[visit.pk for visit in visits]).update(
        alerting_failed_at=None, alerting_error="", updated_at=timezone.now()
    )
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
