"""Check-in replay: 1,000 check-ins queued on 50 phones with no signal, all sent at once when the signal returns,
against gunicorn on PostgreSQL (as the field page's outbox sends them: JSON to /visits/<id>/field/send/ with the
id the phone made). Then every one is sent again, as a phone does when it never heard the answer. Prints how many
were accepted (once each), how many duplicated (must be 0), and the time to accept (p50 / p95 / max).

Each phone is one client (a keep-alive connection and the signed-in sessions of its visitors) holding the queues
of five visits out today, each queue in the order it was tapped: arrived, running late (5 minutes), left,
returned. All 50 clients send at the same time, so visits of one school are checked in concurrently.

It starts its own throwaway PostgreSQL and Redis on spare ports under /tmp and removes them at the end. Needs root,
as scripts/test.sh does for its throwaway servers.

    .venv/bin/python bench/checkin_replay.py [--phones 50] [--visits-per-phone 5] [--workers 4]
"""

import argparse
import atexit
import datetime
import http.client
import json
import os
import signal
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.throwaway import Postgres, Redis  # noqa: E402 - needs the path above

signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
PG = Postgres()
atexit.register(PG.stop)
REDIS = Redis()
atexit.register(REDIS.stop)
DB_URL = f"{PG.url}/hv_checkin_bench"
os.environ["DATABASE_URL"] = DB_URL
os.environ["REDIS_URL"] = f"{REDIS.url}/0"
os.environ["CACHE_URL"] = f"{REDIS.url}/1"
os.environ["CELERY_BROKER_URL"] = "memory://"
os.environ["DJANGO_SETTINGS_MODULE"] = "homevisits.settings"

from bench.common import ensure_database, gunicorn  # noqa: E402

ensure_database(DB_URL)

import django  # noqa: E402

django.setup()
django.conf.settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from core.roles import Role  # noqa: E402
from tests.factories import (  # noqa: E402
    SchoolFactory,
    TrustFactory,
    make_authorised_visit,
    make_member,
    trust_default_policy,
)
from tests.helpers import mark_second_factor_passed  # noqa: E402
from visits.field.services import visit_check_in  # noqa: E402
from visits.models import CheckIn, CheckInKind  # noqa: E402

QUEUE = [("arrived", None), ("extended", 5), ("left", None), ("returned", None)]


def load(phones: int, per_phone: int) -> list[list[tuple[int, str]]]:
    """The visits, checked out a few minutes ago: for each phone, (visit id, its visitor's cookies) per visit."""
    trust = TrustFactory(name="Replay Bench Trust", slug="replay-bench-trust")
    trust_default_policy(trust)
    school = SchoolFactory(trust=trust, name="Replay Bench Primary", slug="replay-bench")
    principal = make_member("replay-principal", school, Role.PRINCIPAL)  # may approve a visit at any hour
    start = timezone.now() - datetime.timedelta(minutes=5)
    result = []
    for p in range(phones):
        mine = []
        for v in range(per_phone):
            lead = make_member(f"replay-lead-{p}-{v}", school, Role.STAFF)
            second = make_member(f"replay-second-{p}-{v}", school, Role.STAFF)
            visit = make_authorised_visit(lead=lead, second=second, authoriser=principal, start=start)
            visit_check_in(visit=visit, actor=lead, kind=CheckInKind.CHECKED_OUT, now=start)
            client = Client()
            client.force_login(lead)
            mark_second_factor_passed(client, lead)
            client.get(f"/visits/{visit.pk}/field/")  # the CSRF cookie, as the page gives it
            cookies = {name: client.cookies[name].value for name in ("sessionid", "csrftoken")}
            mine.append((visit.pk, cookies))
        result.append(mine)
    return result


def phone_queue(visits) -> list[dict]:
    """The phone's outbox: each visit's taps in the order they were made, visits one after another."""
    taps = []
    for visit_id, cookies in visits:
        for kind, minutes in QUEUE:
            taps.append(
                {
                    "visit": visit_id,
                    "cookies": cookies,
                    "body": {
                        "client_id": str(uuid.uuid4()),
                        "kind": kind,
                        "minutes": minutes or "",
                        "phone_at": timezone.now().isoformat(),
                    },
                }
            )
    return taps


def drain(port, taps, answers, latencies, gate):
    """Send every tap in order, as the outbox does; the answer and the time to it for each."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    gate.wait()
    for tap in taps:
        cookies = tap["cookies"]
        headers = {
            "Cookie": f"sessionid={cookies['sessionid']}; csrftoken={cookies['csrftoken']}",
            "X-CSRFToken": cookies["csrftoken"],
            "Content-Type": "application/json",
            "Host": "localhost",
        }
        began = time.perf_counter()
        try:
            conn.request("POST", f"/visits/{tap['visit']}/field/send/", json.dumps(tap["body"]), headers)
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            answers.append(("error", str(error)))
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            continue
        latencies.append(time.perf_counter() - began)
        try:
            answers.append((json.loads(data).get("status", "?"), response.status))
        except ValueError:
            answers.append(("not json", response.status))
    conn.close()


def send_all(port, queues) -> tuple[list, list, float]:
    answers, latencies, gate = [], [], threading.Barrier(len(queues))
    threads = [threading.Thread(target=drain, args=(port, q, answers, latencies, gate)) for q in queues]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers, latencies, time.monotonic() - began


def summary(label, answers, latencies, elapsed):
    counts = {}
    for status, code in answers:
        counts[f"{status} ({code})"] = counts.get(f"{status} ({code})", 0) + 1
    cut = statistics.quantiles(latencies, n=100) if len(latencies) > 100 else [float("nan")] * 99
    print(
        f"  {label:34} {len(answers):5} sent in {elapsed:5.1f} s   time to accept p50 {cut[49] * 1000:6.1f} ms   "
        f"p95 {cut[94] * 1000:6.1f} ms   max {max(latencies, default=0) * 1000:6.1f} ms   answers {counts}"
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--phones", type=int, default=50)
    parser.add_argument("--visits-per-phone", type=int, default=5)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    print("Loading the visits...", flush=True)
    queues = [phone_queue(visits) for visits in load(args.phones, args.visits_per_phone)]
    total = sum(len(q) for q in queues)
    env = {**os.environ, "DJANGO_DEBUG": "false", "DJANGO_LOG_LEVEL": "WARNING"}
    with gunicorn("homevisits.wsgi", workers=args.workers, env=env) as port:
        print(
            f"gunicorn: {args.workers} sync workers on PostgreSQL; {args.phones} phones at once, {total} queued "
            f"check-ins ({args.visits_per_phone} visits a phone, {len(QUEUE)} taps a visit), on {os.cpu_count()} "
            "shared cores"
        )
        summary("first sending (signal back)", *send_all(port, queues))
        summary("sent again (answers lost)", *send_all(port, queues))
    sent_ids = [tap["body"]["client_id"] for q in queues for tap in q]
    stored = CheckIn.objects.filter(client_id__in=sent_ids)
    per_tap = stored.values("client_id").annotate(n=Count("id")).filter(n__gt=1).count()
    per_visit_kind = (
        CheckIn.objects.filter(visit_id__in={t["visit"] for q in queues for t in q}, kind__in=[k for k, _ in QUEUE])
        .values("visit_id", "kind")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    print(
        f"accepted: {stored.count()} of {total} once each; duplicated: {per_tap + per_visit_kind} "
        f"(the same id twice: {per_tap}; a visit with the same check-in twice: {per_visit_kind})"
    )


if __name__ == "__main__":
    main()
