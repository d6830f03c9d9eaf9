"""The request form: bad input gets a message beside the field, saves nothing and keeps what was typed."""

import datetime

import pytest
from django.utils import timezone

from core.models import AuditEntry
from tests.factories import ChildFactory
from tests.helpers import fresh_case
from visits.models import Visit, VisitRole, VisitStatus


@pytest.fixture
def child(cast):
    return ChildFactory(household__school=cast.school, first_name="Juniper")


def _form(child, second, **overrides):
    day = timezone.localdate() + datetime.timedelta(days=2)
    data = {
        "children": [child.pk],
        "purpose": "attendance",
        "reason": "Absent since Monday, no calls returned.",
        "outcome_wanted": "See Juniper and agree a plan.",
        "announced": "yes",
        "unannounced_reason": "",
        "visit_date": day.isoformat(),
        "start_time": "10:00",
        "expected_duration_minutes": "30",
        "return_time": "11:00",
        "second_visitor": second.pk,
        "travel": "lead",
        "vehicle": "Blue hatchback",
        "lead_mobile": "020 7946 0999",
        "action": "Submit for authorisation",
    }
    data.update(overrides)
    return data


def test_staff_can_submit_a_request(client, cast, child):
    client.force_login(cast.staff)
    response = client.post("/visits/new/", _form(child, cast.staff2))
    visit = Visit.objects.get()
    assert response.status_code == 302 and response.url == f"/visits/{visit.pk}/"
    assert visit.status == VisitStatus.REQUESTED
    assert visit.household == child.household
    people = {(p.role, p.user) for p in visit.people.all()}
    assert people == {(VisitRole.LEAD, cast.staff), (VisitRole.SECOND, cast.staff2)}
    assert timezone.localtime(visit.scheduled_start).time() == datetime.time(10, 0)
    page = client.get(response.url).content.decode()
    assert "Awaiting authorisation" in page and "Request sent for authorisation" in page
    assert AuditEntry.objects.filter(action="visit.transition", object_id=str(visit.pk)).exists()


def test_save_as_draft(client, cast, child):
    client.force_login(cast.staff)
    client.post("/visits/new/", _form(child, cast.staff2, action="Save as draft"))
    assert Visit.objects.get().status == VisitStatus.DRAFT


def test_form_is_prefilled_from_the_profile(client, cast):
    client.force_login(cast.staff)
    page = client.get("/visits/new/").content.decode()
    assert 'value="020 7946 0123"' in page


def test_bad_input_is_reported_beside_the_field(client, cast, child, subtests):
    for overrides, field, message in [
        ({"expected_duration_minutes": "-10"}, "expected_duration_minutes", "at least one minute"),
        ({"return_time": "09:30"}, "return_time", "must be after the start"),
        ({"return_time": "10:15"}, "return_time", "before the visit would end"),
        ({"purpose": "sightseeing"}, "purpose", "Choose one of the listed purposes"),
        ({"announced": "no"}, "unannounced_reason", "Say why this visit is unannounced"),
        ({"lead_mobile": "12"}, "lead_mobile", "valid phone number"),
        ({"second_visitor": "", "external_name": "Dr Imre Castellan"}, "external_organisation", "organisation"),
    ]:
        with subtests.test(overrides=overrides, field=field, message=message), fresh_case(client):
            client.force_login(cast.staff)
            data = _form(child, cast.staff2, **overrides)
            response = client.post("/visits/new/", data)
            assert response.status_code == 200
            form = response.context["form"]
            assert any(message in e for e in form.errors[field]), form.errors
            page = response.content.decode()
            assert f'id="error_1_id_{field}"' in page  # crispy renders the message beside the field
            assert "Absent since Monday, no calls returned." in page  # nothing typed is lost
            assert Visit.objects.count() == 0


def test_a_child_from_another_school_is_refused(client, cast, child):
    foreign = ChildFactory(household__school=cast.other_school)
    client.force_login(cast.staff)
    response = client.post("/visits/new/", _form(foreign, cast.staff2))
    assert response.status_code == 200
    assert response.context["form"].errors["children"] == ["That child is not on your school's roll."]
    assert Visit.objects.count() == 0


def test_children_from_two_households_are_refused(client, cast, child):
    sibling_elsewhere = ChildFactory(household__school=cast.school)
    client.force_login(cast.staff)
    response = client.post("/visits/new/", _form(child, cast.staff2, children=[child.pk, sibling_elsewhere.pk]))
    assert "one household" in response.context["form"].errors["children"][0]
    assert Visit.objects.count() == 0


def test_the_form_only_offers_own_school_children_and_staff(client, cast, child):
    ChildFactory(household__school=cast.other_school, first_name="Faraway")
    client.force_login(cast.staff)
    # The child picker searches by name within the user's own schools.
    assert "Juniper" in client.get("/visits/new/?q=junip").content.decode()
    assert "Faraway" not in client.get("/visits/new/?q=faraway").content.decode()
    response = client.get("/visits/new/")
    offered = set(response.context["form"].fields["second_visitor"].queryset)
    assert cast.staff2 in offered
    assert cast.other_staff not in offered and cast.staff not in offered
