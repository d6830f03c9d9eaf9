"""Lockout of one username at one address: a person mistyping at reception locks out nobody else."""

from axes.helpers import get_client_cache_keys
from axes.models import AccessAttempt
from django.core.cache import cache
from django.urls import reverse

from core.models import AuditEntry
from tests.helpers import give_totp, totp_code, wrong_code

RECEPTION = "192.0.2.10"  # documentation addresses: nothing is sent anywhere
HOME = "198.51.100.7"


def attempt(client, user, password, address):
    return client.post(reverse("login"), {"login": user.username, "password": password}, REMOTE_ADDR=address)


def lock(client, user, address=RECEPTION):
    for _ in range(5):
        attempt(client, user, "wrong-password", address)


def test_five_wrong_passwords_lock_that_username_at_that_address_with_a_clear_message(client, cast):
    for _ in range(4):
        assert attempt(client, cast.staff, "wrong-password", RECEPTION).status_code == 200
    response = attempt(client, cast.staff, "wrong-password", RECEPTION)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many wrong passwords" in page and "paused for 15 minutes" in page and "staff" in page
    # Even the right password is refused there now.
    response = attempt(client, cast.staff, "test-password", RECEPTION)
    assert response.status_code == 429
    assert client.get("/visits/").status_code == 302
    assert AuditEntry.objects.filter(action="signin.locked_out", object_id=str(cast.staff.pk)).count() >= 1
    assert AuditEntry.objects.filter(action="signin.failed", object_id=str(cast.staff.pk)).count() >= 5


def test_the_rest_of_the_office_and_the_same_person_elsewhere_still_sign_in(client, cast):
    lock(client, cast.staff)
    response = attempt(client, cast.staff2, "test-password", RECEPTION)
    assert response.status_code == 302, "a colleague at the same desk"
    client.post(reverse("logout"))
    response = attempt(client, cast.staff, "test-password", HOME)
    assert response.status_code == 302, "the same person at home"


def test_the_lock_lives_in_the_shared_cache_for_the_cool_off(client, cast):
    lock(client, cast.staff)
    # Redis expires the count itself (time travel cannot move Redis's clock), so check what it was told.
    [key] = get_client_cache_keys(AccessAttempt(username="staff", ip_address=RECEPTION))
    assert cache.get(key) == 5
    assert 14 * 60 < cache.ttl(key) <= 15 * 60
    cache.delete(key)  # as Redis does when the cool-off ends
    assert attempt(client, cast.staff, "test-password", RECEPTION).status_code == 302


def test_a_trust_admin_sees_the_lockout_and_lifts_it(client, cast):
    lock(client, cast.staff)
    client.force_login(cast.trust_admin)
    page = client.get(reverse("signin:lockouts"))
    assert page.status_code == 200
    assert "Lift lock on staff" in page.content.decode()
    entry = AuditEntry.objects.filter(action="signin.locked_out", object_id=str(cast.staff.pk)).latest("id")
    response = client.post(reverse("signin:lift_lockout", args=[entry.pk]))
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="signin.lockout_lifted", actor=cast.trust_admin).exists()
    assert "Lift lock on staff" not in client.get(reverse("signin:lockouts")).content.decode()
    client.post(reverse("logout"))
    assert attempt(client, cast.staff, "test-password", RECEPTION).status_code == 302


def test_lockouts_are_for_trust_admins_only(client, cast):
    lock(client, cast.staff)
    entry = AuditEntry.objects.filter(action="signin.locked_out").latest("id")
    for user in [cast.dsl, cast.office, cast.staff2]:
        client.force_login(user)
        assert client.get(reverse("signin:lockouts")).status_code == 403
        assert client.post(reverse("signin:lift_lockout", args=[entry.pk])).status_code == 403
    client.post(reverse("logout"))
    assert attempt(client, cast.staff, "test-password", RECEPTION).status_code == 429


def test_a_trust_admin_does_not_see_lockouts_of_another_trust(client, cast, other_trust_member):
    lock(client, other_trust_member)
    client.force_login(cast.trust_admin)
    assert other_trust_member.username not in client.get(reverse("signin:lockouts")).content.decode()
    entry = AuditEntry.objects.filter(action="signin.locked_out").latest("id")
    assert client.post(reverse("signin:lift_lockout", args=[entry.pk])).status_code == 403


def test_the_lockout_page_reads_in_a_fixed_number_of_queries(client, cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries():
        client.force_login(cast.trust_admin)
        client.get("/")
        with CaptureQueriesContext(connection) as context:
            assert client.get(reverse("signin:lockouts")).status_code == 200
        client.post(reverse("logout"))
        return len(context)

    lock(client, cast.staff)
    one = queries()
    for user in [cast.staff2, cast.dsl, cast.office]:
        lock(client, user)
    assert queries() == one


def test_a_sign_in_without_a_web_request_is_not_refused_by_the_lockout(client, cast):
    lock(client, cast.staff)
    assert client.login(username="staff2", password="test-password")  # no address: nothing to lock


def test_five_wrong_codes_lock_the_account_at_that_address_even_for_the_right_code(client, cast):
    secret = give_totp(cast.dsl)
    attempt(client, cast.dsl, "test-password", RECEPTION)
    for _ in range(4):
        response = client.post(reverse("mfa_authenticate"), {"code": wrong_code(secret)}, REMOTE_ADDR=RECEPTION)
        assert response.status_code == 200
    response = client.post(reverse("mfa_authenticate"), {"code": wrong_code(secret)}, REMOTE_ADDR=RECEPTION)
    assert response.status_code == 429
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)}, REMOTE_ADDR=RECEPTION)
    assert response.status_code == 429
    assert client.get("/dashboard/", REMOTE_ADDR=RECEPTION).status_code == 302
    assert AuditEntry.objects.filter(action="signin.locked_out", object_id=str(cast.dsl.pk)).exists()
    assert AuditEntry.objects.filter(action="signin.second_factor_failed").count() >= 5
