"""Alert latency: 100 visits fall overdue within the same minute; real Celery workers (each runs the sweep itself
every second) on Redis and PostgreSQL raise the alerts. Prints, per scenario, the delay from each due time to its
stored alert (and to its email sent), p50 / p99 / max, and how many were missed or duplicated.

Scenarios:
  one       one worker
  kill      the only worker SIGKILLed mid-run and restarted 5 s later (nothing covers it meanwhile)
  two       two workers, one SIGKILLed mid-run: the other (which was sweeping too) covers at its next tick
  beat      one worker and two beats (as a deployment that still runs beat for other schedules), the first beat
            SIGKILLed mid-run: nothing on the alarm path depends on beat
  redis     one worker, Redis (broker and cache) killed and restarted mid-run
  postgres  one worker, PostgreSQL restarted mid-run with `pg_ctl restart -m fast`

It starts its own throwaway PostgreSQL and Redis on spare ports under /tmp (it restarts them: never the shared
servers) and removes them at the end. Needs root, as scripts/test.sh does for its throwaway servers.

    .venv/bin/python bench/alert_latency.py [--visits 100] [--scenario all|one|kill|two|beat|redis|postgres]
"""

import argparse
import atexit
import datetime
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.throwaway import Postgres, Redis  # noqa: E402 - needs the path above

# Stop the throwaway servers however the bench ends (atexit runs on SIGTERM too, through SystemExit).
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
PG = Postgres()
atexit.register(PG.stop)
REDIS = Redis()
atexit.register(REDIS.stop)
DB_URL = f"{PG.url}/hv_alert_bench"
REDIS_URL = f"{REDIS.url}/0"
CACHE_URL = f"{REDIS.url}/1"
os.environ["DATABASE_URL"] = DB_URL
os.environ["REDIS_URL"] = REDIS_URL
os.environ["CACHE_URL"] = CACHE_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "homevisits.settings")


from bench.common import ensure_database

ensure_database(DB_URL)

import django

django.setup()
django.conf.settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # 400 bench users

import redis
from django.db import OperationalError, connection
from django.utils import timezone

from core.models import School
from core.roles import Role
from tests.factories import (
    ChildFactory,
    SchoolFactory,
    TrustFactory,
    make_authorised_visit,
    make_member,
    trust_default_policy,
)
from visits.alerts.sweep import HEARTBEAT_NAME
from visits.field.services import visit_check_in
from visits.models import AlertNotification, CheckInKind, SweepHeartbeat, Visit, VisitAlert


def cast():
    school = School.objects.filter(slug="bench-school").first()
    if school is None:
        trust = TrustFactory(name="Bench Trust", slug="bench-trust")
        trust_default_policy(trust)
        school = SchoolFactory(trust=trust, name="Bench Primary", slug="bench-school")
        make_member("bench-office", school, Role.OFFICE).__class__.objects.filter(username="bench-office").update(
            email="office@example.org"
        )
        # A pair of its own for each visit: a pair cannot be booked on two visits at once.
        for n in range(200):
            make_member(f"bench-lead-{n}", school, Role.STAFF)
            make_member(f"bench-second-{n}", school, Role.STAFF)
        make_member("bench-dsl", school, Role.DSL)
        # The Principal decides: visits due late in the evening start outside visiting hours (the Principal's rule).
        make_member("bench-principal", school, Role.PRINCIPAL)
    from django.contrib.auth import get_user_model  # the script sets Django up first (see the top)

    users = {u.username: u for u in get_user_model().objects.filter(username__startswith="bench-")}
    return school, users


def reset():
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE visits_alertnotification, visits_visitalert, visits_checkin, "
            "visits_visittransition, visits_visitperson, visits_visit_children, "
            "visits_visituserobjectpermission, visits_visit, core_auditentry CASCADE"
        )
    redis.Redis.from_url(REDIS_URL).flushdb()


