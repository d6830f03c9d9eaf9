"""Board throughput: 500 visits today at one school among 100,000 visits in PostgreSQL, served by gunicorn.
Prints requests per second and p95 latency for /board/, its live fragment /board/live/ (what the polling
screens fetch) and a trivial Django view on the same stack (same middleware, same signed-in session, Redis
cache as in production), and the ratios.

    BENCH_BOARD_DATABASE_URL=postgres://postgres@127.0.0.1:5432/hv_bench_board \\
    BENCH_CACHE_URL=redis://127.0.0.1:6379/13 \\
        .venv/bin/python bench/board_throughput.py [--seconds 10] [--rounds 3] [--workers N] [--concurrency N]

Workers default to gunicorn's recommended 2 x cores + 1, clients to twice that. The URLs take turns, round
after round, so a noisy neighbour on the machine hits them alike; the ratios printed last are the medians.
It loads the bench database once (100,000 visits by bulk insert; later runs reuse them).
"""

import argparse
import datetime
import os
import random
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_URL = os.environ.get("BENCH_BOARD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hv_bench_board")
os.environ["DATABASE_URL"] = DB_URL
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ["CACHE_URL"] = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/13")

import django

from bench.common import ensure_database, gunicorn, hammer, served_app_env

django.setup()

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from core.dates import local_day_bounds
from core.models import School
from core.roles import Role
from tests.factories import HouseholdFactory, SchoolFactory, TrustFactory, make_member, trust_default_policy
from tests.helpers import mark_second_factor_passed
from visits.alerts.sweep import alerts_sweep
from visits.models import Purpose, Visit, VisitPerson, VisitRole, VisitStatus

TOTAL, TODAY = 100_000, 500


