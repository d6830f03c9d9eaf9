"""A DSL sets up a second factor in chromium and signs in with it: an authenticator app (the code computed here),
then a passkey held by a virtual authenticator (Chrome DevTools protocol)."""

import re

import pytest
from allauth.mfa.models import Authenticator

from core.models import AuditEntry
from tests.helpers import totp_code

pytestmark = pytest.mark.e2e


def password_step(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("test-password")
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_load_state()


def log_out(page):
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()


def test_a_dsl_sets_up_an_authenticator_app_then_signs_in_with_its_code(page, live_server, cast):
    password_step(page, live_server, cast.dsl)
    page.goto(f"{live_server.url}/dashboard/")
    assert "/accounts/2fa/" in page.url
    assert page.get_by_text("Your role needs a second factor").is_visible()

    page.get_by_role("link", name="Activate").click()
    secret = page.get_by_label("Authenticator secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    page.wait_for_load_state()
    assert Authenticator.objects.filter(user=cast.dsl, type="totp").exists()
    page.goto(f"{live_server.url}/dashboard/")
    assert page.url == f"{live_server.url}/dashboard/"

    log_out(page)
    password_step(page, live_server, cast.dsl)
    assert "/accounts/2fa/authenticate/" in page.url
    page.locator("input[name=code]").fill(totp_code(secret, steps_ahead=1))  # the setup's code is spent
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("button", name="Don't Trust").click()
    page.wait_for_load_state()
    assert page.url == f"{live_server.url}/dashboard/"
    actions = set(AuditEntry.objects.filter(object_id=str(cast.dsl.pk)).values_list("action", flat=True))
    assert {"signin.signed_in", "signin.second_factor_added", "signin.signed_out"} <= actions


def test_a_dsl_adds_a_passkey_and_signs_in_with_it_alone(page, live_server, cast):
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    password_step(page, live_server, cast.dsl)
    page.goto(f"{live_server.url}/accounts/2fa/webauthn/add/")
    page.get_by_label("Name").fill("Work laptop")
    page.get_by_label("Passwordless").check()
    page.get_by_role("button", name="Add").click()
    page.wait_for_url(lambda url: not url.endswith("/webauthn/add/"))  # the key made, the form posted
    assert Authenticator.objects.filter(user=cast.dsl, type="webauthn").exists()
    page.goto(f"{live_server.url}/dashboard/")
    assert page.url == f"{live_server.url}/dashboard/"

    log_out(page)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("button", name="Log in with a passkey").click()
    # No password and no code: the passkey is both factors, and the DSL lands on their start page.
    page.wait_for_url(f"{live_server.url}/dashboard/")
    entry = AuditEntry.objects.filter(action="signin.signed_in", object_id=str(cast.dsl.pk)).latest("id")
    assert "webauthn" in entry.summary
