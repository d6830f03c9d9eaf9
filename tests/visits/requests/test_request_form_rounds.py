"""The request form as a phone user meets it: every problem (the policy's included) in one round with a summary
that links to each field, fields that apply only to another answer marked for the script, the school's hours
beside the times, "back by" worked out, and a second-visitor list of people who may visit."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import HomeVisitPolicy
from core.roles import Role
from tests.factories import ChildFactory, grant, make_member, sign_in
from tests.helpers import fresh_case
from tests.visits.requests.test_requests import DAY, form_data, submit
from visits.models import Visit, VisitStatus


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(datetime.datetime(2027, 3, 1, 9, 0, tzinfo=datetime.UTC), tick=False)


@pytest.fixture
def child(cast):
    return ChildFactory(household__school=cast.school, first_name="Juniper", last_name="Wrenfield")


def named(school, username, first, last, **profile):
    """Visiting staff with this name (the factory's names come from a short list)."""
    user = make_member(username, school, Role.STAFF, **profile)
    user.first_name, user.last_name = first, last
    user.save()
    return user


def summary_links(page: str) -> dict[str, str]:
    """The error summary's entries: anchor -> text."""
    box = page[page.index('id="error-summary"') : page.index("</ul>", page.index('id="error-summary"'))]
    return {a: re.sub(r"<[^>]+>", "", t).replace("&#x27;", "'") for a, t in re.findall(r'href="#([^"]+)">([^<]+)', box)}


# --- one round ----------------------------------------------------------------------------------------------------


def test_the_forms_problems_and_the_policys_come_in_one_round(client, cast, child):
    lapsed = make_member("lapsed", cast.school, Role.STAFF, training_expires_on=DAY - datetime.timedelta(days=3))
    cast.staff.profile.business_insurance_confirmed = False
    cast.staff.profile.save()
    data = form_data(
        child,
        lapsed,
        start_time="19:00",
        return_time="20:00",
        expected_duration_minutes="45",
        lead_mobile="12",  # the form's own check
        reason="Absent since Monday, no calls returned.",
    )
    response = submit(client, cast.staff, data)
    assert response.status_code == 200 and Visit.objects.count() == 0
    errors = response.context["form"].errors
    # The form's own message and every policy problem, each beside its field, in the same answer.
    assert any("valid phone number" in e for e in errors["lead_mobile"])
    assert any("Starts at 19:00, outside 08:30–16:30" in e for e in errors["start_time"])
    assert any("Lasts 45 minutes, more than the 30 allowed" in e for e in errors["expected_duration_minutes"])
    assert any("training is missing or expired" in e for e in errors["second_visitor"])
    assert any("Ask the trust admin to record it" in e for e in errors["vehicle"])
    page = response.content.decode()
    links = summary_links(page)
    assert set(links) >= {"id_lead_mobile", "id_start_time", "id_expected_duration_minutes", "id_second_visitor"}
    assert links["id_vehicle"].startswith("The car: ")
    # The summary is what a screen reader reaches first: the title says so, and the script moves focus to it.
    assert "<title>Error: Request a home visit" in page
    assert 'id="error-summary" tabindex="-1"' in page and "js/request-form.js" in page
    assert "Absent since Monday, no calls returned." in page  # nothing typed is lost
    for anchor in links:
        assert f'id="{anchor}"' in page  # every link lands on its field


def test_after_fixing_the_form_no_new_policy_problem_appears(client, cast, child):
    """The second round only ever confirms: what the policy objects to was already said in the first."""
    data = form_data(child, cast.staff2, start_time="17:30", return_time="18:30", lead_mobile="12")
    first = submit(client, cast.staff, data).context["form"].errors
    assert set(first) == {"lead_mobile", "start_time"}
    second = submit(client, cast.staff, {**data, "lead_mobile": "020 7946 0999"}).context["form"].errors
    assert set(second) == {"start_time"}  # the same policy message, nothing new


def test_a_draft_is_not_held_to_the_policy(client, cast, child):
    response = submit(
        client, cast.staff, form_data(child, start_time="19:00", return_time="20:00", action="Save as draft")
    )
    assert response.status_code == 302 and Visit.objects.get().status == VisitStatus.DRAFT


def test_a_policy_problem_with_a_field_already_wrong_shows_the_fields_own_message_first(client, cast, child):
    response = submit(client, cast.staff, form_data(child, second_visitor="999999"))
    assert response.context["form"].errors["second_visitor"] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]


# --- fields for one answer only -------------------------------------------------------------------------------


def test_fields_for_one_answer_are_marked_for_the_script_and_shown_without_it(client, cast):
    client.force_login(cast.staff)
    page = client.get("/visits/new/").content.decode()
    # Every field is in the page (nothing is lost without JavaScript); the script hides a group until its answer.
    assert 'data-show-values="no" data-show-when="announced"' in page
    assert 'data-show-values="on" data-show-when="principal_exception"' in page
    assert 'data-show-values="lead second" data-show-when="travel"' in page
    for name in ["unannounced_reason", "principal_exception_reason", "vehicle", "external_name"]:
        assert f'name="{name}"' in page
    assert '<details class="mb-3" id="external-practitioner">' in page  # closed until needed
    assert "<script>" not in page and " onclick=" not in page  # the strict CSP


