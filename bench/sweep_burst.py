"""Sweep burst, as a national deployment on one PostgreSQL would see it: visits out at once across many schools
(2,500 across 50 by default), 1,000 of them falling due in the same second, two real Celery workers (each runs
the sweep itself every second) raising the alerts, beside a large table of old finished visits (200,000).

Prints the plan of the sweep's due query while nothing is due (EXPLAIN (ANALYZE, BUFFERS)) and what one quiet
sweep costs in queries; then, for the burst: alerts stored per second, due -> stored (the alert's raised_at) and
due -> visible to others (committed: seen by this script, which polls every 50 ms) p50 / p99 / max, how many
within 2 s, missed and duplicated, and how long their messages took to send.

The schools, people and visits are loaded by the factories and bulk copies (the old visits by bulk insert); every
check-out goes through the check-out verb, and every alert through the workers. It uses bench/alert_latency.py's
throwaway PostgreSQL and Redis (importing it starts them, and stops them at the end) and its worker helper.
Needs root, as alert_latency.py does.

    .venv/bin/python bench/sweep_burst.py [--schools 50] [--out 2500] [--due 1000] [--old-visits 200000]
"""

import argparse
import datetime
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, reset_queries, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench import alert_latency  # starts the throwaway servers and sets Django up
from bench.alert_latency import Celery, pct, reset, wait_for_sweep
from core.models import School
from core.roles import Role
from tests.factories import (
    ChildFactory,
    SchoolFactory,
    TrustFactory,
    _copies,
    make_authorised_visit,
    make_member,
    trust_default_policy,
    walk_visit,
)
from visits.alerts import sweep
from visits.field.services import visit_check_in
from visits.models import AlertNotification, CheckInKind, Visit, VisitAlert

WITHIN = datetime.timedelta(seconds=2)


def load_schools(count):
    """`count` schools of one trust, each with an office (by email), a DSL, a Principal and two pairs: one for the
    visits that fall due in the burst, one for the others (a pair is never booked on two visits at once)."""
    trust = TrustFactory(name="Burst Trust", slug="burst-trust")
    trust_default_policy(trust)
    schools = []
    for n in range(count):
        school = SchoolFactory(trust=trust, name=f"Burst School {n}", slug=f"burst-{n}")
        office = make_member(f"burst{n}-office", school, Role.OFFICE)
        get_user_model().objects.filter(pk=office.pk).update(email=f"office{n}@example.org")
        make_member(f"burst{n}-dsl", school, Role.DSL)
        make_member(f"burst{n}-principal", school, Role.PRINCIPAL)
        for pair in ("due", "later"):
            make_member(f"burst{n}-{pair}-lead", school, Role.STAFF)
            make_member(f"burst{n}-{pair}-second", school, Role.STAFF)
        schools.append(school)
    users = {u.username: u for u in get_user_model().objects.filter(username__startswith="burst")}
    return schools, users


