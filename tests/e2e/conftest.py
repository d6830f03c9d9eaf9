"""Browser tests: Playwright driving Debian's chromium against pytest-django's live server."""

import os
import shutil

import pytest
from django.conf import settings

from tests.helpers import give_totp, totp_code

# The live server runs in a thread of this process; Playwright's sync API runs an event loop in it too.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Without these flags chromium tries to reach Google's hosts, which this network refuses.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not shutil.which(CHROMIUM):
        # A missing browser is a broken machine, not a reason to skip: scripts/test.sh installs it.
        pytest.fail(f"Debian's chromium is not at {CHROMIUM}; run scripts/test.sh to install it.")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_FLAGS}


@pytest.fixture
def log_in(live_server):
    """Log a user in through the real log-in page; the roles that need a second factor get an authenticator app
    and type its code, as a person would."""

    def _log_in(page, user, password="test-password"):
        secret = None
        if user.groups.filter(name__in=settings.SECOND_FACTOR_ROLES).exists():
            secret = give_totp(user)
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in", exact=True).click()
        page.wait_for_load_state()
        if secret and "/2fa/authenticate/" in page.url:
            page.locator("input[name=code]").fill(totp_code(secret))
            page.get_by_role("button", name="Sign In").click()
            page.get_by_role("button", name="Don't Trust").click()
            page.wait_for_load_state()

    return _log_in