class Celery:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.env = {
            **os.environ,
            "DJANGO_ENV": "development",
            "DATABASE_URL": DB_URL,
            "REDIS_URL": REDIS_URL,
            "CELERY_BROKER_URL": REDIS_URL,
            "CACHE_URL": CACHE_URL,
            "EMAIL_URL": f"filemail:///{tmp / 'mail'}",
            "DJANGO_LOG_LEVEL": "WARNING",
        }
        (tmp / "mail").mkdir(exist_ok=True)
        self.processes = {}

    def start(self, name, *args):
        log = open(self.tmp / f"{name}.log", "a")  # noqa: SIM115 - closed with the process
        self.processes[name] = (
            subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "homevisits", *args],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            ),
            log,
        )

    def worker(self, name):
        self.start(
            name, "worker", "-c", "1", "-n", f"{name}@%h", "-l", "warning", "--without-gossip", "--without-mingle"
        )

    def beat(self, name="beat"):
        self.start(name, "beat", "-s", str(self.tmp / f"{name}-schedule"), "-l", "warning")

    def kill(self, name, sig=signal.SIGKILL):
        process, log = self.processes.pop(name)
        os.killpg(process.pid, sig)
        process.wait()
        log.close()

    def stop_all(self):
        for name in list(self.processes):
            self.kill(name, signal.SIGTERM)


