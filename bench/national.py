"""A national deployment on one PostgreSQL: every page a person opens, at 500 schools and 2,000,000 visits.

    BENCH_NATIONAL_DATABASE_URL=postgres://postgres@127.0.0.1:5432/hv_national \\
    BENCH_CACHE_URL=redis://127.0.0.1:6379/13 \\
        .venv/bin/python bench/national.py [--requests 40] [--workers N] [--seconds 10] [--csv-rows 100000] \
            [--schools 500]

The data (bench/national_data.py) is loaded on the first run (about ten minutes) and reused after; `--schools 20`
loads a small copy (4,000 visits a school as at full size) in its own database, hv_national_20, for trying the
bench out. Prints:

1. each page's SQL query count, from Django's test client in this process, as the person who opens it;
2. each page's p50 and p95 under gunicorn (DEBUG off, Redis cache, collectstatic'd), one keep-alive client
   asking `--requests` times in turn with the others, beside a trivial view in the same run, and the ratio;
3. the board's throughput (its live fragment as the screens poll it, and the full page) against the trivial
   view's, with twice as many clients as workers;
4. the visit search's CSV of `--csv-rows` rows, streamed in this process: rows per second and the peak memory
   Python allocated while streaming it (tracemalloc), for a tenth of the rows and for all of them.

Targets (issue): query counts that do not grow with the data, p95 within 10 times the trivial view's and under
150 ms, the board at 60% or more of the trivial view's throughput, the CSV in constant memory. It prints; it
never passes or fails.
"""

import argparse
import datetime
import http.client
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SCHOOLS = int(sys.argv[sys.argv.index("--schools") + 1]) if "--schools" in sys.argv else 500
DB_URL = os.environ.get("BENCH_NATIONAL_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hv_national")
if SCHOOLS != 500:
    DB_URL = f"{DB_URL}_{SCHOOLS}"
os.environ["DATABASE_URL"] = DB_URL
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ["CACHE_URL"] = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/13")

import django

from bench.common import ensure_database, gunicorn, hammer, served_app_env

django.setup()

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bench import national_data
from core.keyset import position_of
from families.models import Child
from tests.helpers import mark_second_factor_passed
from visits.models import Visit, VisitStatus
from visits.reporting import figures


def signed_in(username: str) -> Client:
    user = get_user_model().objects.get(username=username)
    client = Client()
    client.force_login(user)
    mark_second_factor_passed(client, user)  # as after the authenticator code: recent enough for the CSV too
    return client


def cookie_of(client: Client) -> str:
    return f"sessionid={client.cookies['sessionid'].value}"


def pages() -> list[tuple[str, str, str]]:
    """(what, who, path): at school 0, the pages its people open in a day, and its trust's admin's figures."""
    staff, dsl = "n0-staff1", "n0-dsl1"
    lead_id = get_user_model().objects.get(username=staff).pk
    visit = (
        Visit.objects.filter(people__user_id=lead_id, status=VisitStatus.REVIEWED).order_by("-scheduled_start").first()
    )
    child = Child.objects.filter(school__slug="national-000").order_by("pk").first()
    term = figures.recent_terms(timezone.localdate())[1]  # the last whole term
    # Where the search's 50th page starts: after the 2,450th newest visit at the school.
    deep = position_of(
        Visit.objects.filter(school__slug="national-000").order_by("-scheduled_start", "-pk")[49 * 50 - 1],
        "scheduled_start",
    )
    year_ago = timezone.localdate() - datetime.timedelta(days=365)
    return [
        ("visit list", staff, reverse("visits:list")),
        ("visit page", staff, visit.get_absolute_url()),
        ("request form", staff, reverse("visits:new")),
        ("My actions", staff, reverse("visits:my_actions")),
        ("approvals", dsl, reverse("approvals")),
        ("dashboard", dsl, reverse("dashboard")),
        ("board", "n0-office1", reverse("board")),
        ("board live fragment", "n0-office1", reverse("board-live")),
        ("search, no filter", dsl, reverse("visits:search")),
        (
            "search, filtered",
            dsl,
            f"{reverse('visits:search')}?purpose=attendance&date_from={year_ago}&status=reviewed",
        ),
        ("search, 50th page", dsl, f"{reverse('visits:search')}?after={quote(deep)}"),
        ("figures, school term", dsl, f"{reverse('figures')}?term={term.slug}"),
        ("figures, trust term", "trust0-admin", f"{reverse('figures')}?term={term.slug}"),
        ("child's chronology", dsl, reverse("visits:chronology", args=[child.pk])),
    ]


def query_counts(targets, clients) -> dict[str, tuple[int, int]]:
    counts = {}
    for label, who, path in targets:
        clients[who].get(path)  # the first request fills the caches a day of use keeps warm
        with CaptureQueriesContext(connection) as queries:
            response = clients[who].get(path)
        counts[label] = (len(queries), response.status_code)
    return counts


