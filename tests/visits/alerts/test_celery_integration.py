"""A real Celery worker (which runs the sweep itself: no beat), as a subprocess, against Redis and the test's
PostgreSQL database: a visit whose due time passes during the test gets its overdue alert stored once and its
notification sent."""

import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from core.models import HomeVisitPolicy
from tests.factories import make_authorised_visit
from tests.helpers import service_unavailable
from visits.alerts.sweep import sweep_status
from visits.field.services import visit_check_in
from visits.models import AlertNotification, CheckInKind, VisitAlert

ROOT = Path(__file__).resolve().parents[3]  # the repository

pytestmark = pytest.mark.services


@pytest.fixture
def redis_url():
    url = settings.REDIS_URL
    if not url:
        service_unavailable("REDIS_URL is not set: the Celery integration test needs Redis.")

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.ping()
    except redis.RedisError as error:
        service_unavailable(f"Redis at {url} is unreachable: {error}")
    client.flushdb()  # our own db number: no stale sweeps from an earlier run
    return url


@pytest.fixture
def worker(redis_url, postgres_url, tmp_path):
    """`celery worker` on Redis and the test database; stopped (and its children) after the test."""
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    env = {
        **os.environ,
        "DJANGO_ENV": "development",
        "DATABASE_URL": postgres_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "EMAIL_URL": f"filemail:///{mail_dir}",
        "SMS_BACKEND": "visits.alerts.sms.FileSMSBackend",
        "SMS_FILE_PATH": str(tmp_path / "sms.jsonl"),
        "DJANGO_LOG_LEVEL": "WARNING",
        # This pytest-xdist worker's own cache database (tests/conftest.py), not the one the environment names.
        "CACHE_URL": settings.CACHES["default"].get("LOCATION", ""),
    }
    with open(tmp_path / "worker.log", "w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "homevisits",
                "worker",
                "-c",
                "1",
                "-l",
                "info",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        yield {"process": process, "mail_dir": mail_dir, "log": tmp_path / "worker.log"}
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for(predicate, timeout: float, what: str, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    pytest.fail(f"Timed out waiting for {what}. Worker log:\n{log.read_text()[-4000:]}")


def test_a_real_worker_raises_and_sends_an_overdue_alert_with_no_beat(cast, worker):
    cast.office.email = "office@example.org"
    cast.office.save()
    # The lead's reminder would fall due at once (due back is in the past): this test is about the overdue alert.
    # The worker is another process, so the clock cannot be moved: the school visits at any hour, or this visit,
    # started an hour ago, would need the Principal's exception in the evening.
    HomeVisitPolicy.objects.create(
        trust=cast.trust,
        school=cast.school,
        remind_before_minutes=0,
        earliest_start=datetime.time(0, 0),
        latest_start=datetime.time(23, 59),
    )
    now = timezone.now()
    # Due back 5 minutes ago, and the policy's grace is 5 minutes: overdue 6 seconds from now.
    visit = make_authorised_visit(
        lead=cast.staff,
        second=cast.staff2,
        authoriser=cast.dsl,
        start=now - datetime.timedelta(minutes=55) + datetime.timedelta(seconds=6),
    )
    # They left at the planned start (due back is re-based on the check-out).
    visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.CHECKED_OUT, now=visit.scheduled_start)
    visit.refresh_from_db()
    assert visit.alert_due_at > timezone.now()  # not due yet when handed to the worker

    wait_for(lambda: VisitAlert.objects.filter(visit=visit).exists(), 60, "the overdue alert", worker["log"])
    wait_for(lambda: AlertNotification.objects.filter(sent_at__isnull=False).exists(), 30, "the email", worker["log"])
    time.sleep(3)  # several more sweeps run: none may add a second alert or send again

    alert = VisitAlert.objects.get(visit=visit)
    assert alert.key == "overdue:0:0" and alert.raised_at >= alert.due_at == visit.alert_due_at
    sent = AlertNotification.objects.get(alert=alert, channel="email")
    assert sent.recipient == "office@example.org" and sent.attempts == 1
    mails = list(worker["mail_dir"].iterdir())
    assert len(mails) == 1
    body = mails[0].read_text()
    assert "office@example.org" in body and visit.household.address in body and visit.reason not in body

    assert sweep_status()["ok"]
