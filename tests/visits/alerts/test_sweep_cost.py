"""The sweep's cost follows what is due: a quiet sweep is one look at the partial index of timers, and a batch of
due visits costs the same queries however many of them fall due together; sweeps that race (several workers)
still raise each alert once, and a batch whose alerts cannot be stored together is swept visit by visit."""

import threading

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from core.models import AuditEntry, EscalationAction
from tests.visits.alerts.clock import at, when
from tests.visits.alerts.pairs import pairs_out_at_ten
from visits.alerts import sweep
from visits.models import AlertKind, AlertNotification, Visit, VisitAlert

OVERDUE = when(10, 55)
# The cost and the races are PostgreSQL's (production's): one UPDATE for a batch, rows locked and skipped, the
# planner. The SQLite of the run command writes visit by visit, one writer at a time.
POSTGRESQL_ONLY = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner and row locks")


def pairs_out(cast, count):
    """`count` pairs of the school out from 10:00 (pairs_out_at_ten), each reminded at 10:40 and overdue at
    10:55."""
    visits = pairs_out_at_ten(cast, count)
    with at(10, 40):
        sweep.alerts_sweep()  # the leads' reminders: quiet from here until 10:55
    return visits


def statements(queries) -> list[str]:
    """The queries, without the savepoints that stand in for transactions inside a test's own."""
    return [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


def sweep_with_only(visits, due: int) -> tuple[int, list[str]]:
    """Sweep at 10:55 with only the first `due` of `visits` due (the others' timers moved to noon), then undo it
    all. Returns the alerts raised and the sweep's queries."""
    savepoint = transaction.savepoint()
    Visit.objects.filter(pk__in=[v.pk for v in visits[due:]]).update(alert_due_at=when(12, 0))
    with at(10, 55), CaptureQueriesContext(connection) as queries:
        raised = sweep.alerts_sweep()
    transaction.savepoint_rollback(savepoint)
    return raised, statements(queries)


@POSTGRESQL_ONLY
def test_a_batch_costs_the_same_queries_however_many_of_its_visits_fall_due(cast):
    visits = pairs_out(cast, 6)
    one, one_queries = sweep_with_only(visits, 1)
    three, three_queries = sweep_with_only(visits, 3)
    six, six_queries = sweep_with_only(visits, 6)
    assert (one, three, six) == (1, 3, 6)
    # The claim; the people, households and open alerts; who to tell at the school; one compare-and-swap for all
    # the visits; one INSERT each for the alerts, their messages and their audit entries; one UPDATE of the
    # timers; the heartbeat. Nothing per visit or per alert.
    assert len(one_queries) == len(three_queries) == len(six_queries), "\n".join(six_queries)
    for table in ("visits_visitalert", "visits_alertnotification", "core_auditentry"):
        assert sum(q.startswith(f'INSERT INTO "{table}"') for q in six_queries) == 1


def test_every_alert_raised_together_has_its_own_audit_entry(cast):
    visits = pairs_out(cast, 3)
    with at(10, 55):
        assert sweep.alerts_sweep() == 3
    alerts = VisitAlert.objects.filter(visit__in=visits)
    entries = AuditEntry.objects.filter(action="alert.raise")
    assert sorted(e.object_id for e in entries) == sorted(str(a.pk) for a in alerts)
    assert {(e.details["visit_id"], e.details["key"], e.school_id) for e in entries} == {
        (v.pk, "overdue:0:0", cast.school.pk) for v in visits
    }
    assert all(e.actor is None and e.summary.startswith("Overdue: ") for e in entries)


@POSTGRESQL_ONLY
def test_a_quiet_sweep_is_one_look_at_the_timers_and_the_heartbeat(cast):
    pairs_out(cast, 2)
    with at(10, 54, 58):
        sweep.alerts_sweep()  # the heartbeat is current: the next says so in one UPDATE
    with at(10, 54, 59), CaptureQueriesContext(connection) as queries:
        assert sweep.alerts_sweep() == 0
    due_query, heartbeat = statements(queries)
    assert '"visits_visit"."alert_due_at" <=' in due_query and "FOR UPDATE" in due_query
    assert heartbeat.startswith('UPDATE "visits_sweepheartbeat"')


@POSTGRESQL_ONLY
def test_the_due_query_reads_the_partial_index_of_timers(cast):
    """On a table this small the planner may prefer reading it whole; with that ruled out, the due query must be
    answerable from visit_alert_due alone (its condition implies the index's)."""
    pairs_out(cast, 2)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = sweep.due_visits(now=OVERDUE)[:50].explain()
    assert "Index Scan on visit_alert_due" in plan or "Index Scan using visit_alert_due" in plan, plan
    assert "Seq Scan on visits_visit" not in plan, plan


def test_a_sweep_that_was_down_catches_up_every_visit_and_only_the_latest_step_repeats(cast):
    visits = pairs_out(cast, 3)
    with at(11, 25):  # every step of the chain has fallen due for all three
        assert sweep.alerts_sweep() == 9
    for visit in visits:
        repeats = dict(VisitAlert.objects.filter(visit=visit).values_list("step_order", "next_repeat_at"))
        assert repeats == {0: None, 1: None, 2: when(11, 30)}
        visit.refresh_from_db()
        assert visit.escalation_level == 3 and visit.alert_due_at == when(11, 30)
    with at(11, 30):  # only the police prompt is sent again
        assert sweep.alerts_sweep() == 0
    again = AlertNotification.objects.filter(key__endswith=":1").select_related("alert")
    assert {n.alert.step_order for n in again} == {2} and {n.visit_id for n in again} == {v.pk for v in visits}


def test_a_batch_holding_an_alert_already_stored_is_swept_one_by_one(cast, caplog):
    """The alerts of a batch go in one INSERT; a key already taken fails it, so the batch is swept again visit by
    visit, where that alert is left out (as a second attempt changes nothing) and every other is raised."""
    first, *others = pairs_out(cast, 3)
    VisitAlert.objects.create(
        visit=first,
        key="overdue:0:0",
        kind=AlertKind.OVERDUE,
        action=EscalationAction.RING_LEAD,
        step_order=0,
        due_at=OVERDUE,
        raised_at=OVERDUE,
    )
    with at(10, 55):
        assert sweep.alerts_sweep() == 2
    assert VisitAlert.objects.filter(visit=first).count() == 1
    assert not AlertNotification.objects.filter(alert__visit=first).exists()
    first.refresh_from_db()
    assert first.escalation_level == 1 and first.alerting_failed_at is None
    assert first.alert_due_at == when(11, 10)  # the next step: the alert already there has no repeat of its own
    for visit in others:
        assert VisitAlert.objects.get(visit=visit).key == "overdue:0:0"
        assert AlertNotification.objects.filter(alert__visit=visit).count() == 3  # the office's email, pair's texts
    assert "together failed" in caplog.text and "one by one now" in caplog.text


def test_a_long_sweep_raises_what_falls_due_while_it_runs(cast, monkeypatch):
    """A burst takes a while to sweep: a visit falling due meanwhile is raised by the same sweep, not the next."""
    early, late = pairs_out(cast, 2)
    Visit.objects.filter(pk=late.pk).update(alert_due_at=when(10, 55, 1))  # its timer a second after the other's
    real = sweep._sweep_visits
    with time_machine.travel(OVERDUE, tick=False) as clock:

        def a_second_passes(*args, **kwargs):
            raised = real(*args, **kwargs)
            clock.shift(1)
            return raised

        monkeypatch.setattr(sweep, "_sweep_visits", a_second_passes)
        assert sweep.alerts_sweep(batch=1) == 2
    assert alerts_per_visit([early, late]) == {early.pk: ["overdue:0:0"], late.pk: ["overdue:0:0"]}


def alerts_per_visit(visits) -> dict[int, list[str]]:
    return {v.pk: list(VisitAlert.objects.filter(visit=v).values_list("key", flat=True)) for v in visits}


@POSTGRESQL_ONLY
@pytest.mark.django_db(transaction=True)
def test_a_sweep_that_finds_rows_another_holds_skips_them_and_each_alert_is_raised_once(cast):
    """A first sweep has claimed two visits and not yet committed; a second sweep raises the other four (it skips
    rows another holds rather than wait), then the first finishes. Each alert once, each message once."""
    visits = pairs_out(cast, 6)
    claimed, release, done = threading.Event(), threading.Event(), []

    def first_sweep():
        try:
            with transaction.atomic():
                rows = list(sweep.due_visits(now=OVERDUE)[:2])
                claimed.set()
                release.wait(30)
                done.append(sweep._sweep_visits(rows, sweep._SweepReads(), OVERDUE))
        finally:
            connection.close()

    with at(10, 55):  # for both threads: the clock is the process's
        thread = threading.Thread(target=first_sweep)
        thread.start()
        assert claimed.wait(30)
        assert sweep.alerts_sweep() == 4
        release.set()
        thread.join(30)
    assert done == [2]
    with at(10, 55, 1):
        assert sweep.alerts_sweep() == 0
    assert alerts_per_visit(visits) == {v.pk: ["overdue:0:0"] for v in visits}
    assert AlertNotification.objects.filter(alert__isnull=False).count() == 6 * 3


@POSTGRESQL_ONLY
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_racing_over_many_due_visits_raise_each_alert_once(cast):
    visits = pairs_out(cast, 8)
    start, raised = threading.Barrier(2), []

    def race():
        try:
            start.wait(30)
            raised.append(sweep.alerts_sweep(now=OVERDUE, batch=1))
        finally:
            connection.close()

    with at(10, 55):
        threads = [threading.Thread(target=race) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert sum(raised) == 8
    assert alerts_per_visit(visits) == {v.pk: ["overdue:0:0"] for v in visits}
    assert AlertNotification.objects.filter(alert__isnull=False).count() == 8 * 3
    assert set(Visit.objects.values_list("escalation_level", flat=True)) == {1}
    assert set(Visit.objects.values_list("alert_due_at", flat=True)) == {when(11, 0)}  # the first repeat