def latencies(port, targets, cookies, requests) -> dict[str, list[float]]:
    """Each path asked `requests` times by one keep-alive client, the paths taking turns request by request."""
    times = {label: [] for label, *_ in targets}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for round_number in range(requests + 2):
        for label, who, path in targets:
            began = time.perf_counter()
            conn.request("GET", path, headers={"Cookie": cookies[who], "Host": "localhost"})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"{label} answered {response.status}")
            if round_number >= 2:  # two rounds to warm each worker's caches
                times[label].append(time.perf_counter() - began)
    conn.close()
    return times


def csv_stream(client: Client, rows: int) -> tuple[int, float, int]:
    """The search's CSV for the newest `rows` visits everywhere (a superuser's export), streamed: (rows, seconds,
    peak bytes Python allocated while streaming). Timed once, then streamed again under tracemalloc, which slows
    Python down too much to time it."""
    nth = Visit.objects.order_by("-scheduled_start").values_list("scheduled_start", flat=True)[rows - 1]
    path = f"{reverse('visits:search')}?format=csv&date_from={timezone.localdate(nth) + datetime.timedelta(days=1)}"

    def stream() -> int:
        return sum(chunk.count(b"\n") for chunk in client.get(path).streaming_content) - 1

    began = time.perf_counter()
    lines = stream()
    seconds = time.perf_counter() - began
    tracemalloc.start()
    stream()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return lines, seconds, peak


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the board's throughput")
    parser.add_argument("--csv-rows", type=int, default=100_000)
    parser.add_argument("--schools", type=int, default=500, help="fewer for a small copy in its own database")
    args = parser.parse_args()
    national_data.SCHOOLS = args.schools
    national_data.TRUSTS = max(1, args.schools * 60 // 500)
    national_data.VISITS = args.schools * 4000

    ensure_database(DB_URL)
    national_data.load()
    print(
        f"Data: {Visit.objects.count():,} visits, {Child.objects.count():,} children, "
        f"{get_user_model().objects.count():,} people; {Visit.objects.away().count():,} out now. "
        f"{os.cpu_count()} cores; {timezone.localtime():%d %b %Y %H:%M}."
    )
    targets = pages()
    people = {who for _, who, _ in targets}
    clients = {who: signed_in(who) for who in people}
    counts = query_counts(targets, clients)

    env = served_app_env(DB_URL)
    cookies = {who: cookie_of(client) for who, client in clients.items()}
    trivial = ("trivial view", "n0-staff1", "/bench/trivial/")
    with gunicorn("bench.wsgi", workers=args.workers, env=env) as port:
        times = latencies(port, [trivial, *targets], cookies, args.requests)
        floor = statistics.quantiles(times["trivial view"], n=20)[18]
        print(f"\nPages under gunicorn ({args.workers} sync workers), one client, {args.requests} requests each:")
        print(f"  {'page':<24} {'queries':>7} {'p50 ms':>8} {'p95 ms':>8} {'p95 / trivial':>14}")
        for label, *_ in [trivial, *targets]:
            p50 = statistics.median(times[label]) * 1000
            p95 = statistics.quantiles(times[label], n=20)[18] * 1000
            queries = counts[label][0] if label in counts else 0
            print(f"  {label:<24} {queries:>7} {p50:8.1f} {p95:8.1f} {p95 / (floor * 1000):13.1f}x")

        concurrency = 2 * args.workers
        print(
            f"\nBoard throughput, {concurrency} keep-alive clients for {args.seconds:.0f} s each, {args.rounds} rounds "
            "(the URLs take turns, so a noisy neighbour hits them alike):"
        )
        runs = [
            ("trivial view", "/bench/trivial/", False),
            ("board live, polled (ETag)", reverse("board-live"), True),
            ("board live, rendered", reverse("board-live"), False),
            ("board, full page", reverse("board"), False),
        ]
        office = cookies["n0-office1"]
        shares = {label: [] for label, *_ in runs[1:]}
        for _ in range(args.rounds):
            results = {}
            for label, path, conditional in runs:
                warm = hammer(port, path, office, 2, concurrency, conditional)
                results[label] = r = hammer(
                    port, path, office, args.seconds, concurrency, conditional, first_etag=warm["etag"]
                )
                share = r["rps"] / results["trivial view"]["rps"]
                if label in shares:
                    shares[label].append(share)
                print(
                    f"  {label:<26} {r['rps']:8.1f} req/s  p95 {r['p95'] * 1000:7.1f} ms  {share:6.0%} of trivial  "
                    f"({r['errors']} errors)"
                )
        print("  median share of the trivial view's throughput:")
        for label, values in shares.items():
            print(f"  {label:<26} {statistics.median(values):6.0%}  ({', '.join(f'{v:.0%}' for v in values)})")

    superuser = get_user_model().objects.filter(username="national-superuser").first()
    if superuser is None:
        superuser = get_user_model().objects.create_superuser("national-superuser", "su@national.example.org", None)
    exporter = Client()
    exporter.force_login(superuser)
    mark_second_factor_passed(exporter, superuser)
    print("\nSearch CSV, streamed (in this process):")
    for rows in (args.csv_rows // 10, args.csv_rows):
        lines, seconds, peak = csv_stream(exporter, rows)
        print(f"  {lines:>9,} rows  {seconds:6.1f} s  {lines / seconds:8,.0f} rows/s  peak {peak / 2**20:6.1f} MB")


if __name__ == "__main__":
    main()
