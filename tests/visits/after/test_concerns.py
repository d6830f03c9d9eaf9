"""Concerns and incidents: restricted records. Concerns for DSLs and the Principal; accusations for the Principal."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import AuditEntry
from safeguarding.models import Concern
from safeguarding.services import concern_raise
from tests.factories import ChildFactory, make_visit, sign_in, walk_visit
from tests.helpers import fresh_case
from visits.after.services import incident_record, visit_concern_raise
from visits.models import Incident, VisitStatus

DETAILS = "Said her uncle hurts her when mum is out"


@pytest.fixture
def cast_emails(cast):
    for user in [cast.dsl, cast.principal, cast.staff, cast.other_dsl, cast.office]:
        user.email = f"{user.username}@example.org"
        user.save()
    return cast


@pytest.fixture
def visit(cast):
    visit = make_visit(lead=cast.staff, second=cast.staff2)
    walk_visit(visit, cast.staff, VisitStatus.RETURNED)
    return visit


def test_staff_raise_a_concern_from_a_visit_and_the_dsls_hear_at_once(
    client, cast_emails, visit, mailoutbox, django_capture_on_commit_callbacks
):
    cast = cast_emails
    client.force_login(cast.staff)
    child = visit.children.get()
    assert client.get(f"/safeguarding/concerns/new/?visit={visit.pk}").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/safeguarding/concerns/new/?visit={visit.pk}",
            {"child": child.pk, "kind": "disclosure", "details": DETAILS, "action_taken": ""},
        )
    assert response.status_code == 302
    concern = Concern.objects.get()
    assert concern.raised_on.visit == visit and concern.child == child and concern.raised_by == cast.staff
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["dsl@example.org"]  # DSLs only: not other schools
    assert DETAILS not in mailoutbox[0].body and f"/safeguarding/concerns/{concern.pk}/" in mailoutbox[0].body
    # The person who raised it cannot read it back: it is restricted.
    assert client.get(f"/safeguarding/concerns/{concern.pk}/").status_code == 403


def test_concern_on_its_own_from_the_child(client, cast):
    child = ChildFactory(household__school=cast.school)
    client.force_login(cast.staff)
    response = client.post(
        f"/safeguarding/concerns/new/?child={child.pk}",
        {"child": child.pk, "kind": "concern", "details": "Arrived hungry three days running."},
    )
    assert response.status_code == 302 and not hasattr(Concern.objects.get(), "raised_on")


def test_empty_concern_is_refused_beside_the_field(client, cast, visit):
    client.force_login(cast.staff)
    response = client.post(
        f"/safeguarding/concerns/new/?visit={visit.pk}",
        {"child": visit.children.get().pk, "kind": "concern", "details": "", "action_taken": "Told mum"},
    )
    assert response.status_code == 200 and "Describe the concern." in response.content.decode()
    assert "Told mum" in response.content.decode() and not Concern.objects.exists()


def test_cannot_raise_about_a_child_of_another_school(client, cast):
    other_child = ChildFactory(household__school=cast.other_school)
    client.force_login(cast.staff)
    response = client.post("/safeguarding/concerns/new/", {"child": other_child.pk, "kind": "concern", "details": "x"})
    assert response.status_code == 200 and not Concern.objects.exists()


CONCERN_MATRIX = [
    ("staff", 403),
    ("staff2", 403),
    ("outsider", 403),
    ("dsl", 200),
    ("principal", 200),
    ("office", 403),
    ("trust_admin", 403),
    ("other_dsl", 404),
    ("other_staff", 403),
]


def test_who_can_see_a_concern(client, cast, visit, subtests):
    for who, status in CONCERN_MATRIX:
        with subtests.test(who=who, status=status), fresh_case(client):
            concern = visit_concern_raise(
                visit=visit, child=visit.children.get(), raised_by=cast.staff, details=DETAILS
            )
            client.force_login(getattr(cast, who))
            response = client.get(f"/safeguarding/concerns/{concern.pk}/")
            assert response.status_code == status
            assert (DETAILS in response.content.decode()) == (status == 200)
            views = AuditEntry.objects.filter(action="concern.view", object_id=str(concern.pk))
            assert views.count() == (1 if status == 200 else 0)
            if status == 200:
                assert views.get().actor == getattr(cast, who)
            list_status = {200: 200, 404: 200}.get(status, 403)  # another school's DSL has a list, without this concern
            listing = client.get("/safeguarding/concerns/")
            assert listing.status_code == list_status
            assert (str(concern.child) in listing.content.decode()) == (status == 200)


def test_concern_new_permission_matrix(client, cast, subtests):
    for who, status in CONCERN_MATRIX:
        with subtests.test(who=who, status=status), fresh_case(client):
            client.force_login(getattr(cast, who))
            expected = 403 if who in ("office", "trust_admin") else 200
            assert client.get("/safeguarding/concerns/new/").status_code == expected


def test_dsl_adds_an_action_and_closes_with_an_outcome(client, cast, visit):
    concern = visit_concern_raise(visit=visit, child=visit.children.get(), raised_by=cast.staff, details=DETAILS)
    client.force_login(cast.dsl)
    response = client.post(
        f"/safeguarding/concerns/{concern.pk}/actions/",
        {
            "action-description": "Refer to children's social care",
            "action-owner": cast.dsl.pk,
            "action-due_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 302
    assert concern.actions.get().description == "Refer to children's social care"
    assert client.post(f"/safeguarding/concerns/{concern.pk}/close/", {"outcome": ""}).status_code == 302
    concern.refresh_from_db()
    assert concern.is_open
    client.post(f"/safeguarding/concerns/{concern.pk}/close/", {"outcome": "Referred; social worker allocated."})
    concern.refresh_from_db()
    assert not concern.is_open and concern.closed_by == cast.dsl
    assert AuditEntry.objects.filter(action="concern.close", object_id=str(concern.pk)).exists()


def test_concern_list_query_count_does_not_grow(client, cast, visit, django_assert_max_num_queries):
    child = visit.children.get()
    sign_in(client, cast.dsl)
    visit_concern_raise(visit=visit, child=child, raised_by=cast.staff, details=DETAILS)
    with CaptureQueriesContext(connection) as one:
        client.get("/safeguarding/concerns/")
    for _ in range(5):
        concern_raise(child=child, raised_by=cast.staff2, details=DETAILS)
        incident_record(
            visit=visit, recorded_by=cast.staff, kind="animal", occurred_at=timezone.now(), details="Dog bit a bag"
        )
    with CaptureQueriesContext(connection) as many:
        client.get("/safeguarding/concerns/")
    assert len(many) == len(one)


# --- Incidents --------------------------------------------------------------------------------------------------


def test_accusation_against_staff_goes_to_the_principal_alone(
    client, cast_emails, visit, mailoutbox, django_capture_on_commit_callbacks
):
    cast = cast_emails
    client.force_login(cast.staff2)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/safeguarding/incidents/new/?visit={visit.pk}",
            {
                "kind": "accusation",
                "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
                "details": "Father said the lead pushed him",
                "staff_accused": cast.staff.pk,
            },
        )
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert [m.to for m in mailoutbox] == [["principal@example.org"]]
    for who, status in [
        ("principal", 200),
        ("dsl", 404),
        ("staff", 404),
        ("staff2", 404),
        ("office", 404),
        ("other_dsl", 404),
        ("trust_admin", 404),
    ]:
        client.force_login(getattr(cast, who))
        assert client.get(f"/safeguarding/incidents/{incident.pk}/").status_code == status, who
    client.force_login(cast.dsl)
    assert "Father said" not in client.get("/safeguarding/concerns/").content.decode()
    assert "Accusation" not in client.get("/safeguarding/concerns/").content.decode()


def test_an_accusation_marks_the_risk_assessment_for_review_by_the_principal_and_names_nothing(client, cast, visit):
    household, child = visit.household, visit.children.get()
    assessment = household.risk_assessments.get()
    next_visit = make_visit(lead=cast.staff2, second=cast.outsider, child=child)
    client.force_login(cast.staff2)
    client.post(
        f"/safeguarding/incidents/new/?visit={visit.pk}",
        {
            "kind": "accusation",
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "details": "Father said the lead pushed him",
            "staff_accused": cast.staff.pk,
        },
    )
    pages = {
        "staff": [f"/safeguarding/households/{household.pk}/risk/", f"/safeguarding/risk/{assessment.pk}/"],
        "staff2": [f"/visits/{next_visit.pk}/", f"/safeguarding/risk/{assessment.pk}/"],
        "dsl": ["/dashboard/", f"/safeguarding/households/{household.pk}/risk/", f"/visits/{next_visit.pk}/"],
    }
    for who, urls in pages.items():
        client.force_login(getattr(cast, who))
        for url in urls:
            page = client.get(url).content.decode()
            assert "Marked for review by the Principal." in page, (who, url)
            assert "ccusation" not in page and "pushed" not in page, (who, url)
    # Nobody but the Principal redoes it (which would clear the mark): the accused least of all.
    client.force_login(cast.staff)
    refused = client.get(f"/safeguarding/households/{household.pk}/risk/new/")
    assert refused.status_code == 403 and "only the Principal redoes it" in refused.content.decode()
    client.force_login(cast.principal)
    assert client.get(f"/safeguarding/households/{household.pk}/risk/new/").status_code == 200
    assert "Accusation against a member of staff" in client.get("/safeguarding/concerns/").content.decode()
    # The audit trail (read by a DPO, and in the admin) names the record by its number only.
    summaries = " ".join(AuditEntry.objects.values_list("summary", flat=True))
    assert "ccusation" not in summaries and "restricted incident" in summaries


def test_other_incidents_go_to_dsls_and_principal(
    client, cast_emails, visit, mailoutbox, django_capture_on_commit_callbacks
):
    cast = cast_emails
    with django_capture_on_commit_callbacks(execute=True):
        incident = incident_record(
            visit=visit,
            recorded_by=cast.staff,
            kind="threat",
            occurred_at=timezone.now(),
            details="Shouting at the door",
        )
    assert sorted(mailoutbox[0].to) == ["dsl@example.org", "principal@example.org"]
    for who, status in [("principal", 200), ("dsl", 200), ("staff", 404), ("other_dsl", 404)]:
        client.force_login(getattr(cast, who))
        assert client.get(f"/safeguarding/incidents/{incident.pk}/").status_code == status, who
    assert AuditEntry.objects.filter(action="incident.view", object_id=str(incident.pk)).count() == 2


def test_accusation_needs_the_member_of_staff(client, cast, visit):
    client.force_login(cast.staff)
    response = client.post(
        f"/safeguarding/incidents/new/?visit={visit.pk}",
        {"kind": "accusation", "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "details": "x"},
    )
    assert "Say which member of staff" in response.content.decode() and not Incident.objects.exists()


def test_incident_new_permission_matrix(client, cast, visit, subtests):
    for who, status in [
        ("staff", 200),
        ("staff2", 200),
        ("outsider", 404),
        ("dsl", 200),
        ("principal", 200),
        ("office", 403),
        ("trust_admin", 403),
        ("other_dsl", 404),
        ("other_staff", 404),
    ]:
        with subtests.test(who=who, status=status), fresh_case(client):
            client.force_login(getattr(cast, who))
            assert client.get(f"/safeguarding/incidents/new/?visit={visit.pk}").status_code == status


def test_chronology_shows_concerns_only_to_those_allowed(client, cast, visit):
    child = visit.children.get()
    visit_concern_raise(visit=visit, child=child, raised_by=cast.staff, details=DETAILS)
    client.force_login(cast.dsl)
    page = client.get(f"/visits/children/{child.pk}/chronology/").content.decode()
    assert "Disclosure" in page or "Child-protection concern" in page
    assert AuditEntry.objects.filter(action="concern.view", actor=cast.dsl).exists()
    client.force_login(cast.staff)
    page = client.get(f"/visits/children/{child.pk}/chronology/").content.decode()
    assert "Child-protection concern" not in page and "Attendance visit" in page
