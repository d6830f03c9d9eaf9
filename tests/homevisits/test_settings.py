"""Production mode: refuses unsafe settings, and `check --deploy` is clean once it is configured."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]  # the repository
SAFE_WORD_KEY = "bW9ja2luZy1rZXktZm9yLXRlc3RzLW9ubHktMzJieXQ="
GOOD_KEY = "k" * 20 + "-production-secret-from-the-environment-" + "z" * 20


def manage(*args, **env):
    # DJANGO_ALLOW_ASYNC_UNSAFE (set for browser tests in this process) would itself fail the deploy check.
    full_env = {
        **os.environ,
        "DJANGO_ENV": "production",
        "DJANGO_ALLOWED_HOSTS": "visits.example.org",
        "DJANGO_ALLOW_ASYNC_UNSAFE": None,
        "SAFE_WORD_KEY": SAFE_WORD_KEY,
        "CACHE_URL": "redis://127.0.0.1:6379/14",
        **env,
    }
    for name, value in list(full_env.items()):
        if value is None:
            del full_env[name]
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_when_configured():
    result = manage("check", "--deploy", "--fail-level", "WARNING", DJANGO_SECRET_KEY=GOOD_KEY)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DJANGO_SECRET_KEY": GOOD_KEY, "DJANGO_DEBUG": "true"}, "DJANGO_DEBUG must be off"),
        ({"DJANGO_SECRET_KEY": None}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "short"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": GOOD_KEY, "DJANGO_ALLOWED_HOSTS": None}, "DJANGO_ALLOWED_HOSTS"),
        # Each process caching sessions and signed-in users for itself would let a logged-out session live on.
        ({"DJANGO_SECRET_KEY": GOOD_KEY, "CACHE_URL": None}, "CACHE_URL"),
    ],
)
def test_production_refuses_to_start_unsafely(env, message):
    result = manage("check", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_seed_demo_refuses_to_run_in_production():
    result = manage("seed_demo", DJANGO_SECRET_KEY=GOOD_KEY)
    assert result.returncode != 0
    assert "production" in result.stderr.lower()


def test_time_zone_is_london_with_aware_datetimes(settings):
    assert settings.TIME_ZONE == "Europe/London"
    assert settings.USE_TZ is True


def test_development_defaults_need_no_server(monkeypatch):
    """With nothing set: SQLite under var/ and the filesystem broker, so the run command needs no server."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}}
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='homevisits.settings'; django.setup();"
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'], s.CELERY_BROKER_URL)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    engine, name, broker = out.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert name.endswith("var/db.sqlite3")
    assert broker == "filesystem://"
