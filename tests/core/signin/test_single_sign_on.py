"""Single sign-on through the trust's Microsoft or Google account, against a fake provider on 127.0.0.1."""

from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.socialaccount.models import SocialAccount
from django.urls import reverse

from core.models import AuditEntry, IdentityProvider, IdentityProviderKind
from tests.fake_idp import FakeIdentityProvider
from tests.helpers import give_totp

TENANT = "0f7e6d5c-1111-2222-3333-444455556666"


@pytest.fixture
def idp(monkeypatch):
    monkeypatch.setenv("TEST_SSO_SECRET", "client-secret-from-the-environment")
    with FakeIdentityProvider(client_id="homevisits-test") as fake:
        yield fake


@pytest.fixture
def microsoft(cast, idp):
    return IdentityProvider.objects.create(
        trust=cast.trust,
        kind=IdentityProviderKind.MICROSOFT,
        tenant=TENANT,
        client_id="homevisits-test",
        secret_env="TEST_SSO_SECRET",
        server_url=idp.url,
    )


def sso(client, idp, provider, **claims):
    """The browser's round trip: our log-in button, the provider's page (played here), our callback."""
    response = client.post(reverse("openid_connect_login", args=[provider.provider_id]))
    assert response.status_code == 302 and response.url.startswith(f"{idp.url}/authorize")
    query = parse_qs(urlsplit(response.url).query)
    assert query["client_id"] == ["homevisits-test"]
    code = idp.issue_code(**claims)
    callback = reverse("openid_connect_callback", args=[provider.provider_id])
    return client.get(callback, {"code": code, "state": query["state"][0]})


def test_the_log_in_page_offers_the_trusts_provider(client, microsoft):
    page = client.get(reverse("login")).content.decode()
    assert "Log in with Microsoft Entra ID (Brookvale Test Trust)" in page


def test_staff_sign_in_with_their_microsoft_account_and_it_is_linked(client, cast, idp, microsoft):
    cast.staff.email = "a.teacher@oak.example.org"
    cast.staff.save()
    response = sso(client, idp, microsoft, sub="ms-123", email="A.Teacher@oak.example.org", tid=TENANT)
    assert response.status_code == 302
    assert client.get("/visits/").status_code == 200
    assert SocialAccount.objects.get(user=cast.staff).uid == "ms-123"
    assert idp.token_requests[0]["client_secret"] == "client-secret-from-the-environment"
    entry = AuditEntry.objects.filter(action="signin.signed_in", object_id=str(cast.staff.pk)).get()
    assert "socialaccount" in entry.summary
    # The next time the linked account signs in straight away.
    client.post(reverse("logout"))
    assert sso(client, idp, microsoft, sub="ms-123", email="a.teacher@oak.example.org", tid=TENANT).status_code == 302
    assert client.get("/visits/").status_code == 200


def test_nobody_signs_themselves_up(client, cast, idp, microsoft):
    response = sso(client, idp, microsoft, sub="ms-999", email="stranger@oak.example.org", tid=TENANT)
    assert response.status_code == 403
    page = response.content.decode()
    assert "stranger@oak.example.org is not the email address of any member of staff here" in page
    assert client.get("/visits/").status_code == 302
    assert not SocialAccount.objects.exists()


def test_a_token_from_another_tenant_is_not_ours(client, cast, idp, microsoft):
    cast.staff.email = "a.teacher@oak.example.org"
    cast.staff.save()
    response = sso(client, idp, microsoft, sub="ms-123", email="a.teacher@oak.example.org", tid="another-tenant")
    assert response.status_code == 403
    assert "did not give us a verified email address" in response.content.decode()
    assert client.get("/visits/").status_code == 302


def test_google_needs_a_verified_address_of_the_workspace_domain(client, cast, idp):
    google = IdentityProvider.objects.create(
        trust=cast.trust,
        kind=IdentityProviderKind.GOOGLE,
        tenant="oak.example.org",
        client_id="homevisits-test",
        secret_env="TEST_SSO_SECRET",
        server_url=idp.url,
    )
    cast.staff.email = "a.teacher@oak.example.org"
    cast.staff.save()
    unverified = dict(sub="g-1", email="a.teacher@oak.example.org", hd="oak.example.org", email_verified=False)
    assert sso(client, idp, google, **unverified).status_code == 403
    personal = dict(sub="g-1", email="a.teacher@oak.example.org", email_verified=True)  # no hosted domain
    assert sso(client, idp, google, **personal).status_code == 403
    good = dict(sub="g-1", email="a.teacher@oak.example.org", hd="oak.example.org", email_verified=True)
    assert sso(client, idp, google, **good).status_code == 302
    assert client.get("/visits/").status_code == 200


def test_staff_of_another_trust_cannot_use_this_trusts_provider(client, cast, idp, microsoft, other_trust_member):
    other_trust_member.email = "far@far.example.org"
    other_trust_member.save()
    response = sso(client, idp, microsoft, sub="ms-5", email="far@far.example.org", tid=TENANT)
    assert response.status_code == 403


def test_a_dsl_still_needs_a_second_factor_unless_the_provider_enforces_one(client, cast, idp, microsoft):
    cast.dsl.email = "dsl@oak.example.org"
    cast.dsl.save()
    sso(client, idp, microsoft, sub="ms-dsl", email="dsl@oak.example.org", tid=TENANT)
    response = client.get("/dashboard/")
    assert response.status_code == 302 and response.url.startswith(reverse("mfa_index"))
    client.post(reverse("logout"))

    microsoft.enforces_second_factor = True
    microsoft.save()
    sso(client, idp, microsoft, sub="ms-dsl", email="dsl@oak.example.org", tid=TENANT)
    assert client.get("/dashboard/").status_code == 200
    entry = AuditEntry.objects.filter(action="signin.signed_in", object_id=str(cast.dsl.pk)).latest("id")
    assert "identity provider" in entry.summary


def test_a_dsl_with_an_authenticator_app_is_asked_for_its_code_after_single_sign_on(client, cast, idp, microsoft):
    give_totp(cast.dsl)
    cast.dsl.email = "dsl@oak.example.org"
    cast.dsl.save()
    response = sso(client, idp, microsoft, sub="ms-dsl", email="dsl@oak.example.org", tid=TENANT)
    assert response.status_code == 302 and response.url == reverse("mfa_authenticate")
