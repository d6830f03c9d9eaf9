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
        "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.org:587",
        "SMS_BACKEND": f"{__name__}.ProviderSMSBackend",
        **env,
    }
    for name, value in list(full_env.items()):
        if value is None:
            del full_env[name]
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120
    )


class ProviderSMSBackend:
    """Stands for a provider's backend in the production settings: never sends (the subprocess only checks)."""

    def send(self, to, body, reference=""):
        raise AssertionError("not for sending")


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


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({"EMAIL_URL": "consolemail://"}, "EMAIL_BACKEND"),
        ({"EMAIL_URL": "filemail:///tmp/mail"}, "EMAIL_BACKEND"),
        ({"EMAIL_URL": "memorymail://"}, "EMAIL_BACKEND"),
        ({"EMAIL_URL": None}, "EMAIL_BACKEND"),  # the default is the console
        ({"SMS_BACKEND": "visits.alerts.sms.ConsoleSMSBackend"}, "SMS_BACKEND"),
        ({"SMS_BACKEND": "visits.alerts.sms.FileSMSBackend"}, "SMS_BACKEND"),
        ({"SMS_BACKEND": "visits.alerts.sms.LocmemSMSBackend"}, "SMS_BACKEND"),
        ({"SMS_BACKEND": None}, "SMS_BACKEND"),
    ],
)
def test_production_refuses_backends_that_reach_nobody(env, setting):
    """A reset link or a duress alert printed to the log instead of sent: production does not start."""
    result = manage("check", DJANGO_SECRET_KEY=GOOD_KEY, **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{setting} is " in result.stderr


def test_deploy_check_names_each_unsafe_backend():
    """Outside production the app starts, and `check --deploy` says which setting would be refused."""
    env = {"DJANGO_ENV": "development", "EMAIL_URL": "consolemail://", "SMS_BACKEND": None}
    result = manage("check", "--deploy", **env)
    assert result.returncode != 0
    assert "EMAIL_BACKEND: (homevisits.E001)" in result.stderr
    assert "SMS_BACKEND: (homevisits.E002)" in result.stderr
    assert "console" in result.stderr


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


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="a PostgreSQL setting")
def test_a_statement_timeout_from_the_environment_cancels_a_runaway_query():
    code = (
        "from django.db import connection, OperationalError\n"
        "try:\n"
        "    connection.cursor().execute('SELECT pg_sleep(2)')\n"
        "    print('finished')\n"
        "except OperationalError as error:\n"
        "    print('cancelled' if 'statement timeout' in str(error) else error)\n"
    )
    server = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    run = dict(DJANGO_ENV=None, DATABASE_URL=f"{server}/postgres")  # a database every server has; no tables needed
    slow = manage("shell", "-v", "0", "-c", code, DATABASE_STATEMENT_TIMEOUT_MS="200", **run)
    assert slow.stdout.strip().splitlines()[-1:] == ["cancelled"], slow.stderr
    patient = manage("shell", "-v", "0", "-c", code, **run)
    assert patient.stdout.strip().splitlines()[-1:] == ["finished"], patient.stderr
