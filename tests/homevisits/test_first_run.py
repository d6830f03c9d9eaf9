"""The first start, as the README says to make it (`run.sh`: SQLite, the worker sweeping every second): signing in
never fails with "database is locked" while the sweep writes."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository


def test_twenty_sign_ins_on_sqlite_while_the_sweep_writes_see_no_server_error(tmp_path):
    # Nothing but the run command's defaults: no PostgreSQL, no Redis.
    env = {k: v for k, v in os.environ.items() if k not in {"CACHE_URL", "REDIS_URL", "CELERY_BROKER_URL"}}
    env |= {
        "DJANGO_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        # Far more often than the run command's once a second, so that sign-ins and sweeps overlap many times over.
        "ALERT_SWEEP_INTERVAL_SECONDS": "0.02",
        "DJANGO_LOG_LEVEL": "WARNING",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run(
        [sys.executable, "-m", "tests.homevisits.sqlite_logins"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    codes = result.stdout.split()
    # 302: signed in and sent on to their start page; a 500 would be the "database is locked" page.
    assert codes == ["302"] * 20, result.stderr[-4000:]
    assert "database is locked" not in result.stderr
