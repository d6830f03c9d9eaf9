"""The staff list: invitations by email, roles from the import's day, training recorded, leavers deactivated with
their sessions ended at once; the invitation link works once; one click deactivates a leaver."""

import datetime
import re

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from core.models import AuditEntry, Membership, PendingImport
from core.roles import Role, user_roles
from core.staff_import import staff_import_confirm, staff_import_prepare
from safeguarding.models import TrainingRecord

HEADER = "first_name,last_name,email,mobile,job_title,role,training_date,training_expires\n"


def _list(cast, text, actor=None):
    upload = SimpleUploadedFile("staff.csv", (HEADER + text).encode())
    return staff_import_prepare(upload=upload, school=cast.school, actor=actor or cast.trust_admin)


def _link(message) -> str:
    return re.search(r"http://\S+/accounts/invitation/\S+/", message.body).group(0)


def _everyone_but(cast, *keep):
    """The list as it stands, less anyone not in `keep` (by username)."""
    rows = []
    for user in get_user_model().objects.filter(memberships__school=cast.school).distinct():
        if user.username in keep:
            user.email = user.email or f"{user.username}@example.org"
            user.save()
            roles = ";".join(sorted(user_roles(user, cast.school) - {Role.TRUST_ADMIN}))
            if roles:
                rows.append(f"{user.first_name},{user.last_name},{user.email},,,{roles},,\n")
    return "".join(rows)


@pytest.fixture
def confirm(django_capture_on_commit_callbacks):
    """Confirm, and run what waits for the commit (the invitations are emailed then)."""

    def _confirm(pending, actor):
        with django_capture_on_commit_callbacks(execute=True):
            return staff_import_confirm(pending=pending, actor=actor)

    return _confirm


def test_a_new_colleague_is_invited_and_a_leaver_is_deactivated(cast, client, confirm):
    keep = ("staff", "staff2", "dsl", "principal", "office")
    listed = _everyone_but(cast, *keep)
    new = "Asha,Fennimore,Asha.Fennimore@example.org,020 7946 0456,Deputy head,DSL,2026-09-01,2029-08-31\n"
    client.force_login(cast.outsider)  # a leaver signed in somewhere
    pending = _list(cast, listed + new)
    counts = pending.preview["counts"]
    assert (counts["new"], counts["left"], counts["errors"]) == (1, 1, 0), pending.preview
    assert not mail.outbox and get_user_model().objects.filter(email__iexact="asha.fennimore@example.org").count() == 0

    with pytest.raises(PermissionDenied):
        staff_import_confirm(pending=pending, actor=cast.dsl)
    confirm(pending, cast.trust_admin)

    asha = get_user_model().objects.get(email="asha.fennimore@example.org")
    assert asha.username == "asha.fennimore@example.org" and not asha.has_usable_password()
    assert Membership.objects.get(user=asha, school=cast.school).starts_on == timezone.localdate()
    assert Role.DSL in user_roles(asha, cast.school)
    assert asha.profile.job_title == "Deputy head" and asha.profile.mobile.as_e164 == "+442079460456"
    assert TrainingRecord.objects.get(profile=asha.profile).expires_on == datetime.date(2029, 8, 31)
    [invitation] = mail.outbox
    assert invitation.to == ["asha.fennimore@example.org"] and "asha.fennimore@example.org" in invitation.body
    # The leaver: every role ended, the account off, and their open session gone at once.
    outsider = get_user_model().objects.get(pk=cast.outsider.pk)
    assert not outsider.is_active
    assert not Membership.objects.filter(user=outsider).exclude(ends_on__lt=timezone.localdate()).exists()
    assert client.get("/visits/").status_code == 302
    assert AuditEntry.objects.filter(action="staff.deactivate", object_id=str(outsider.pk)).exists()
    assert "1 invited" in AuditEntry.objects.get(action="staff.import").summary
    assert not PendingImport.objects.exists()


def test_the_invitation_link_sets_the_password_once_and_expires(cast, client, confirm):
    pending = _list(cast, _everyone_but(cast, "staff", "dsl", "principal", "office", "staff2", "outsider")
                    + "Noor,Lorrimer,noor@example.org,,,Staff,,\n")  # fmt: skip
    confirm(pending, cast.trust_admin)
    link = _link(mail.outbox[0]).replace("http://localhost:8000", "")
    assert client.get(link).status_code == 200
    weak = client.post(link, {"new_password1": "password123", "new_password2": "password123"})
    assert weak.status_code == 400  # the product's password rules
    good = "heron kiln sedge orchard"
    response = client.post(link, {"new_password1": good, "new_password2": good})
    assert response.status_code == 302 and response.url == "/accounts/login/"
    assert get_user_model().objects.get(email="noor@example.org").check_password(good)
    again = client.get(link)
    assert again.status_code == 404 and b"This link does not work" in again.content
    # A second invitation, left too long.
    pending = _list(cast, _everyone_but(cast, "staff", "dsl", "principal", "office", "staff2", "outsider")
                    + "Noor,Lorrimer,noor@example.org,,,Staff,,\nKit,Ashdown,kit@example.org,,,Office,,\n")  # fmt: skip
    mail.outbox.clear()
    confirm(pending, cast.trust_admin)
    late = _link(mail.outbox[0]).replace("http://localhost:8000", "")
    with time_machine.travel(timezone.now() + datetime.timedelta(days=8)):
        assert client.get(late).status_code == 404


def test_one_click_deactivates_a_leaver_and_ends_their_sessions(cast, client):
    from django.test import Client

    theirs = Client()
    theirs.force_login(cast.staff2)
    assert theirs.get("/visits/").status_code == 200
    client.force_login(cast.dsl)
    assert client.post(f"/staff/{cast.staff2.pk}/deactivate/").status_code == 403
    client.force_login(cast.trust_admin)
    response = client.post(f"/staff/{cast.staff2.pk}/deactivate/", follow=True)
    assert "is deactivated: every role ended and 1 session(s) signed out" in response.content.decode()
    assert theirs.get("/visits/").status_code == 302
    assert not get_user_model().objects.get(pk=cast.staff2.pk).is_active
    assert not user_roles(get_user_model().objects.get(pk=cast.staff2.pk))


def test_a_bad_staff_list_changes_nothing(cast, subtests):
    for what, text, message in [
        ("unknown role", "A,B,a@example.org,,,Caretaker,,\n", "'caretaker' is not a role here"),
        ("same email twice", "A,B,a@example.org,,,Staff,,\nC,D,a@example.org,,,Staff,,\n", "is also on line 2"),
        ("formula", "=cmd,B,a@example.org,,,Staff,,\n", "spreadsheet formula"),
        ("one training date", "A,B,a@example.org,,,Staff,2026-01-01,\n", "Training needs both dates"),
        ("bad email", "A,B,not-an-address,,,Staff,,\n", "is not an email address"),
    ]:
        with subtests.test(what):
            pending = _list(cast, text)
            errors = [e for row in pending.preview["rows"] for e in row["errors"]]
            assert any(message in e for e in errors), errors
            with pytest.raises(ValidationError, match="Nothing was changed"):
                staff_import_confirm(pending=pending, actor=cast.trust_admin)
            assert not mail.outbox
            pending.delete()
    with pytest.raises(ValidationError, match="missing: email"):
        staff_import_prepare(
            upload=SimpleUploadedFile("s.csv", b"first_name,last_name,role\nA,B,Staff\n"),
            school=cast.school,
            actor=cast.trust_admin,
        )
