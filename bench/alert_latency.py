"""Alert latency: 100 visits fall overdue within the same minute; a real beat and real workers on Redis and
PostgreSQL raise the alerts. Prints, per scenario, the delay from each due time to its stored alert (and to its
email sent), p50 / p99 / max, and how many were missed or duplicated.

Scenarios: one worker; one worker SIGKILLed mid-run and restarted 5 s later; two workers of which one is
SIGKILLed mid-run and stays down. Beat runs as its own process throughout (the production layout).

    REDIS_URL=redis://127.0.0.1:6379/5 BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/hv_issue5_bench \\
        .venv/bin/python bench/alert_latency.py [--visits 100] [--scenario all|one|kill|two]

It creates (or empties) the bench database and flushes the Redis db it is given: use your own.
"""

import argparse
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

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hv_issue5_bench")
REDIS_URL = os.environ.get("REDIS_URL", "")
if not REDIS_URL:
    sys.exit("Set REDIS_URL to your own Redis database, e.g. redis://127.0.0.1:6379/5")
os.environ["DATABASE_URL"] = DB_URL
os.environ["REDIS_URL"] = REDIS_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "homevisits.settings")


from bench.common import ensure_database

ensure_database(DB_URL)

import django

django.setup()

import redis
from django.db import connection
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
        make_member("bench-lead", school, Role.STAFF)
        make_member("bench-second", school, Role.STAFF)
        make_member("bench-dsl", school, Role.DSL)
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

    def beat(self):
        self.start("beat", "beat", "-s", str(self.tmp / "beat-schedule"), "-l", "warning")

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
    for _ in range(count):
        due = window_start + datetime.timedelta(seconds=rng.uniform(0, 60))
        # make_visit: due back 50 minutes after the start; the policy's grace is 5 more.
        visit = make_authorised_visit(
            lead=users["bench-lead"],
            second=users["bench-second"],
            authoriser=users["bench-dsl"],
            start=due - datetime.timedelta(minutes=55),
            child=ChildFactory(household__school=school),
        )
        # They leave at the planned start: due back is re-based on the check-out time.
        visit_check_in(visit=visit, actor=users["bench-lead"], kind=CheckInKind.CHECKED_OUT, now=visit.scheduled_start)


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


def run(name, count, workers=1, kill=None):
    """kill: None, 'restart' (kill the only worker mid-run, restart it 5 s later) or 'one' (kill one of two)."""
    school, users = cast()
    reset()
    tmp = Path(tempfile.mkdtemp(prefix="hv-bench-"))
    celery = Celery(tmp)
    try:
        started = timezone.now()
        celery.beat()
        for n in range(workers):
            celery.worker(f"w{n}")
        wait_for_sweep(started)
        window_start = timezone.now() + datetime.timedelta(seconds=count * 0.3 + 5)
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=100)
    parser.add_argument("--scenario", choices=["all", "one", "kill", "two"], default="all")
    args = parser.parse_args()
    print(
        f"Alert sweep every {django.conf.settings.ALERT_SWEEP_INTERVAL_SECONDS}s; broker {REDIS_URL}; "
        f"database {DB_URL.rsplit('/', 1)[1]}"
    )
    if args.scenario in ("all", "one"):
        run("one worker + beat", args.visits)
    if args.scenario in ("all", "kill"):
        run("one worker killed mid-run and restarted", args.visits, kill="restart")
    if args.scenario in ("all", "two"):
        run("two workers, one killed mid-run", args.visits, workers=2, kill="one")


if __name__ == "__main__":
    main()