def load():
    ensure_database(DB_URL)
    school = School.objects.filter(slug="board-bench").first()
    if school is None:
        trust = TrustFactory(name="Board Bench Trust", slug="board-bench-trust")
        trust_default_policy(trust)
        school = SchoolFactory(trust=trust, name="Board Bench Primary", slug="board-bench")
        other = SchoolFactory(trust=trust, name="Board Bench Academy", slug="board-bench-2")
        make_member("board-office", school, Role.OFFICE)
        staff = [make_member(f"board-staff{n}", school, Role.STAFF, mobile=f"020 7946 0{n:03d}") for n in range(20)]
        households = [HouseholdFactory(school=school) for _ in range(200)]
        other_households = [HouseholdFactory(school=other) for _ in range(50)]
        rng = random.Random(500)
        now = timezone.now()
        day_start, _ = local_day_bounds(timezone.localdate(now))
        rows = []
        for n in range(TOTAL - TODAY):
            start = now - datetime.timedelta(days=rng.uniform(1, 730))
            home = rng.choice(households if n % 2 else other_households)
            rows.append(
                Visit(
                    school_id=home.school_id,
                    household=home,
                    purpose=Purpose.ATTENDANCE,
                    reason="Bench.",
                    outcome_wanted="Bench.",
                    scheduled_start=start,
                    expected_duration_minutes=30,
                    expected_return=start + datetime.timedelta(minutes=50),
                    status=VisitStatus.REVIEWED,
                    requested_by=staff[0],
                )
            )
        # Today: 500 visits from 08:00, one every 72 seconds. Those that started over 45 minutes ago are back,
        # the last 45 minutes' are out (three of them overdue, with their alerts), the rest are still to go.
        for n in range(TODAY):
            start = day_start + datetime.timedelta(hours=8, seconds=72 * n)
            if start < now - datetime.timedelta(minutes=45):
                status = VisitStatus.RETURNED
            elif start < now:
                status = [VisitStatus.OUT, VisitStatus.ON_SITE, VisitStatus.LEFT][n % 3]
            else:
                status = VisitStatus.AUTHORISED
            away = status in (VisitStatus.OUT, VisitStatus.ON_SITE, VisitStatus.LEFT)
            expected_return = start + datetime.timedelta(minutes=50)
            if away and n % 6 == 0 and start < now - datetime.timedelta(minutes=20):
                expected_return = start + datetime.timedelta(minutes=10)  # overdue
            rows.append(
                Visit(
                    school=school,
                    household=rng.choice(households),
                    purpose=Purpose.ATTENDANCE,
                    reason="Bench.",
                    outcome_wanted="Bench.",
                    scheduled_start=start,
                    expected_duration_minutes=min(30, int((expected_return - start).total_seconds() // 60) or 1),
                    expected_return=expected_return,
                    status=status,
                    requested_by=staff[0],
                    lead_mobile="020 7946 0999",
                    vehicle="Blue hatchback EB12 ABC",
                    checked_out_at=start if away else None,
                    arrived_at=now if status == VisitStatus.ON_SITE else None,
                    alert_due_at=expected_return + datetime.timedelta(minutes=5) if away else None,
                )
            )
        with transaction.atomic():
            Visit.objects.bulk_create(rows, batch_size=5000)
        today = Visit.objects.filter(school=school, scheduled_start__gte=day_start)
        people = []
        for n, visit in enumerate(today):
            people.append(VisitPerson(visit=visit, role=VisitRole.LEAD, user=staff[n % 20]))
            people.append(VisitPerson(visit=visit, role=VisitRole.SECOND, user=staff[(n + 1) % 20]))
        VisitPerson.objects.bulk_create(people)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    alerts_sweep()  # raise what is overdue, so the board carries its alert cards as it would in real life
    today_start, _ = local_day_bounds(timezone.localdate())
    today = Visit.objects.filter(school=school, scheduled_start__gte=today_start).count()
    print(f"Visits in the database: {Visit.objects.count():,}; today at the board's school: {today}")
    return get_user_model().objects.get(username="board-office")


def session_cookie(user) -> str:
    """The cookies a signed-in browser sends: its session and the CSRF cookie the board page gave it."""
    client = Client()
    client.force_login(user)
    mark_second_factor_passed(client, user)  # the office must have passed a second factor to open the board
    client.get("/board/")
    return "; ".join(f"{name}={client.cookies[name].value}" for name in ("sessionid", "csrftoken"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--concurrency", type=int, default=0, help="default: twice the workers")
    args = parser.parse_args()
    concurrency = args.concurrency or 2 * args.workers
    user = load()
    cookie = session_cookie(user)
    env = served_app_env(DB_URL)
    with gunicorn("bench.wsgi", workers=args.workers, env=env) as port:
        print(
            f"gunicorn: {args.workers} sync workers; load: {concurrency} keep-alive clients for "
            f"{args.seconds:.0f}s per URL per round, {args.rounds} rounds (on the same {os.cpu_count()} shared "
            f"cores); cache {os.environ['CACHE_URL']}"
        )
        runs = [
            ("trivial view", "/bench/trivial/", False),
            ("/board/ (full page)", "/board/", False),
            ("/board/live/ rendered", "/board/live/", False),
            ("/board/live/ polled (ETag)", "/board/live/", True),
        ]
        ratios = {label: [] for label, *_ in runs[1:]}
        for round_number in range(1, args.rounds + 1):
            print(f"round {round_number}")
            results = {}
            for label, path, conditional in runs:
                warm = hammer(port, path, cookie, 2, concurrency, conditional)
                results[label] = r = hammer(
                    port,
                    path,
                    cookie,
                    args.seconds,
                    concurrency,
                    conditional,
                    first_etag=warm["etag"] if conditional else None,
                )
                print(
                    f"  {label:28} {r['rps']:8.1f} req/s   p95 {r['p95'] * 1000:7.1f} ms   "
                    f"({r['n']} requests, statuses {r['statuses']}, {r['errors']} errors)"
                )
            for label in ratios:
                ratios[label].append(results[label]["rps"] / results["trivial view"]["rps"])
        print("throughput / trivial view's, median of the rounds (each round's in brackets):")
        for label, values in ratios.items():
            each = ", ".join(f"{v:.0%}" for v in values)
            print(f"  {label:28} {statistics.median(values):6.1%}   ({each})")


if __name__ == "__main__":
    main()
