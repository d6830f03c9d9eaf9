"""The alarm path with a part broken: a visit whose sweep raises, a dead man's switch outside the system, a
broker that is down, a sweep loop that must outlive a database restart."""

import datetime
import http.server
import logging
import socket
import threading

import pytest
from django.core import mail
from django.db import OperationalError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from homevisits.celery import app
from tests.visits.alerts.clock import UTC, at
from tests.visits.alerts.pairs import pairs_out_at_ten
from visits.alerts import delivery, services, sms, sweep, sweeper
from visits.board.pages import forget_everything
from visits.models import (
    AlertNotification,
    AlertOutcome,
    NotificationChannel,
    SweepHeartbeat,
    Visit,
    VisitAlert,
)


@pytest.fixture(autouse=True)
def _quiet(settings):
    settings.ALERT_SWEEP_PING_URL = ""
    settings.ALERT_SWEEP_PING_EVERY_SECONDS = 0
    sms.outbox.clear()
    sweep._last_ping[0] = float("-inf")
    yield
    sms.outbox.clear()


@pytest.fixture
def three_out(cast):
    """Three pairs out, all overdue at 10:55; the office has an email."""
    return pairs_out_at_ten(cast, 3)


def break_one(monkeypatch, bad):
    """Queueing `bad`'s messages raises, as a corrupt row or a bug would; the others sweep as usual."""
    real = sweep._notify

    def notify(alert, now, reads, writes, round_number=0):
        if alert.visit_id == bad.pk:  # its timer and alert are written by now: the savepoint must undo them
            raise ValueError("a corrupt row")
        return real(alert, now, reads, writes, round_number)

    monkeypatch.setattr(sweep, "_notify", notify)


def test_one_visit_that_fails_is_set_aside_and_every_other_is_still_alerted(cast, three_out, monkeypatch, caplog):
    bad, *good = three_out
    break_one(monkeypatch, bad)
    with at(10, 55), caplog.at_level(logging.ERROR, logger="visits.alerts.sweep"):
        assert sweep.alerts_sweep() == 2
    assert set(VisitAlert.objects.values_list("visit", flat=True)) == {v.pk for v in good}
    assert f"visit {bad.pk} failed" in caplog.text and "a corrupt row" in caplog.text
    bad.refresh_from_db()
    assert bad.alerting_failed_at == datetime.datetime(2026, 11, 23, 10, 55, tzinfo=UTC)
    assert bad.alerting_error == "ValueError: a corrupt row"
    assert bad.escalation_level == 0  # its own half-done work was rolled back
    assert AlertNotification.objects.filter(alert__visit=bad).count() == 0
    # Not claimed again at once: the next sweeps leave it alone until its retry time.
    assert bad.alert_due_at == datetime.datetime(2026, 11, 23, 10, 55, 30, tzinfo=UTC)
    with at(10, 55, 1):
        assert sweep.alerts_sweep() == 0
    assert caplog.text.count(f"visit {bad.pk} failed") == 1


def test_a_failing_visit_first_in_line_does_not_starve_the_rest(cast, three_out, monkeypatch):
    bad = three_out[0]
    Visit.objects.filter(pk=bad.pk).update(alert_due_at=datetime.datetime(2026, 11, 23, 10, 54, tzinfo=UTC))
    break_one(monkeypatch, bad)
    with at(10, 55):
        assert sweep.alerts_sweep(batch=1) == 2  # one visit per batch: the bad one first, then the others
    with at(10, 55, 40):  # its retry is due, and it still fails: the others are not held up by it
        assert sweep.alerts_sweep(batch=1) == 0
    assert VisitAlert.objects.count() == 2