def load_old_visits(schools, users, count):
    """`count` finished (reviewed) visits of past years, by bulk insert: copies of one walked through the verbs,
    without the rows hanging off it (only the visits table's size matters to the sweep)."""
    if not count:
        return
    school = schools[0]
    start = timezone.now() - datetime.timedelta(days=30)
    template = make_authorised_visit(
        lead=users["burst0-later-lead"],
        second=users["burst0-later-second"],
        authoriser=users["burst0-principal"],
        start=start,
        child=ChildFactory(household__school=school),
    )
    walk_visit(template, users["burst0-later-lead"], "reviewed")
    template = Visit.objects.get(pk=template.pk)
    households = {s.pk: ChildFactory(household__school=s).household_id for s in schools}
    fields = [f.attname for f in Visit._meta.concrete_fields if f.attname != "id"]
    rng = random.Random(7)
    for chunk in range(0, count, 10_000):
        rows = []
        for _ in range(min(10_000, count - chunk)):
            shift = datetime.timedelta(days=rng.uniform(1, 5 * 365))
            row = Visit(**{name: getattr(template, name) for name in fields})
            row.school_id = rng.choice(schools).pk
            row.household_id = households[row.school_id]
            for name in ("scheduled_start", "expected_return", "checked_out_at", "due_back_at", "created_at"):
                if getattr(row, name):
                    setattr(row, name, getattr(row, name) - shift)
            rows.append(row)
        Visit.objects.bulk_create(rows, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE visits_visit")


def authorised_copies(school, users, pair, n, start):
    """`n` authorised visits of one school by its `pair` ("due" or "later") planned at `start`, ready to check
    out: one through the verbs, the rest bulk copies of it (people, decision, checklist)."""
    prefix = f"burst{school.slug.split('-')[1]}"
    lead = users[f"{prefix}-{pair}-lead"]
    template = make_authorised_visit(
        lead=lead,
        second=users[f"{prefix}-{pair}-second"],
        authoriser=users[f"{prefix}-principal"],
        start=start,
        child=ChildFactory(household__school=school),
    )
    return [(template, lead)] + [(copy, lead) for copy in _copies(template, n - 1, datetime.timedelta(0))]


def check_out(pairs, at):
    """Check each visit out through the verb; `at(i)` is the i-th one's check-out time."""
    for i, (visit, lead) in enumerate(pairs):
        visit_check_in(visit=visit, actor=lead, kind=CheckInKind.CHECKED_OUT, now=at(i))


def wait_until_quiet(timeout=600):
    """Until nothing is due and every message (the reminders) has gone: the sweep is idle."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = timezone.now()
        due = Visit.objects.filter(alert_due_at__lte=now).count()
        unsent = AlertNotification.objects.filter(sent_at__isnull=True, failed_at__isnull=True).count()
        if not due and not unsent:
            return
        time.sleep(0.5)
    raise SystemExit(f"The sweep never went quiet: {due} visits due, {unsent} messages unsent.")


def show_quiet_sweep():
    """The due query's plan while nothing is due (twice: a probe may step over index entries that recent updates
    left behind, until they are known dead to everyone or vacuumed), and the queries one quiet sweep makes."""
    plans = []
    for _ in range(2):
        with transaction.atomic():
            plans.append(sweep.due_visits(now=timezone.now())[: sweep.BATCH].explain(analyze=True, buffers=True))
    print("\nThe sweep's due query with nothing due (EXPLAIN (ANALYZE, BUFFERS)):")
    print("  " + plans[0].replace("\n", "\n  "))
    again = [line.strip() for line in plans[1].splitlines() if "Buffers" in line or "Execution" in line]
    print(f"  the same again at once: {'; '.join(again[:1] + again[-1:])}")
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        sweep.alerts_sweep()
    print(f"One quiet sweep (alerts_sweep, nothing due): {len(queries)} queries:")
    for query in queries:
        print(f"  {query['time']}s  {query['sql'][:150]}")


class CommitWatcher(threading.Thread):
    """Records when each alert first becomes visible to another connection (committed), polling every 50 ms."""

    def __init__(self):
        super().__init__(daemon=True)
        self.seen = {}
        self.stop = threading.Event()

    def run(self):
        with psycopg.connect(alert_latency.DB_URL, autocommit=True) as conn:
            while not self.stop.is_set():
                ids = conn.execute("SELECT id FROM visits_visitalert").fetchall()
                now = timezone.now()
                for (alert_id,) in ids:
                    self.seen.setdefault(alert_id, now)
                self.stop.wait(0.05)


def spread(values):
    return f"p50 {statistics.median(values):.3f}s  p99 {pct(values, 99):.3f}s  max {max(values):.3f}s"


def report(due_visits, not_due_visits, watcher):
    alerts = list(VisitAlert.objects.filter(visit_id__in=due_visits))
    per_visit = {}
    for alert in alerts:
        per_visit.setdefault(alert.visit_id, []).append(alert)
    first = [a for a in alerts if a.key == "overdue:0:0"]
    missed = sum(1 for pk in due_visits if not any(a.key == "overdue:0:0" for a in per_visit.get(pk, [])))
    duplicated = len(first) - len({a.visit_id for a in first})
    extra = VisitAlert.objects.filter(visit_id__in=not_due_visits).count() + len(alerts) - len(first)
    stored = [(a.raised_at - a.due_at).total_seconds() for a in first]
    visible = [(watcher.seen[a.pk] - a.due_at).total_seconds() for a in first if a.pk in watcher.seen]
    print(f"\n== burst: {len(due_visits)} due in the same second, {len(not_due_visits)} more out, two workers")
    if not first:
        print("  no alerts stored")
        return
    first_due = min(a.due_at for a in first)
    last_visible = max(watcher.seen[a.pk] for a in first if a.pk in watcher.seen)
    span = (last_visible - first_due).total_seconds()
    raising = (max(a.raised_at for a in first) - min(a.raised_at for a in first)).total_seconds()
    visible_from_first = [(watcher.seen[a.pk] - first_due).total_seconds() for a in first if a.pk in watcher.seen]
    print(f"  due -> stored (raised_at)   : {spread(stored)}  (n={len(stored)})")
    print(f"  due -> visible (committed)  : {spread(visible)}  (n={len(visible)}, seen by polling every 50 ms)")
    print(
        f"  stored within 2 s: {sum(1 for s in stored if s <= WITHIN.total_seconds())} of {len(due_visits)}; "
        f"visible within 2 s: {sum(1 for s in visible if s <= WITHIN.total_seconds())}"
    )
    print(
        f"  alerts per second: {len(first) / span:.0f} over the burst (all {len(first)} visible {span:.2f}s after "
        f"the first fell due); {len(first) / max(raising, 0.001):.0f} while raising (first to last stored, "
        f"{raising:.2f}s)"
    )
    counts = [f"{at}s {sum(1 for v in visible_from_first if v <= at)}" for at in (0.5, 1, 1.5, 2, 3, 5)]
    print(f"  visible so long after the first fell due: {', '.join(counts)}")
    print(f"  alerts missed {missed}, duplicated {duplicated}, raised that were not due {extra}")
    rows = AlertNotification.objects.filter(alert__in=first).select_related("alert")
    sent = [(n.sent_at - n.alert.due_at).total_seconds() for n in rows if n.sent_at]
    if sent:
        print(f"  due -> message sent         : {spread(sent)}  ({len(sent)} of {len(rows)} messages sent)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--schools", type=int, default=50)
    parser.add_argument("--out", type=int, default=2500, help="visits out at once, across the schools")
    parser.add_argument("--due", type=int, default=1000, help="of those, how many fall due in the same second")
    parser.add_argument("--old-visits", type=int, default=200_000, help="finished visits besides, by bulk insert")
    args = parser.parse_args()
    if not 0 < args.due <= args.out or args.out % args.schools or args.due % args.schools:
        raise SystemExit("--out and --due must be multiples of --schools, with --due no more than --out")
    print(
        f"Sweep burst: {args.schools} schools, {args.out} visits out, {args.due} due in one second, "
        f"{args.old_visits} old visits; sweep every {settings.ALERT_SWEEP_INTERVAL_SECONDS}s in each worker; "
        f"throwaway PostgreSQL {alert_latency.PG.url} and Redis {alert_latency.REDIS.url}; {os.cpu_count()} cores, "
        f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {timezone.now():%Y-%m-%d %H:%M} UTC"
    )
    reset()
    if School.objects.filter(slug="burst-0").exists():
        raise SystemExit("The bench database already has the burst schools: each run starts its own server.")
    t = time.monotonic()
    schools, users = load_schools(args.schools)
    load_old_visits(schools, users, args.old_visits)
    print(f"Loaded {args.schools} schools and {args.old_visits} old visits in {time.monotonic() - t:.0f}s")

    tmp = Path(tempfile.mkdtemp(prefix="hv-burst-"))
    celery = Celery(tmp)
    watcher = CommitWatcher()
    try:
        started = timezone.now()
        celery.worker("w0")
        celery.worker("w1")
        wait_for_sweep(started)

        t = time.monotonic()
        per_school_due, per_school_later = args.due // args.schools, (args.out - args.due) // args.schools
        later, due = [], []
        for school in schools:
            later += authorised_copies(
                school, users, "later", per_school_later, timezone.now() + datetime.timedelta(minutes=5)
            )
        print(f"Planned and authorised {len(later)} visits in {time.monotonic() - t:.0f}s")
        t = time.monotonic()
        check_out(later, lambda i: timezone.now())
        per_checkout = (time.monotonic() - t) / max(1, len(later))
        print(f"Checked {len(later)} out (due back in 50 minutes) in {time.monotonic() - t:.0f}s")

        # The burst second: far enough ahead to plan and check out the rest, and for their reminders to go.
        burst = timezone.now() + datetime.timedelta(seconds=args.due * (per_checkout * 1.3 + 0.03) + 30)
        burst = burst.replace(microsecond=0)
        chain = schools[0].policy().frozen_chain()
        t = time.monotonic()
        planned = datetime.timedelta(minutes=50)  # make_visit: 30 minutes and 20 of travelling
        left = burst - planned - datetime.timedelta(minutes=chain.grace_minutes)
        if timezone.localdate(left) != timezone.localdate(burst):
            raise SystemExit("The due visits would have left yesterday (it is just after midnight): run it later.")
        for school in schools:
            due += authorised_copies(school, users, "due", per_school_due, left)
        rng = random.Random(5)
        offsets = [datetime.timedelta(seconds=rng.uniform(0, 0.999)) for _ in due]
        check_out(due, lambda i: left + offsets[i])
        print(
            f"Planned, authorised and checked out {len(due)} more (overdue at {burst:%H:%M:%S}.0-.999) in "
            f"{time.monotonic() - t:.0f}s"
        )
        due_ids = [visit.pk for visit, _ in due]
        later_ids = [visit.pk for visit, _ in later]

        wait_until_quiet()
        if timezone.now() >= burst:
            raise SystemExit("Setting up ran past the burst second: nothing measured (give it fewer visits).")
        print(f"Quiet {(burst - timezone.now()).total_seconds():.0f}s before the burst: their reminders have gone.")
        show_quiet_sweep()

        watcher.start()
        deadline = time.monotonic() + (burst - timezone.now()).total_seconds() + 120
        while time.monotonic() < deadline:
            if VisitAlert.objects.filter(visit_id__in=due_ids).count() >= len(due_ids) and timezone.now() > burst:
                break
            time.sleep(0.5)
        time.sleep(3)  # more sweeps: they must add nothing
        deadline = time.monotonic() + 60
        while AlertNotification.objects.filter(sent_at__isnull=True, failed_at__isnull=True).exists():
            if time.monotonic() > deadline:
                break
            time.sleep(0.5)
        watcher.stop.set()
        watcher.join()
        report(due_ids, later_ids, watcher)
        print("\nAfter the burst (the index still holds the entries the burst's updates left behind):", end="")
        show_quiet_sweep()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM visits_visit")
        with transaction.atomic():
            plan = sweep.due_visits(now=timezone.now())[: sweep.BATCH].explain(analyze=True, buffers=True)
        after = [line.strip() for line in plan.splitlines() if "Buffers" in line or "Execution" in line]
        print(f"  after VACUUM visits_visit (as autovacuum would): {'; '.join(after[:1] + after[-1:])}")
        print(f"Load at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        watcher.stop.set()
        celery.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
