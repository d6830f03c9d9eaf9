"""Subject access: everything held about a child or a parent, reviewed by a DSL who marks third parties for
redaction; the export (JSON and PDF) leaves a marked person out, and producing it is audited."""

import datetime
import json
import shutil
import subprocess

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEntry
from tests.factories import ChildFactory, ParentCarerFactory, make_reported_visit
from visits.models import SubjectAccessRequest
from visits.records.subject_access import (
    access_request_export,
    access_request_open,
    access_request_review,
    due_on,
    gather,
)


def pdf_text(data: bytes) -> str:
    assert shutil.which("pdftotext")
    result = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True)
    return " ".join(result.stdout.decode().split())


@pytest.fixture
def family(cast):
    visit = make_reported_visit(
        lead=cast.staff,
        summary="Marek Nowak, who rents the back room, said the boiler is broken. We agreed to ring the landlord.",
        present=[
            {"name": "Rowan Pellingham", "relationship": "mother", "parental_responsibility": True},
            {"name": "Marek Nowak", "relationship": "lodger", "parental_responsibility": False},
        ],
    )
    child = visit.children.get()
    carer = ParentCarerFactory(household=child.household, first_name="Rowan", last_name="Pellingham", title="Ms")
    sibling = ChildFactory(household=child.household, first_name="Zofia", last_name="Pellingham")
    return child, carer, sibling


def _key(data, name):
    return next(p["key"] for p in data["third_parties"] if p["name"] == name)


def test_an_export_leaves_out_a_redacted_third_party(cast, family):
    child, carer, sibling = family
    request = access_request_open(
        actor=cast.dsl, child=child, received_on=datetime.date(2026, 11, 30), requested_by="Ms Pellingham, ID seen"
    )
    assert due_on(request.received_on) == datetime.date(2026, 12, 30)
    data = gather(request)
    names = {p["name"] for p in data["third_parties"]}
    assert {"Marek Nowak", "Ms Rowan Pellingham", "Zofia Pellingham"} <= names

    with pytest.raises(ValidationError, match="Review the third parties"):
        access_request_export(actor=cast.dsl, request=request, as_format="json")
    access_request_review(actor=cast.dsl, request=request, redact=[_key(data, "Marek Nowak")])

    released = json.loads(access_request_export(actor=cast.dsl, request=request, as_format="json"))
    text = json.dumps(released)
    assert "Marek" not in text and "Nowak" not in text
    assert "[withheld], who rents the back room, said the boiler is broken." in text
    assert "Rowan Pellingham" in text  # not marked: released
    assert released["subject"]["name"] == f"{child.first_name} {child.last_name}"
    assert [w["why"][:20] for w in released["withheld"]] == ["present at the visit"]

    pdf = pdf_text(access_request_export(actor=cast.dsl, request=request, as_format="pdf"))
    assert "Marek" not in pdf and "Nowak" not in pdf
    assert "boiler is broken" in pdf and "Rowan Pellingham" in pdf and child.first_name in pdf
    produced = AuditEntry.objects.filter(action="subject_access.produce", object_id=str(request.pk))
    assert produced.count() == 2 and {e.actor for e in produced} == {cast.dsl}


def test_a_parents_request_marks_the_children_as_third_parties(cast, family):
    child, carer, sibling = family
    request = access_request_open(
        actor=cast.principal, carer=carer, received_on=timezone.localdate(), requested_by="By email"
    )
    data = gather(request)
    assert data["subject"]["name"] == "Ms Rowan Pellingham"
    assert {f"{child.first_name} {child.last_name}", "Zofia Pellingham"} <= {p["name"] for p in data["third_parties"]}
    access_request_review(actor=cast.principal, request=request, redact=[_key(data, "Zofia Pellingham")])
    assert "Zofia" not in access_request_export(actor=cast.principal, request=request, as_format="json").decode()


def test_only_the_schools_dsls_and_principal_and_a_stale_review_is_refused(cast, family, client):
    child, carer, sibling = family
    for outsider in (cast.other_dsl, cast.staff, cast.trust_admin):
        with pytest.raises(PermissionDenied):
            access_request_open(actor=outsider, child=child, received_on=timezone.localdate(), requested_by="x")
    request = access_request_open(actor=cast.dsl, child=child, received_on=timezone.localdate(), requested_by="x")
    with pytest.raises(ValidationError):
        access_request_review(actor=cast.dsl, request=request, redact=["present-999999"])
    client.force_login(cast.other_dsl)
    assert client.get(reverse("records:access_review", args=[request.pk])).status_code == 404
    assert client.get(reverse("records:access_export", args=[request.pk, "json"])).status_code == 404


def test_the_dsl_does_it_from_the_pages(cast, family, client):
    child, carer, sibling = family
    client.force_login(cast.dsl)
    assert client.get(reverse("records:access_new") + f"?child={child.pk}").status_code == 200
    response = client.post(reverse("records:access_new"), {"child": child.pk, "received_on": "", "requested_by": ""})
    assert response.status_code == 200 and not SubjectAccessRequest.objects.exists()
    client.post(
        reverse("records:access_new"),
        {"child": child.pk, "received_on": timezone.localdate().isoformat(), "requested_by": "Ms Pellingham"},
    )
    request = SubjectAccessRequest.objects.get()
    page = client.get(reverse("records:access_review", args=[request.pk])).content.decode()
    assert "Marek Nowak" in page and "Save the review first" in page
    marek = _key(gather(request), "Marek Nowak")
    client.post(reverse("records:access_review", args=[request.pk]), {"redact": [marek]})
    response = client.get(reverse("records:access_export", args=[request.pk, "json"]))
    assert response.status_code == 200 and b"Nowak" not in response.content
    assert client.get(reverse("records:access_requests")).status_code == 200


def test_the_requests_list_and_the_review_cost_the_same_queries_however_many(cast, family, client):
    child, carer, sibling = family
    client.force_login(cast.dsl)

    def queries(url):
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    first = access_request_open(actor=cast.dsl, child=child, received_on=timezone.localdate(), requested_by="x")
    small_list, small_review = (
        queries(reverse("records:access_requests")),
        queries(reverse("records:access_review", args=[first.pk])),
    )
    for _ in range(5):
        access_request_open(actor=cast.dsl, carer=carer, received_on=timezone.localdate(), requested_by="y")
        make_reported_visit(lead=cast.staff, visit_fields={"child": child})
    assert queries(reverse("records:access_requests")) == small_list
    assert queries(reverse("records:access_review", args=[first.pk])) == small_review


def test_a_carer_removed_later_leaves_the_request_but_nothing_to_export(cast, family, client):
    """An MIS import may remove a carer: the request stays on the list (and in the audit trail); nothing is
    exported for a record the school no longer holds."""
    child, carer, sibling = family
    request = access_request_open(actor=cast.dsl, carer=carer, received_on=timezone.localdate(), requested_by="x")
    carer.delete()
    request.refresh_from_db()
    assert request.carer is None
    client.force_login(cast.dsl)
    assert "has since been removed" in client.get(reverse("records:access_requests")).content.decode()
    response = client.get(reverse("records:access_review", args=[request.pk]))
    assert response.status_code == 404 and "has since been removed" in response.content.decode()
