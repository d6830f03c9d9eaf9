"""Shared by the benchmarks: the bench database, created and migrated on first use, and gunicorn serving the app."""

import contextlib
import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent


def ensure_database(db_url: str) -> None:

    name = db_url.rsplit("/", 1)[1]
    with psycopg.connect(db_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        check=True,
        env={**os.environ, "DATABASE_URL": db_url, "DJANGO_SETTINGS_MODULE": "homevisits.settings"},
    )


def served_app_env(db_url: str, **extra) -> dict:
    """The environment gunicorn serves the app in for a benchmark: the bench settings with DEBUG off, and the
    static files collected first, as the README's production recipe does (the pages ask for their hashed names)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DATABASE_URL": db_url,
        **extra,
    }
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    return env


@contextlib.contextmanager
def gunicorn(app: str, *, workers: int, env: dict):
    """gunicorn serving `app` (a WSGI module) on a spare port of 127.0.0.1, answering before the block runs; yields
    the port, and stops gunicorn after the block."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "gunicorn", app, "-w", str(workers), "-b", f"127.0.0.1:{port}"]
    server = subprocess.Popen([*command, "--log-level", "warning"], cwd=ROOT, env=env)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait()


def hammer(port, path, cookie, seconds, concurrency, conditional=False, first_etag=None):
    """GET `path` as fast as `concurrency` clients can; `conditional` sends back the last ETag like a browser."""
    latencies, errors, statuses, last_etag = [], [], {}, [None]
    stop = time.monotonic() + seconds

    def run():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        etag = first_etag  # a polling screen already holds the ETag of what it shows
        while time.monotonic() < stop:
            began = time.perf_counter()
            headers = {"Cookie": cookie, "Host": "localhost"}
            if conditional and etag:
                headers["If-None-Match"] = etag
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                etag = response.getheader("ETag") or etag
                last_etag[0] = etag
                if response.status not in (200, 304):
                    errors.append(response.status)
                statuses[response.status] = statuses.get(response.status, 0) + 1
            except (OSError, http.client.HTTPException) as error:
                errors.append(str(error))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            latencies.append(time.perf_counter() - began)

    threads = [threading.Thread(target=run) for _ in range(concurrency)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    p95 = statistics.quantiles(latencies, n=20)[18] if len(latencies) > 20 else float("nan")
    return {
        "rps": len(latencies) / elapsed,
        "p95": p95,
        "n": len(latencies),
        "errors": len(errors),
        "statuses": statuses,
        "etag": last_etag[0],
    }