def wait_for_sweep(after: datetime.datetime, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        beat = SweepHeartbeat.objects.filter(name=HEARTBEAT_NAME, last_run_at__gt=after).first()
        if beat:
            return
        time.sleep(0.2)
    raise SystemExit("The sweep never ran: see the worker logs.")


def make_due_visits(school, users, count, window_start):
    """`count` visits, each overdue at a random moment in the minute after window_start."""
    rng = random.Random(5)
    for n in range(count):
        due = window_start + datetime.timedelta(seconds=rng.uniform(0, 60))
        # make_visit: due back 50 minutes after the start; the policy's grace is 5 more.
        visit = make_authorised_visit(
            lead=users[f"bench-lead-{n}"],
            second=users[f"bench-second-{n}"],
            authoriser=users["bench-principal"],
            start=due - datetime.timedelta(minutes=55),
            child=ChildFactory(household__school=school),
        )
        # They leave at the planned start: due back is re-based on the check-out time.
        visit_check_in(
            visit=visit, actor=users[f"bench-lead-{n}"], kind=CheckInKind.CHECKED_OUT, now=visit.scheduled_start
        )


def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def report(name, count, mail_dir: Path):
    visits = list(Visit.objects.select_related("household"))
    alerts = list(VisitAlert.objects.filter(key="overdue:0:0"))
    by_visit = {}
    for alert in alerts:
        by_visit.setdefault(alert.visit_id, []).append(alert)
    missed = sum(1 for v in visits if v.pk not in by_visit)
    duplicated = sum(len(a) - 1 for a in by_visit.values() if len(a) > 1)
    stored = [(a.raised_at - a.due_at).total_seconds() for a in alerts]
    sent_rows = AlertNotification.objects.filter(alert__key="overdue:0:0", sent_at__isnull=False).select_related(
        "alert"
    )
    sent = [(n.sent_at - n.alert.due_at).total_seconds() for n in sent_rows]
    mails = "".join(p.read_text() for p in mail_dir.iterdir())
    per_visit_mails = [mails.count(f"Address: {v.household.address}.") for v in visits]
    mail_missed = sum(1 for n in per_visit_mails if n == 0)
    mail_dups = sum(n - 1 for n in per_visit_mails if n > 1)
    print(f"\n== {name}: {count} visits due within one minute")
    if stored:
        print(
            f"  due -> alert stored : p50 {statistics.median(stored):.3f}s  p99 {pct(stored, 99):.3f}s  "
            f"max {max(stored):.3f}s  (n={len(stored)})"
        )
    if sent:
        print(
            f"  due -> email sent   : p50 {statistics.median(sent):.3f}s  p99 {pct(sent, 99):.3f}s  "
            f"max {max(sent):.3f}s  (n={len(sent)})"
        )
    print(f"  alerts missed {missed}, duplicated {duplicated}; emails missed {mail_missed}, duplicated {mail_dups}")
    return {
        "p50": statistics.median(stored) if stored else None,
        "p99": pct(stored, 99) if stored else None,
        "missed": missed,
        "duplicated": duplicated,
    }


def wait_for_database():
    """After a PostgreSQL restart the bench's own connection is gone too: reconnect."""
    for _ in range(100):
        try:
            connection.close()
            connection.ensure_connection()
            return
        except OperationalError:
            time.sleep(0.2)


def run(name, count, workers=1, kill=None, beats=0):
    """kill: None; 'restart' (kill the only worker mid-run, restart it 5 s later); 'one' (kill one of two workers);
    'beat' (kill the first of two beats); 'redis' (restart Redis); 'postgres' (restart PostgreSQL)."""
    school, users = cast()
    reset()
    tmp = Path(tempfile.mkdtemp(prefix="hv-bench-"))
    celery = Celery(tmp)
    try:
        started = timezone.now()
        for n in range(beats):
            celery.beat(f"beat{n}")
        for n in range(workers):
            celery.worker(f"w{n}")
        wait_for_sweep(started)
        # Long enough to create every visit before the first falls due, with two workers busy on 2 shared cores.
        window_start = timezone.now() + datetime.timedelta(seconds=count * 0.6 + 10)
        make_due_visits(school, users, count, window_start)
        lead = (window_start - timezone.now()).total_seconds()
        if lead < 0:
            print(f"  (warning: setting up took {-lead:.1f}s into the window)")
        time.sleep(max(0.0, lead) + 30)  # half way through the minute
        if kill == "restart":
            celery.kill("w0")
            print("  killed w0 (SIGKILL) at +30 s; restarting it in 5 s")
            time.sleep(5)
            celery.worker("w0")
        elif kill == "one":
            celery.kill("w0")
            print("  killed w0 (SIGKILL) at +30 s; w1 carries on alone")
        elif kill == "beat":
            celery.kill("beat0")
            print("  killed beat0 (SIGKILL) at +30 s; beat1 carries on")
        elif kill == "redis":
            t = time.monotonic()
            REDIS.restart()
            print(f"  Redis killed and restarted at +30 s (down {time.monotonic() - t:.1f}s)")
        elif kill == "postgres":
            t = time.monotonic()
            PG.restart()
            print(f"  PostgreSQL restarted (pg_ctl restart -m fast) at +30 s (took {time.monotonic() - t:.1f}s)")
            wait_for_database()
        deadline = time.monotonic() + 30 + 60
        while time.monotonic() < deadline:
            if (
                VisitAlert.objects.count() >= count
                and not AlertNotification.objects.filter(sent_at__isnull=True).exists()
                and timezone.now() > window_start + datetime.timedelta(seconds=65)
            ):
                break
            time.sleep(0.5)
        time.sleep(3)  # more sweeps: they must add nothing
        return report(name, count, tmp / "mail")
    finally:
        celery.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)


SCENARIOS = {
    "one": ("one worker", {}),
    "kill": ("one worker killed mid-run and restarted 5 s later", {"kill": "restart"}),
    "two": ("two workers (both sweep), one killed mid-run", {"workers": 2, "kill": "one"}),
    "beat": ("one worker and two beats, the first beat killed mid-run", {"beats": 2, "kill": "beat"}),
    "redis": ("one worker, Redis restarted mid-run", {"kill": "redis"}),
    "postgres": ("one worker, PostgreSQL restarted mid-run", {"kill": "postgres"}),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=100, choices=range(1, 201), metavar="1..200")
    parser.add_argument("--scenario", choices=["all", *SCENARIOS], default="all")
    args = parser.parse_args()
    print(
        f"Alert sweep every {django.conf.settings.ALERT_SWEEP_INTERVAL_SECONDS}s in each worker; throwaway "
        f"PostgreSQL {PG.url} and Redis {REDIS.url}; {os.cpu_count()} cores; {timezone.now():%Y-%m-%d %H:%M} UTC"
    )
    for key, (name, options) in SCENARIOS.items():
        if args.scenario in ("all", key):
            run(name, args.visits, **options)


if __name__ == "__main__":
    main()
