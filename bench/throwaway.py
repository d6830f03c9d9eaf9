"""Throwaway PostgreSQL and Redis servers on spare ports under /tmp, for benchmarks that restart them (never the
shared servers on 5432 and 6379). Needs root (PostgreSQL runs as the postgres user) and the Debian packages
postgresql and redis-server. As scripts/test.sh does, with fsync off: the data is thrown away."""

import glob
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import redis


def spare_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(probe, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            probe()
            return
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.2)
    raise SystemExit(f"The throwaway {what} did not start")


class Postgres:
    def __init__(self):
        bindir = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))[-1]
        self.pg_ctl = f"{bindir}/pg_ctl"
        self.dir = Path(tempfile.mkdtemp(prefix="hv-bench-pg-", dir="/tmp"))
        shutil.chown(self.dir, "postgres", "postgres")
        self.port = spare_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}"
        subprocess.run(
            ["runuser", "-u", "postgres", "--", f"{bindir}/initdb", "-D", str(self.dir / "data"), "-U", "postgres"]
            + ["--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"],
            cwd=self.dir,
            check=True,
            capture_output=True,
        )
        self._ctl("start", "-o", self.options)

    @property
    def options(self) -> str:
        return (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=50"
        )

    def _ctl(self, *args):
        subprocess.run(
            ["runuser", "-u", "postgres", "--", self.pg_ctl, "-D", str(self.dir / "data"), "-l"]
            + [str(self.dir / "postgres.log"), "-w", "-t", "30", *args],
            cwd=self.dir,
            check=True,
            capture_output=True,
        )
        if args[0] != "stop":
            _wait(lambda: psycopg.connect(f"{self.url}/postgres", connect_timeout=2).close(), "PostgreSQL")

    def restart(self):
        """As an operator would: `pg_ctl restart -m fast` (every connection is dropped)."""
        self._ctl("restart", "-m", "fast", "-o", self.options)

    def stop(self):
        self._ctl("stop", "-m", "immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


class Redis:
    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="hv-bench-redis-", dir="/tmp"))
        self.port = spare_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self.process = None
        self.start()

    def start(self):
        log = open(self.dir / "redis.log", "a")  # noqa: SIM115 - kept for the server's life
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir)]
            + ["--save", "", "--appendonly", "no"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        _wait(lambda: redis.Redis.from_url(self.url, socket_connect_timeout=1).ping(), "Redis")

    def restart(self):
        """Killed and started again on the same port, with nothing kept (as the bench's Redis has no persistence)."""
        self.process.kill()
        self.process.wait()
        self.start()

    def stop(self):
        self.process.terminate()
        self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
