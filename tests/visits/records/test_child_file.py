"""The child's file and a leaver's transfer: one PDF holding the chronology, every visit's form, concerns and
their actions, marked as a child-protection file when it holds one; the step that records where it went, and the
reminders that stop once the receipt is recorded."""

import datetime
import shutil
import subprocess

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEntry
from families.models import Child
from tests.factories import ChildFactory, make_reported_visit
from visits.after.services import action_create, incident_record, visit_concern_raise
from visits.models import ChildFileTransfer
from visits.records.transfers import (
    add_school_days,
    child_file_produce,
    child_transfer_receipt,
    child_transfer_record,
    transfer_reminders_send,
)


def pdf_text(data: bytes) -> str:
    assert shutil.which("pdftotext")
    result = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True)
    return " ".join(result.stdout.decode().split())


@pytest.fixture
def leaver(cast):
    visit = make_reported_visit(
        lead=cast.staff, summary="We talked about mornings.", internal_notes="Dad seemed tired, house cold."
    )
    child = visit.children.get()
    concern = visit_concern_raise(visit=visit, child=child, raised_by=cast.staff, details="Bruise on the left arm.")
    action_create(
        school=cast.school,
        owner=cast.dsl,
        description="Refer to early help",
        due_on=timezone.localdate(),
        created_by=cast.dsl,
        concern=concern,
    )
    incident_record(
        visit=visit,
        recorded_by=cast.staff,
        kind="accusation",
        occurred_at=timezone.now() - datetime.timedelta(days=1),
        details="Said the teacher shouted at them.",
        staff_accused=cast.staff2,
    )
    return child


def test_the_leavers_file_holds_the_chronology_forms_concerns_and_actions(cast, leaver):
    text = pdf_text(child_file_produce(actor=cast.dsl, child=leaver))
    assert "CHILD-PROTECTION FILE" in text
    assert f"{leaver.first_name} {leaver.last_name}" in text and "14 March 2017" in text
    assert "Chronology" in text and "Home Visit Form: Seen: the visit took place" in text
    assert "We talked about mornings." in text and "Dad seemed tired, house cold." in text
    assert "Bruise on the left arm." in text and "Refer to early help" in text
    # An accusation against a member of staff is a staff record, never the child's.
    assert "shouted" not in text and "ccusation" not in text
    assert AuditEntry.objects.filter(action="child_file.produce", object_id=str(leaver.pk), actor=cast.dsl).exists()


def test_a_file_without_a_concern_is_not_marked(cast):
    child = make_reported_visit(lead=cast.staff).children.get()
    text = pdf_text(child_file_produce(actor=cast.dsl, child=child))
    assert "CHILD-PROTECTION" not in text and "Pupil file: home visits" in text