def test_the_board_and_healthz_say_ring_them_until_a_sweep_succeeds(cast, three_out, monkeypatch):
    bad = three_out[0]
    break_one(monkeypatch, bad)
    with at(10, 55):
        sweep.alerts_sweep()
    office = Client()
    office.force_login(cast.office)
    forget_everything()
    with at(10, 55, 5):
        html = office.get("/board/live/").content.decode()
        row = html[html.index(f'id="visit-{bad.pk}"') :]
        row = row[: row.index("</tr>")]
        assert "Alerting failed for this visit: ring them" in row
        assert html.count("Alerting failed for this visit") == 1
        health = office.get("/healthz")
    assert health.status_code == 503
    assert health.json()["alert_sweep"] == "failing: alerting failed for 1 visit(s): ring them"

    monkeypatch.undo()  # fixed: its retry raises its alert and clears the warning
    with at(10, 55, 30):
        assert sweep.alerts_sweep() == 1
    bad.refresh_from_db()
    assert bad.alerting_failed_at is None and bad.alerting_error == ""
    forget_everything()
    with at(10, 55, 31):
        assert "Alerting failed" not in office.get("/board/live/").content.decode()
        assert office.get("/healthz").json()["alert_sweep"] == "ok"


def test_a_sweep_whose_work_rolled_back_writes_no_heartbeat(cast, three_out, monkeypatch):
    def database_gone(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(sweep, "_due_alerts", lambda *a, **k: database_gone())
    monkeypatch.setattr(Visit.objects, "filter", lambda *a, **k: database_gone())
    with at(10, 55), pytest.raises(OperationalError):
        sweep.alerts_sweep()
    assert not SweepHeartbeat.objects.exists()
    assert sweep.sweep_status()["ok"] is False


class Monitor(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []
    heard = threading.Event()

    def do_GET(self):  # noqa: N802 - the stdlib's name
        Monitor.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"OK")
        Monitor.heard.set()

    def log_message(self, *args):
        pass


@pytest.fixture
def monitor():
    Monitor.hits.clear()
    Monitor.heard.clear()
    server = http.server.HTTPServer(("127.0.0.1", 0), Monitor)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/ping/abc"
    server.shutdown()
    server.server_close()


def test_a_healthy_sweep_pings_the_dead_mans_switch(db, settings, monitor):
    settings.ALERT_SWEEP_PING_URL = monitor
    sweep.alerts_sweep()
    assert Monitor.heard.wait(10)
    assert Monitor.hits == ["/ping/abc"]


def test_pings_are_spaced_out(db, settings, monitor):
    settings.ALERT_SWEEP_PING_URL = monitor
    settings.ALERT_SWEEP_PING_EVERY_SECONDS = 3600
    sweep.alerts_sweep()
    assert Monitor.heard.wait(10)
    sweep.alerts_sweep()
    sweep.alerts_sweep()
    # A fourth ping would have come in by the time a fresh request is answered: the same server, same thread.
    settings.ALERT_SWEEP_PING_EVERY_SECONDS = 0
    Monitor.heard.clear()
    sweep.alerts_sweep()
    assert Monitor.heard.wait(10)
    assert Monitor.hits == ["/ping/abc", "/ping/abc"]


def test_a_sweep_with_a_failed_visit_does_not_ping(cast, settings, three_out, monitor, monkeypatch):
    settings.ALERT_SWEEP_PING_URL = monitor
    break_one(monkeypatch, three_out[0])
    with at(10, 55):
        assert sweep.alerts_sweep() == 2
    assert sweep._last_ping[0] == float("-inf")  # no ping was even started


def test_a_monitor_that_never_answers_does_not_hold_up_the_sweep(cast, settings, three_out, caplog, monkeypatch):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts connections into its backlog and never answers
    settings.ALERT_SWEEP_PING_URL = f"http://127.0.0.1:{silent.getsockname()[1]}/ping"
    settings.ALERT_SWEEP_PING_TIMEOUT_SECONDS = 0.2
    started = []
    real = sweep.ping_dead_mans_switch
    monkeypatch.setattr(sweep, "ping_dead_mans_switch", lambda: started.append(real()) or started[-1])
    try:
        with at(10, 55), caplog.at_level(logging.WARNING, logger="visits.alerts.sweep"):
            assert sweep.alerts_sweep() == 3  # returned with its work done while the ping still waits
            assert VisitAlert.objects.count() == 3
            # The ping gives up after its short timeout and says so.
            (thread,) = started
            thread.join(20)
            assert not thread.is_alive()
        assert "Pinging the alert sweep's monitor failed" in caplog.text and "timed out" in caplog.text
    finally:
        silent.close()


def test_alerts_are_raised_and_sent_with_the_broker_down(cast, three_out, monkeypatch):
    """The workers' own sweep and the outbox need only PostgreSQL: nothing is queued through the broker."""
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")  # nothing listens there
    with at(10, 55):
        assert sweeper.sweep_and_deliver() == 3
    assert [m.to for m in mail.outbox] == [["office@example.org"]] * 3
    names = " and ".join(p.name for p in three_out[0].people.all())
    assert any(f"Visitors: {names}." in m.body and names in m.subject for m in mail.outbox)
    assert not AlertNotification.objects.filter(sent_at__isnull=True).exists()


def test_a_notification_that_could_not_be_sent_waits_in_the_outbox(cast, three_out, monkeypatch):
    def mail_server_down(notification):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(delivery, "_send", mail_server_down)
    with at(10, 55):
        sweeper.sweep_and_deliver()
    office_emails = AlertNotification.objects.filter(channel=NotificationChannel.EMAIL, recipient="office@example.org")
    assert office_emails.filter(sent_at__isnull=True).count() == 3
    monkeypatch.undo()
    with at(10, 55, delivery.retry_delay(1).seconds):  # the first retry falls due
        sweeper.sweep_and_deliver()
    assert len(mail.outbox) == 3 and not office_emails.filter(sent_at__isnull=True).exists()


def test_the_sweep_logs_what_it_raises_and_its_return_after_a_gap_and_nothing_else(cast, three_out, caplog):
    """The run command's console shows requests and warnings: a sweep every second must not bury them."""
    caplog.set_level(logging.INFO)

    def logged(hour, minute, second):
        caplog.clear()
        with at(hour, minute, second):
            sweep.alerts_sweep()
        return [(r.levelname, r.getMessage()) for r in caplog.records if r.name.startswith("visits")]

    assert logged(10, 54, 58) == [("INFO", "The alert sweep is running")]
    assert logged(10, 54, 59) == []
    raised = logged(10, 55, 0)  # all three pairs overdue
    assert sorted(raised) == sorted(
        ("INFO", f"Raised Overdue: Office rings the lead's mobile for visit {v.pk} (due 10:55:00)") for v in three_out
    )
    assert logged(10, 55, 1) == []
    # Nobody swept for ten minutes (the worker was down): said once, when it is back.
    assert logged(11, 5, 0) == [("WARNING", "The alert sweep is running again after a gap of 599 s")]
    assert logged(11, 5, 1) == []


def test_the_sweeper_loop_outlives_a_database_restart(monkeypatch, caplog):
    calls = []
    stop = threading.Event()

    def tick():
        calls.append(len(calls))
        if len(calls) == 1:
            raise OperationalError("terminating connection due to administrator command")
        stop.set()
        return 0

    closed, seals = [], []
    monkeypatch.setattr(sweeper, "sweep_and_deliver", tick)
    monkeypatch.setattr(sweeper, "audit_seal_or_log", lambda **kwargs: seals.append(kwargs))
    monkeypatch.setattr(sweeper.connection, "close", lambda: closed.append(True))
    with caplog.at_level(logging.ERROR, logger="visits.alerts.sweeper"):
        sweeper.run(stop, 0)
    assert calls == [0, 1]  # it tried again after the failure
    assert len(seals) == 2  # the audit trail is sealed at every tick, a failed sweep's included
    assert "The alert sweep failed" in caplog.text
    assert closed  # on a fresh connection


def test_a_pair_late_a_third_time_is_alerted_a_third_time(cast, three_out):
    """Each "rang, all fine, new time" starts a round of its own: a later lateness is never taken for an old one."""
    visit = three_out[0]
    for n, (late_at, new_return) in enumerate([((10, 55), (11, 10)), ((11, 15), (11, 30)), ((11, 35), (11, 50))]):
        with at(*late_at):
            sweep.alerts_sweep()
            alert = VisitAlert.objects.get(visit=visit, acknowledged_at__isnull=True)
            assert alert.key == f"overdue:{n}:0"
            services.alert_acknowledge(
                alert=alert,
                actor=cast.office,
                outcome=AlertOutcome.RANG_ALL_FINE,
                new_return=datetime.datetime(2026, 11, 23, *new_return, tzinfo=UTC),
            )


def test_a_text_carries_the_whole_message(cast, three_out):
    """The police step texts the office and the senior staff: who, where, the lead's number, what to do."""
    cast.dsl.profile.mobile = "020 7946 0999"
    cast.dsl.profile.save()
    visit = three_out[0]
    with at(11, 25):  # every step of the chain has fallen due, the police prompt among them
        sweeper.sweep_and_deliver()
    texts = [t["body"] for t in sms.outbox if t["to"] == "+442079460999"]
    assert texts, sms.outbox
    names = " and ".join(p.name for p in visit.people.all())
    body = next(t for t in texts if visit.household.address in t)
    assert body.startswith("[Home visits] ") and f"Visitors: {names}." in body
    assert "Lead's mobile: +442079460456." in body or "Lead's mobile: 020 7946 0456." in body
    assert body.endswith("Open the board to acknowledge what you did.")


def test_a_notification_that_keeps_failing_is_tried_its_attempts_then_left_for_the_board(cast, three_out, monkeypatch):
    calls = []

    def always_down(notification):
        calls.append(notification.pk)
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(delivery, "_send", always_down)
    visit = three_out[0]
    with at(10, 55):
        sweep.alerts_sweep()
    row = AlertNotification.objects.get(alert__visit=visit, channel=NotificationChannel.EMAIL)
    for second in range(60):  # longer than every back-off together
        with at(10, 55, second):
            delivery.notifications_deliver()
    row.refresh_from_db()
    assert row.attempts == delivery.MAX_SEND_ATTEMPTS
    assert calls.count(row.pk) == delivery.MAX_SEND_ATTEMPTS and row.sent_at is None
    assert row.failed_at is not None and "mail server down" in row.last_error


def test_delivery_reads_a_fixed_number_of_queries_however_many_it_sends(cast, three_out):
    with at(10, 55):
        sweep.alerts_sweep()
    first, *others = [
        AlertNotification.objects.get(alert__visit=visit, channel=NotificationChannel.EMAIL) for visit in three_out
    ]
    already = dict(sent_at=datetime.datetime(2026, 1, 1, tzinfo=UTC), provider_id="test:sent-before")
    AlertNotification.objects.exclude(pk=first.pk).update(**already)
    with CaptureQueriesContext(connection) as one:
        assert delivery.notifications_deliver() == 1
    AlertNotification.objects.filter(pk__in=[row.pk for row in others]).update(sent_at=None, provider_id="")
    with CaptureQueriesContext(connection) as two:
        assert delivery.notifications_deliver() == 2
    # One save per row sent; the reads (rows, alerts, visits, households, people) stay the same.
    assert len(two) - len(one) == 1


def test_a_tick_sends_batch_after_batch_while_it_has_time_and_one_batch_when_it_has_none(
    cast, three_out, monkeypatch, settings
):
    monkeypatch.setattr(delivery, "BATCH", 2)
    unsent = AlertNotification.objects.filter(sent_at__isnull=True)
    settings.ALERT_SWEEP_INTERVAL_SECONDS = 0  # no time left once the sweep is done: one batch goes
    with at(10, 55):
        sweeper.sweep_and_deliver()
    assert unsent.count() == 3 * 3 - 2
    settings.ALERT_SWEEP_INTERVAL_SECONDS = 60
    with at(10, 55, 1):
        sweeper.sweep_and_deliver()
    assert not unsent.exists()


def test_each_worker_process_starts_one_sweeper_unless_told_not_to(settings, monkeypatch):
    running, release = threading.Event(), threading.Event()
    monkeypatch.setattr(sweeper, "run", lambda stop, interval: running.set() or release.wait(30))
    monkeypatch.setattr(sweeper, "_thread", None)
    settings.ALERT_SWEEP_IN_WORKERS = False
    assert sweeper.start() is None
    settings.ALERT_SWEEP_IN_WORKERS = True
    thread = sweeper.start()
    assert running.wait(30) and thread.daemon
    assert sweeper.start() is None  # one per process
    release.set()
    thread.join(30)
