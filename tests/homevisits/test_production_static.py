"""The README's production recipe, for real: collectstatic, then gunicorn with DEBUG off serves the pages and their
own CSS and JS (whitenoise), under hashed names, compressed, and cached by browsers for a year."""

import gzip
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import brotli
import pytest
from django.conf import settings

from tests.helpers import service_unavailable

ROOT = Path(__file__).resolve().parents[2]  # the repository
YEAR = 365 * 24 * 60 * 60

pytestmark = pytest.mark.services


def production_env(database_url: str, static_root: Path) -> dict:
    """What the README's recipe exports, with test values for the secrets."""
    cache_url = settings.CACHES["default"].get("LOCATION", "")
    if not settings.CACHES["default"]["BACKEND"].startswith("django_redis"):
        service_unavailable("Production needs the Redis cache (CACHE_URL).")
    env = {
        **os.environ,
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": "smoke-test-secret-" + "s" * 40,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "SAFE_WORD_KEY": "bW9ja2luZy1rZXktZm9yLXRlc3RzLW9ubHktMzJieXQ=",
        "DATABASE_URL": database_url,
        "CACHE_URL": cache_url,
        "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.org:587",
        "SMS_BACKEND": "tests.homevisits.test_settings.ProviderSMSBackend",
        "DJANGO_STATIC_ROOT": str(static_root),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the browser tests; production refuses it
    env.pop("DJANGO_DEBUG", None)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gunicorn(postgres_url, tmp_path):
    static_root = tmp_path / "static"
    env = production_env(postgres_url, static_root)
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert collected.returncode == 0, collected.stderr
    port = free_port()
    log = open(tmp_path / "gunicorn.log", "w")  # noqa: SIM115 - closed after the server stops
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "homevisits.wsgi", "-b", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                fetch(base + "/healthz")
                break
            except urllib.error.HTTPError:
                break  # it answers (503 is fine: no worker sweeps here)
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("gunicorn did not start:\n" + (tmp_path / "gunicorn.log").read_text()[-4000:])
                time.sleep(0.2)
        yield base, static_root
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def fetch(url: str, **headers):
    # As the HTTPS proxy in front of it would send it (production redirects plain http to https).
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https", **headers})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own server
        return response.status, response.headers, response.read()


def decoded(headers, body: bytes) -> bytes:
    encoding = headers.get("Content-Encoding")
    if encoding == "br":
        return brotli.decompress(body)
    if encoding == "gzip":
        return gzip.decompress(body)
    return body


def test_gunicorn_serves_the_log_in_page_with_its_own_css_and_js_compressed_and_cached(gunicorn):
    base, static_root = gunicorn
    status, headers, body = fetch(base + "/accounts/login/")
    assert status == 200
    html = body.decode()
    # The strict policy still holds with the files served by the app itself.
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe" not in csp

    assets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html) + re.findall(r'<script src="([^"]+)"', html)
    assert any(a.endswith(".css") for a in assets) and any(a.endswith(".js") for a in assets), assets
    for asset in assets:
        # A new release changes the name, so a browser never runs yesterday's script against today's page.
        name = re.fullmatch(r"/static/(.+)\.[0-9a-f]{12}\.(css|js)", asset)
        assert name, asset
        original = (static_root / f"{name[1]}.{name[2]}").read_bytes()  # as collected, under its own name
        for accept in ("br, gzip", "gzip"):
            status, headers, body = fetch(base + asset, **{"Accept-Encoding": accept})
            assert status == 200, asset
            assert headers["Content-Encoding"] == accept.split(",")[0], (asset, accept)
            assert decoded(headers, body) == original, asset
            assert len(body) < len(original), asset
            max_age = int(re.search(r"max-age=(\d+)", headers["Cache-Control"])[1])
            assert max_age >= YEAR and "no-store" not in headers["Cache-Control"], headers["Cache-Control"]
