"""Passwords that cannot be guessed, and a second factor before any page for the roles that need one."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.models import AuditEntry, TrustSignInPolicy
from tests.helpers import give_totp, totp_code, wrong_code


def sign_in(client, user, password="test-password", **extra):
    return client.post(reverse("login"), {"login": user.username, "password": password}, **extra)


def give_code(client, secret, *, trust_browser=False, steps_ahead=0):
    """The code, then the question allauth asks next: whether to trust this browser."""
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret, steps_ahead=steps_ahead)})
    assert response.status_code == 302 and response.url == reverse("mfa_trust"), response
    return client.post(reverse("mfa_trust"), {"action": "trust" if trust_browser else "no"})


@pytest.mark.parametrize("password", ["Summer2026", "safeguarding", "short-Pw1!", "password1234"])
def test_guessable_passwords_are_refused(password, db):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_a_long_unguessable_passphrase_is_accepted(db):
    validate_password("marmalade tractor quietly orbit")


def test_changing_to_a_guessable_password_says_why_next_to_the_field(client, cast):
    client.force_login(cast.staff)
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": "test-password", "password1": "Summer2026", "password2": "Summer2026"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["password1"]
    assert any("at least 12 characters" in e for e in errors)
    cast.staff.refresh_from_db()
    assert cast.staff.check_password("test-password")


def test_a_dsl_without_a_second_factor_sees_only_its_setup(client, cast):
    response = sign_in(client, cast.dsl)
    assert response.status_code == 302
    response = client.get("/dashboard/", follow=True)
    assert b"Your role needs a second factor" in response.content
    for url in ["/dashboard/", "/safeguarding/concerns/", "/visits/", "/admin/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("mfa_index")), url
    assert client.get(reverse("mfa_index")).status_code == 200


def test_setting_up_an_authenticator_app_opens_the_pages_and_is_audited(
    client, cast, django_capture_on_commit_callbacks
):
    sign_in(client, cast.dsl)
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post(reverse("mfa_activate_totp"), {"code": wrong_code(secret)})
    assert response.status_code == 200 and response.context["form"].errors  # a wrong code sets nothing up
    assert not Authenticator.objects.filter(user=cast.dsl).exists()
    with django_capture_on_commit_callbacks(execute=True):  # allauth announces it once the request commits
        response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=cast.dsl, type="totp").exists()
    assert Authenticator.objects.filter(user=cast.dsl, type="recovery_codes").exists()
    assert client.get("/dashboard/").status_code == 200
    actions = set(AuditEntry.objects.filter(object_id=str(cast.dsl.pk)).values_list("action", flat=True))
    assert {"signin.signed_in", "signin.second_factor_added"} <= actions


def test_a_dsl_with_an_authenticator_app_is_asked_for_its_code(client, cast):
    secret = give_totp(cast.dsl)
    response = sign_in(client, cast.dsl)
    assert response.status_code == 302 and response.url == reverse("mfa_authenticate")
    assert client.get("/dashboard/").status_code == 302  # not signed in until the code is right
    response = client.post(reverse("mfa_authenticate"), {"code": wrong_code(secret)})
    assert response.status_code == 200
    assert AuditEntry.objects.filter(action="signin.second_factor_failed", object_id=str(cast.dsl.pk)).exists()
    response = give_code(client, secret)
    assert response.status_code == 302
    assert client.get("/dashboard/").status_code == 200
    entry = AuditEntry.objects.filter(action="signin.signed_in", object_id=str(cast.dsl.pk)).get()
    assert "password + totp" in entry.summary


@pytest.mark.parametrize("who", ["principal", "office", "trust_admin"])
def test_every_privileged_role_needs_a_second_factor(client, cast, who):
    sign_in(client, getattr(cast, who))
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith(reverse("mfa_index"))


def test_visiting_staff_need_none_unless_the_trust_says_so(client, cast):
    sign_in(client, cast.staff)
    assert client.get("/visits/").status_code == 200
    client.post(reverse("logout"))
    TrustSignInPolicy.objects.create(trust=cast.trust, second_factor_for_all_staff=True)
    sign_in(client, cast.staff)
    response = client.get("/visits/")
    assert response.status_code == 302 and response.url.startswith(reverse("mfa_index"))


def test_a_trusted_browser_skips_the_code_only_for_the_trusts_days(client, cast, time_machine):
    TrustSignInPolicy.objects.create(trust=cast.trust, trusted_browser_days=3)
    secret = give_totp(cast.dsl)
    time_machine.move_to("2026-12-01 09:00Z", tick=False)
    sign_in(client, cast.dsl)
    response = give_code(client, secret, trust_browser=True)
    assert response.status_code == 302
    assert "mfa_trusted" in response.cookies
    client.post(reverse("logout"))

    time_machine.move_to("2026-12-03 09:00Z", tick=False)  # two days on: the browser is still trusted
    response = sign_in(client, cast.dsl)
    assert response.status_code == 302 and response.url != reverse("mfa_authenticate")
    assert client.get("/dashboard/").status_code == 200
    client.post(reverse("logout"))

    time_machine.move_to("2026-12-05 09:00Z", tick=False)  # four days on: past the trust's three days
    sign_in(client, cast.dsl)
    response = client.get("/dashboard/")
    assert response.status_code == 302 and response.url.startswith(reverse("mfa_reauthenticate"))
    client.post(reverse("mfa_reauthenticate"), {"code": totp_code(secret, steps_ahead=1)})
    assert client.get("/dashboard/").status_code == 200


def test_the_admins_own_log_in_page_sends_people_to_the_one_sign_in(client, cast):
    response = client.get("/admin/login/")
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_the_trust_question_names_the_trusts_days_and_is_not_asked_where_it_allows_none(client, cast):
    policy = TrustSignInPolicy.objects.create(trust=cast.trust, trusted_browser_days=5)
    secret = give_totp(cast.dsl)
    sign_in(client, cast.dsl)
    client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert "Trust for 5 days" in client.get(reverse("mfa_trust")).content.decode()
    client.post(reverse("mfa_trust"), {"action": "skip"})
    client.post(reverse("logout"))

    policy.trusted_browser_days = 0
    policy.save()
    sign_in(client, cast.dsl)
    client.post(reverse("mfa_authenticate"), {"code": totp_code(secret, steps_ahead=1)})
    page = client.get(reverse("mfa_trust")).content.decode()
    assert "Trust for" not in page and "asks for the code at every sign-in" in page
    response = client.post(reverse("mfa_trust"), {"action": "trust"})  # a hand-made request changes nothing
    assert "mfa_trusted" not in response.cookies
    assert client.get("/dashboard/").status_code == 200


def test_the_roles_named_in_settings_are_the_privileged_roles():
    from django.conf import settings

    from core.roles import Role

    assert set(settings.SECOND_FACTOR_ROLES) == {Role.DSL, Role.PRINCIPAL, Role.OFFICE, Role.TRUST_ADMIN}


def test_the_authenticator_secret_is_encrypted_at_rest(cast):
    secret = give_totp(cast.dsl)
    stored = Authenticator.objects.get(user=cast.dsl, type="totp").data["secret"]
    assert secret not in stored and stored.startswith("gAAAAA")


def test_a_dsl_cannot_remove_their_only_second_factor_but_visiting_staff_can(client, cast):
    give_totp(cast.dsl)
    client.force_login(cast.dsl)
    response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 200 and response.context["form"].errors
    assert Authenticator.objects.filter(user=cast.dsl, type="totp").exists()
    give_totp(cast.staff)
    client.force_login(cast.staff)
    response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=cast.staff, type="totp").exists()
