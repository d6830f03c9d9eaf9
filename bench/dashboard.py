"""/dashboard/ with 100,000 visits in PostgreSQL: requests per second and p95, beside a trivial Django view.

    .venv/bin/python bench/dashboard.py [--visits 100000] [--requests 200] [--database hv_bench_dashboard]

Needs PostgreSQL at 127.0.0.1:5432 (trust auth, user postgres). It (re)creates the named database, migrates it,
bulk-inserts the visits (two schools; most of them reviewed over three years, with a realistic handful waiting:
requests, today's visits, staff out, forms late and awaiting review) and then times, in ONE process and run:

- GET /dashboard/ as a DSL, and
- GET /bench-trivial/, a view that returns "ok" without touching the database (the floor for this stack),

each with Django's test client in a loop (in-process: URL routing, middleware, session and auth, view,
template; no network and no WSGI server). DEBUG is off. Prints requests/s, median and p95 for both, and the
number of SQL queries one dashboard request makes. Prints figures; never passes or fails.
"""

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

urlpatterns = []  # filled in main(): the project's URLs plus the trivial view, as this module's urlconf


def _recreate_database(name: str) -> None:

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def _build(total: int):
    # main() points Django at the benchmark's database and sets it up, so Django and the project load only now.
    from django.test.utils import override_settings
    from django.utils import timezone

    from core.roles import Role
    from tests.factories import SchoolFactory, TrustFactory, bulk_visits, make_member, trust_default_policy
    from visits.models import Purpose, VisitStatus

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        trust = TrustFactory(name="Bench Trust", slug="bench")
        trust_default_policy(trust)
        schools = [SchoolFactory(trust=trust, name=f"Bench School {i}", slug=f"bench-{i}") for i in range(2)]
        dsl = make_member("bench-dsl", schools[0], Role.DSL)
        staff = [
            make_member(f"bench-staff-{s}-{i}", school, Role.STAFF)
            for s, school in enumerate(schools)
            for i in range(10)
        ]
    now = timezone.now()
    waiting = [  # (status, count per school, start relative to now)
        (VisitStatus.REQUESTED, 30, datetime.timedelta(days=3)),
        (VisitStatus.AUTHORISED, 15, datetime.timedelta(hours=1)),
        (VisitStatus.ON_SITE, 4, datetime.timedelta(minutes=-20)),
        (VisitStatus.RETURNED, 12, datetime.timedelta(days=-2)),
        (VisitStatus.REPORTED, 25, datetime.timedelta(days=-1)),
    ]
    made = 0
    purposes = list(Purpose.values)
    for s, school in enumerate(schools):
        for status, count, offset in waiting:
            bulk_visits(lead=staff[s * 10], n=count, status=status, start=now + offset, school=school)
            made += count
    history_start = now - datetime.timedelta(days=3 * 365)
    chunk = 5000
    i = 0
    while made < total:
        n = min(chunk, total - made)
        s = i % 2
        bulk_visits(
            lead=staff[s * 10 + i % 10],
            n=n,
            status=VisitStatus.REVIEWED,
            school=schools[s],
            start=history_start + datetime.timedelta(days=i * 7),
            step_minutes=17,
            purpose=purposes[i % len(purposes)],
        )
        made += n
        i += 1
    return dsl


def _time(client, url: str, n: int) -> list[float]:
    for _ in range(5):  # warm-up: template loading, first connection
        assert client.get(url).status_code == 200
    times = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    return times


def _line(name: str, times: list[float]) -> str:
    p95 = statistics.quantiles(times, n=20)[18]
    rate = len(times) / (sum(times) / 1000)
    return f"{name:<28} {rate:8.1f} req/s   median {statistics.median(times):7.2f} ms   p95 {p95:7.2f} ms"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database", default="hv_bench_dashboard")
    parser.add_argument("--reuse", action="store_true", help="keep the database built by an earlier run")
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{args.database}"
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "homevisits.settings")
    if not args.reuse:
        _recreate_database(args.database)
    import django  # after the benchmark's DATABASE_URL is in the environment

    django.setup()
    # Django is set up just above, so its modules and the project's are imported only now.
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.http import HttpResponse
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.urls import include, path

    from visits.models import Visit

    def trivial(request):
        return HttpResponse("ok")

    urlpatterns[:] = [path("bench-trivial/", trivial), path("", include("homevisits.urls"))]

    if not args.reuse:
        call_command("migrate", verbosity=0)
        start = time.perf_counter()
        _build(args.visits)
        print(f"built {Visit.objects.count():,} visits in {time.perf_counter() - start:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    dsl = get_user_model().objects.get(username="bench-dsl")

    with override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"]):
        client = Client()
        client.force_login(dsl)
        with CaptureQueriesContext(connection) as ctx:
            client.get("/dashboard/")
        print(f"{Visit.objects.count():,} visits; one /dashboard/ request makes {len(ctx.captured_queries)} queries")
        # Interleave the two so both see the same machine load (two shared cores).
        dash, triv = [], []
        for _ in range(4):
            dash += _time(client, "/dashboard/", args.requests // 4)
            triv += _time(client, "/bench-trivial/", args.requests // 4)
        print(f"Django test client in a loop, one process, DEBUG off, PostgreSQL server {connection.pg_version}")
        print(_line("/bench-trivial/ (no DB)", triv))
        print(_line("/dashboard/ (DSL)", dash))


if __name__ == "__main__":
    main()
