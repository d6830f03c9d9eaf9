"""Browser tests: Playwright driving Debian's chromium against pytest-django's live server."""

import datetime
import os
import shutil

import pytest
from django.conf import settings

from core.models import HomeVisitPolicy
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
def cast(cast):
    """The browser tests plan their visits around the real clock (the live server cannot travel in time), so their
    school visits at any hour: a visit starting in five minutes must not need the Principal's exception at 16:30."""
    HomeVisitPolicy.objects.filter(trust=cast.trust, school=None).update(
        earliest_start=datetime.time(0, 0), latest_start=datetime.time(23, 59)
    )
    return cast


@pytest.fixture
def log_in(live_server):
    """Log a user in through the real log-in page; superusers and the roles that need a second factor get an
    authenticator app and type its code, as a person would."""

    def _log_in(page, user, password="test-password"):
        secret = None
        if user.is_superuser or user.groups.filter(name__in=settings.SECOND_FACTOR_ROLES).exists():
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


# Every page in every browser test runs under the real Content-Security-Policy: a blocked inline script or
# style, or a request to another origin, is reported by the page and fails the test that caused it.
CSP_WATCH = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
                " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


def watch_csp(context, violations: list) -> None:
    context.add_init_script(CSP_WATCH)

    def on_console(message):
        text = message.text
        # Chromium also warns of a Permissions-Policy feature it does not know: a typo would go unnoticed.
        if text.startswith("CSP violation") or "Content Security Policy" in text or "Permissions-Policy" in text:
            violations.append(text)

    context.on("console", on_console)


@pytest.fixture
def csp_violations():
    return []


@pytest.fixture(autouse=True)
def _fail_on_csp_violations(request, monkeypatch, csp_violations):
    if "page" not in request.fixturenames and "browser" not in request.fixturenames:
        yield
        return
    from playwright.sync_api import Browser

    new_context = Browser.new_context

    def watched_new_context(self, *args, **kwargs):
        context = new_context(self, *args, **kwargs)
        watch_csp(context, csp_violations)
        return context

    monkeypatch.setattr(Browser, "new_context", watched_new_context)
    yield
    assert csp_violations == [], "the Content-Security-Policy (or Permissions-Policy) objected on these pages"