def test_only_the_schools_dsls_and_principal_open_it(cast, leaver, client):
    for outsider in (cast.staff, cast.office, cast.other_dsl, cast.trust_admin):
        with pytest.raises(PermissionDenied):
            child_file_produce(actor=outsider, child=leaver)
        client.force_login(outsider)
        assert client.get(reverse("records:child_file", args=[leaver.pk])).status_code == 404
    client.force_login(cast.principal)
    response = client.get(reverse("records:child_file", args=[leaver.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"


def test_left_for_another_school_then_reminded_until_the_receipt(
    cast, leaver, client, django_capture_on_commit_callbacks
):
    left_on = datetime.date(2026, 11, 27)  # a Friday: five school days on is the next Friday
    assert add_school_days(left_on, 5) == datetime.date(2026, 12, 4)
    client.force_login(cast.dsl)
    url = reverse("records:child_transfer", args=[leaver.pk])
    response = client.post(url, {"left_on": "2026-11-27", "new_school": "", "sent_to": "", "method": "by_hand"})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert not ChildFileTransfer.objects.exists()
    client.post(
        url,
        {
            "left_on": "2026-11-27",
            "new_school": "Hillcrest Academy, Eastbridge",
            "sent_to": "Ms Verity Hale, DSL, dsl@hillcrest.example",
            "method": "secure_system",
            "sent_on": "2026-12-02",
        },
    )
    transfer = ChildFileTransfer.objects.get()
    assert transfer.child_protection_file and transfer.recorded_by == cast.dsl
    assert Child.objects.get(pk=leaver.pk).left_on == left_on

    # The leaver's file says where it went.
    assert "Hillcrest Academy" in pdf_text(child_file_produce(actor=cast.dsl, child=leaver))

    mail.outbox.clear()
    cast.dsl.email = "dsl@oakfield.example"
    cast.dsl.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert transfer_reminders_send() == 1
    assert [m.to for m in mail.outbox] == [["dsl@oakfield.example"]]
    assert "without a receipt" in mail.outbox[0].subject and "Bruise" not in mail.outbox[0].body
    page = client.get(reverse("records:transfers")).content.decode()
    assert "Hillcrest Academy" in page

    with pytest.raises(ValidationError):
        child_transfer_receipt(
            actor=cast.dsl, transfer=transfer, receipt_on=datetime.date(2026, 12, 1), receipt_from="x"
        )
    client.post(
        reverse("records:transfer_receipt", args=[transfer.pk]),
        {f"r{transfer.pk}-receipt_on": "2026-12-03", f"r{transfer.pk}-receipt_from": "Ms Hale, by email"},
    )
    transfer.refresh_from_db()
    assert transfer.receipt_on == datetime.date(2026, 12, 3) and transfer.receipt_recorded_by == cast.dsl
    mail.outbox.clear()
    assert transfer_reminders_send() == 0 and not mail.outbox
    assert "Receipt recorded" in client.get(reverse("records:transfers")).content.decode()
    assert "Hillcrest Academy" not in client.get(reverse("records:transfers")).content.decode()


def test_another_schools_dsl_cannot_record_a_transfer(cast, leaver):
    with pytest.raises(PermissionDenied):
        child_transfer_record(
            actor=cast.other_dsl,
            child=leaver,
            left_on=timezone.localdate(),
            new_school="Anywhere",
            sent_to="Someone",
            method="by_hand",
            sent_on=timezone.localdate(),
        )
    assert not ChildFileTransfer.objects.exists()


def _queries(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _sent(cast, n):
    for _ in range(n):
        child = ChildFactory(household__school=cast.school)
        ChildFileTransfer.objects.create(
            child=child,
            school=cast.school,
            new_school="Hillcrest Academy",
            sent_to="Their DSL",
            method="by_hand",
            sent_on=timezone.localdate(),
            child_protection_file=False,
            recorded_by=cast.dsl,
            recorded_at=timezone.now(),
        )


def test_the_files_awaiting_receipt_cost_the_same_queries_however_many(cast, client):
    client.force_login(cast.dsl)
    _sent(cast, 2)
    small = _queries(client, reverse("records:transfers"))
    _sent(cast, 10)
    large = _queries(client, reverse("records:transfers"))
    assert small == large, f"{small} queries with 2 files, {large} with 12"


def test_the_childs_file_costs_the_same_queries_however_long_the_history(cast):
    child = make_reported_visit(lead=cast.staff).children.get()
    visit_concern_raise(visit=child.visits.get(), child=child, raised_by=cast.staff, details="Hungry.")
    child_file_produce(actor=cast.dsl, child=child)  # the DSL's roles are then cached, as on any later request
    with CaptureQueriesContext(connection) as few:
        child_file_produce(actor=cast.dsl, child=child)
    for _ in range(3):
        visit = make_reported_visit(lead=cast.staff, visit_fields={"child": child})
        visit_concern_raise(visit=visit, child=child, raised_by=cast.staff, details="Hungry again.")
    with CaptureQueriesContext(connection) as many:
        child_file_produce(actor=cast.dsl, child=child)
    assert len(few.captured_queries) == len(many.captured_queries)