def test_an_external_practitioner_typed_keeps_their_section_open(client, cast, child):
    response = submit(client, cast.staff, form_data(child, external_name="Dr Imre Castellan", lead_mobile="12"))
    assert '<details class="mb-3" id="external-practitioner" open>' in response.content.decode()


def test_what_applies_only_to_another_answer_is_not_saved(client, cast, child):
    data = form_data(child, cast.staff2, unannounced_reason="typed, then changed my mind", travel="", vehicle="Red van")
    submit(client, cast.staff, data)
    visit = Visit.objects.get()
    assert (visit.unannounced_reason, visit.vehicle, visit.driver) == ("", "", None)


# --- the school's hours beside the times, and "back by" -----------------------------------------------------


def test_the_schools_visiting_hours_and_longest_visit_are_beside_the_times(client, cast):
    client.force_login(cast.staff)
    page = client.get("/visits/new/").content.decode()
    assert "Visits start between 08:30 and 16:30 and last at most 30 minutes" in page
    assert 'data-earliest="08:30"' in page and 'data-latest="16:30"' in page and 'data-longest="30"' in page
    HomeVisitPolicy.objects.create(trust=cast.trust, school=cast.school, max_visit_minutes=45)
    assert "last at most 45 minutes" in client.get("/visits/new/").content.decode()


def test_someone_at_two_schools_with_different_hours_is_told_where_they_are(client, cast):
    HomeVisitPolicy.objects.create(trust=cast.trust, school=cast.other_school, max_visit_minutes=20)
    grant(cast.staff, cast.other_school, Role.STAFF)
    client.force_login(cast.staff)
    page = client.get("/visits/new/").content.decode()
    assert "Each school&#x27;s visiting hours and longest visit are in its home-visit policy." in page
    assert "data-longest" not in page  # the script does not guess which school's


def test_back_by_is_worked_out_from_the_duration_when_left_empty(client, cast, child):
    submit(
        client,
        cast.staff,
        form_data(child, cast.staff2, start_time="10:15", expected_duration_minutes="25", return_time=""),
    )
    visit = Visit.objects.get()
    assert timezone.localtime(visit.expected_return).time() == datetime.time(10, 40)


# --- the second visitor -------------------------------------------------------------------------------------


def test_only_staff_who_may_visit_are_offered_as_the_second_visitor(client, cast):
    both = make_member("both", cast.school, Role.DSL, Role.STAFF)
    client.force_login(cast.staff)
    offered = set(client.get("/visits/new/").context["form"].fields["second_visitor"].queryset)
    assert {cast.staff2, cast.outsider, both} <= offered
    # Leadership who only decide, the office and the trust admin are not offered; nor is anyone elsewhere.
    for nobody in [cast.dsl, cast.principal, cast.office, cast.trust_admin, cast.other_staff, cast.staff]:
        assert nobody not in offered


def test_someone_not_offered_is_refused_if_posted_anyway(client, cast, child):
    response = submit(client, cast.staff, form_data(child, cast.office))
    assert "Select a valid choice" in response.context["form"].errors["second_visitor"][0]
    assert Visit.objects.count() == 0


def test_colleagues_whose_training_lapses_before_the_visit_are_marked(client, cast, child):
    named(cast.school, "soon", "Perpetua", "Oakes", training_expires_on=DAY - datetime.timedelta(days=1))
    named(
        cast.school, "gone", "Tobias", "Wren", training_completed_on=None, training_expires_on=datetime.date(2027, 2, 1)
    )
    client.force_login(cast.staff)
    page = client.get("/visits/new/").content.decode()
    assert "Tobias Wren (training expired 1 Feb 2027)" in page
    assert "Perpetua Oakes</option>" in page  # valid today, and no visit day chosen yet
    assert 'data-name="Perpetua Oakes" data-training-expires="2027-03-09"' in page  # for the script
    with fresh_case(client):
        response = submit(client, cast.staff, form_data(child, lead_mobile="12"))  # DAY is 10 March
        assert "Perpetua Oakes (training lapses 9 Mar 2027, before the visit)" in response.content.decode()


def test_the_forms_queries_do_not_grow_with_the_colleagues_offered(client, cast):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/visits/new/").status_code == 200
        return len(queries)

    sign_in(client, cast.staff)
    few = count()
    for n in range(30):
        make_member(f"colleague{n}", cast.school, Role.STAFF)
    many = count()
    assert len(client.get("/visits/new/").context["form"].fields["second_visitor"].queryset) > 30
    assert few == many, f"{few} queries with 2 colleagues, {many} with 32"
