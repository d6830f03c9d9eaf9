import datetime

import pytest
import time_machine

from homevisits.celery import app
from homevisits.settings import redis_cache
from visits.alerts.sweep import alerts_sweep


def test_healthz_reports_database_broker_and_alert_sweep(client, db):
    alerts_sweep()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok", "broker": "ok", "alert_sweep": "ok"}


def test_healthz_says_when_the_alert_sweep_has_stopped(client, db):
    with time_machine.travel(datetime.datetime(2026, 11, 23, 10, 0, tzinfo=datetime.UTC), tick=False):
        assert client.get("/healthz").json()["alert_sweep"] == "stale: the alert sweep has never run"
        alerts_sweep()
    with time_machine.travel(datetime.datetime(2026, 11, 23, 10, 1, tzinfo=datetime.UTC), tick=False):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded" and body["alert_sweep"] == "stale: the alert sweep last ran 60s ago"
    assert body["database"] == "ok"


def test_healthz_says_when_the_broker_is_unreachable(client, db, settings, monkeypatch):
    alerts_sweep()
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"] == "ok"
    assert body["broker"].startswith("error")


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_healthz_is_read_only(client, db, method):
    assert getattr(client, method)("/healthz").status_code == 405


def test_with_the_cache_down_the_board_still_works_and_healthz_says_so(client, cast, settings):
    """Sessions, signed-in users and the board's version live in the cache; losing it must cost speed only."""
    alerts_sweep()

    settings.CACHES = {"default": redis_cache("redis://127.0.0.1:1/0")}  # production's cache, nothing listening
    client.force_login(cast.office)
    response = client.get("/board/")
    assert response.status_code == 200 and "Check-in / check-out board" in response.content.decode()
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json()["cache"].startswith("error")
