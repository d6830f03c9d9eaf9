"""Sign-in, failed sign-in, sign-out, password change and reset are audit entries; reset links reach no log."""

import logging
import re

from django.core import mail
from django.urls import reverse

from core.models import AuditEntry

NEW = "marmalade tractor orbit"


def actions_for(user):
    return list(
        AuditEntry.objects.filter(object_type="auth.user", object_id=str(user.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_signing_in_failing_and_signing_out_are_audited_with_the_address(client, cast):
    client.post(reverse("login"), {"login": "staff", "password": "nope"}, REMOTE_ADDR="192.0.2.44")
    client.post(reverse("login"), {"login": "staff", "password": "test-password"}, REMOTE_ADDR="192.0.2.44")
    client.post(reverse("logout"), REMOTE_ADDR="192.0.2.44")
    assert actions_for(cast.staff) == ["signin.failed", "signin.signed_in", "signin.signed_out"]
    failed = AuditEntry.objects.get(action="signin.failed")
    assert failed.details["address"] == "192.0.2.44" and failed.actor is None
    signed_in = AuditEntry.objects.get(action="signin.signed_in")
    assert signed_in.actor == cast.staff and "password" in signed_in.summary


def test_a_failure_for_a_username_nobody_has_is_audited_too(client, db):
    client.post(reverse("login"), {"login": "no-such-person", "password": "nope"})
    entry = AuditEntry.objects.get(action="signin.failed")
    assert entry.details["username"] == "no-such-person"


def test_a_password_change_is_audited(client, cast):
    client.post(reverse("login"), {"login": "staff", "password": "test-password"})
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": "test-password", "password1": NEW, "password2": NEW},
    )
    assert response.status_code == 302
    assert "signin.password_changed" in actions_for(cast.staff)


def test_a_reset_link_is_emailed_never_logged_and_the_reset_is_audited(client, cast, caplog, capsys):
    cast.staff.email = "staff@oak.example.org"
    cast.staff.save()
    caplog.set_level(logging.DEBUG)
    response = client.post(reverse("account_reset_password"), {"email": "staff@oak.example.org"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+", mail.outbox[0].body).group(0)
    key_path = link.split("testserver", 1)[-1] if "testserver" in link else "/" + link.split("/", 3)[3]
    response = client.get(key_path, follow=True)
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else key_path
    response = client.post(form_url, {"password1": "marmalade tractor orbit", "password2": "marmalade tractor orbit"})
    assert response.status_code == 302
    cast.staff.refresh_from_db()
    assert cast.staff.check_password("marmalade tractor orbit")
    assert "signin.password_reset" in actions_for(cast.staff)
    captured = capsys.readouterr()
    secret_part = key_path.rstrip("/").rsplit("/", 1)[-1]
    for text in [caplog.text, captured.out, captured.err]:
        assert secret_part not in text
        assert "password/reset/key" not in text
