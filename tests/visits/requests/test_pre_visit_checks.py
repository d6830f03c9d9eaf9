"""What the seeds ask to be checked before a visit: at least one visitor who works with the child or family
(warned; a DSL may accept it with a recorded reason), business insurance for the car, and the household's
language, interpreter, literacy and access notes (and the social worker) where the visit is planned, decided and
made."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from core.models import AuditEntry
from core.roles import Role
from tests.factories import (
    PAIR_REASON,
    ChildFactory,
    ParentCarerFactory,
    make_authorised_visit,
    make_member,
    make_visit,
    walk_visit,
)
from tests.helpers import fresh_case
from tests.visits.requests.test_requests import at, form_data, submit
from visits.alerts.services import visit_raise_duress
from visits.departure.services import visit_record_social_worker
from visits.field.services import visit_check_in
from visits.models import AuthorisationDecision, CheckInKind, Visit, VisitRole, VisitStatus
from visits.requests import policy, services
from visits.requests.services import Visitor

NOW = datetime.datetime(2027, 3, 1, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def child(cast):
    return ChildFactory(household__school=cast.school, first_name="Juniper", last_name="Wrenfield")


def requested(cast, child, *, people=None, **fields):
    visit = make_visit(lead=cast.staff, second=cast.staff2, child=child, start=at(10), **fields)
    if people:
        services.visit_update(visit=visit, actor=cast.staff, people=people)
    services.visit_submit(visit=visit, actor=cast.staff)
    return visit


# --- a visitor who works with the child or family ------------------------------------------------------------


def test_who_counts_as_working_with_the_family(cast, child, subtests):
    sibling = ChildFactory(household=child.household)
    earlier_day = datetime.date(2027, 3, 1)

    def key_worker(kid, user):
        kid.key_worker = user
        kid.save()

    def earlier_visit(lead, status):
        visit = make_visit(lead=lead, second=cast.outsider, child=sibling, start=at(9, 0, earlier_day))
        if status == "cancelled":
            services.visit_cancel(visit=visit, actor=lead, reason="The family came into school.")
        else:
            walk_visit(visit, lead, status)

    for name, arrange, familiar in [
        ("nobody", lambda: None, False),
        ("the child's key worker", lambda: key_worker(child, cast.staff2), True),
        ("another child's key worker only", lambda: key_worker(sibling, cast.dsl), False),
        ("on an earlier visit there that went ahead", lambda: earlier_visit(cast.staff2, "returned"), True),
        ("on an earlier visit that was called off", lambda: earlier_visit(cast.staff2, "cancelled"), False),
    ]:
        with subtests.test(name=name), fresh_case():
            arrange()
            visit = make_visit(lead=cast.staff, second=cast.staff2, child=child, start=at(11))
            warning = policy.unfamiliar_pair(visit)
            assert (warning == "") == familiar
            if not familiar:
                assert warning.startswith("Nobody on this visit (") and "works with Juniper or the family" in warning


def test_the_childs_social_worker_as_the_external_practitioner_works_with_the_family(cast, child):
    child.social_worker_name = "Ms Odile Brancaster"
    child.save()
    people = [
        Visitor(role=VisitRole.LEAD, user=cast.staff),
        Visitor(role=VisitRole.EXTERNAL, external_name="ms odile  brancaster", external_organisation="Eastbridge CSC"),
    ]
    visit = make_visit(lead=cast.staff, child=child, start=at(10))
    services.visit_update(visit=visit, actor=cast.staff, people=people)
    assert policy.unfamiliar_pair(visit) == ""


def test_the_requester_is_warned_and_the_dsl_must_give_a_reason_to_approve(client, cast, child):
    response = submit(client, cast.staff, form_data(child, cast.staff2))
    page = client.get(response.url).content.decode()
    warning = "Nobody on this visit"
    assert page.count(warning) == 2  # the message after submitting, and the visit page while it waits
    visit = Visit.objects.get()

    client.force_login(cast.dsl)
    decision_page = client.get(f"/approvals/{visit.pk}/").content.decode()
    assert warning in decision_page and "Why you accept this pair" in decision_page
    refused = client.post(f"/approvals/{visit.pk}/", {"decision": "approved"})
    assert refused.status_code == 200
    assert refused.context["form"].errors["unfamiliar_pair_reason"] == [
        "Say why you accept this pair, or ask for changes."
    ]
    visit.refresh_from_db()
    assert visit.status == VisitStatus.REQUESTED and AuthorisationDecision.objects.count() == 0
    # The service refuses it too, whatever page asks.
    with pytest.raises(ValidationError) as error:
        services.visit_decide(visit=visit, actor=cast.dsl, decision="approved")
    assert "Say why you accept this pair" in str(error.value.message_dict["unfamiliar_pair_reason"])

    client.post(f"/approvals/{visit.pk}/", {"decision": "approved", "unfamiliar_pair_reason": PAIR_REASON})
    record = AuthorisationDecision.objects.get()
    assert record.unfamiliar_pair_reason == PAIR_REASON
    entry = AuditEntry.objects.get(action="visit.decide", object_id=str(visit.pk))
    assert entry.details["accepted_unfamiliar_pair"] is True and PAIR_REASON not in str(entry.details)
    client.force_login(cast.staff)
    page = client.get(f"/visits/{visit.pk}/").content.decode()
    assert f"Accepted a pair who do not yet work with the family: {PAIR_REASON}" in page
    assert warning not in page  # decided: no longer a warning, but the decision's record


def test_a_pair_that_knows_the_family_needs_no_reason(client, cast, child):
    child.key_worker = cast.staff2
    child.save()
    visit = requested(cast, child)
    client.force_login(cast.dsl)
    page = client.get(f"/approvals/{visit.pk}/").content.decode()
    assert "Nobody on this visit" not in page and "Why you accept this pair" not in page
    client.post(f"/approvals/{visit.pk}/", {"decision": "approved", "unfamiliar_pair_reason": "ignored"})
    assert AuthorisationDecision.objects.get().unfamiliar_pair_reason == ""  # nothing to accept, nothing kept


def test_a_dsl_may_ask_for_changes_without_accepting_the_pair(client, cast, child):
    visit = requested(cast, child)
    client.force_login(cast.dsl)
    client.post(f"/approvals/{visit.pk}/", {"decision": "changes_requested", "reason": "Take Juniper's key worker."})
    visit.refresh_from_db()
    assert visit.status == VisitStatus.CHANGES_REQUESTED


# --- business insurance for the car --------------------------------------------------------------------------


def uninsured(user):
    user.profile.business_insurance_confirmed = False
    user.profile.save()


def test_a_car_whose_driver_has_no_business_insurance_is_refused(client, cast, child, subtests):
    for travel, driver in [("lead", "staff"), ("second", "staff2")]:
        with subtests.test(travel=travel), fresh_case(client):
            uninsured(getattr(cast, driver))
            response = submit(client, cast.staff, form_data(child, cast.staff2, travel=travel))
            name = getattr(cast, driver).get_full_name()
            [message] = response.context["form"].errors["vehicle"]
            assert message.startswith(f"{name}'s business insurance for this car is not recorded")
            assert f"Ask the trust admin to record it on {name}'s staff profile, or go another way." in message
            assert Visit.objects.count() == 0
            assert submit(client, cast.staff, form_data(child, cast.staff2, travel="")).status_code == 302


def test_an_insured_drivers_car_comes_from_their_profile(client, cast, child):
    cast.staff2.profile.vehicle_description = "Green Skoda Fabia"
    cast.staff2.profile.vehicle_registration = "EB19FAB"
    cast.staff2.profile.save()
    submit(client, cast.staff, form_data(child, cast.staff2, travel="second", vehicle=""))
    visit = Visit.objects.get()
    assert (visit.vehicle, visit.driver, visit.status) == ("Green Skoda Fabia EB19FAB", cast.staff2, "requested")
    client.force_login(cast.staff)
    assert (
        f"Green Skoda Fabia EB19FAB, driven by {cast.staff2.get_full_name()}"
        in client.get(f"/visits/{visit.pk}/").content.decode()
    )


def test_a_car_and_no_driver_among_the_visitors_is_refused_by_the_service(cast, child):
    with pytest.raises(ValidationError, match="The driver must be one of the visitors"):
        make_visit(lead=cast.staff, second=cast.staff2, child=child, vehicle="Blue van", driver=cast.outsider)


def test_insurance_withdrawn_after_the_decision_stops_the_check_out(cast, time_machine):
    start = at(10)
    visit = make_authorised_visit(lead=cast.staff, second=cast.staff2, authoriser=cast.dsl, start=start)
    assert visit.driver == cast.staff
    uninsured(cast.staff)
    time_machine.move_to(start - datetime.timedelta(minutes=5), tick=False)
    with pytest.raises(ValidationError, match="business insurance"):
        visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.CHECKED_OUT)
    visit.refresh_from_db()
    assert visit.status == VisitStatus.AUTHORISED


# --- the household's needs, where the visit is planned, decided and made -------------------------------------


@pytest.fixture
def needs(cast, child):
    household = child.household
    household.interpreter_needed = True
    household.home_languages = "Tigrinya"
    household.access_notes = "Large dog: ask for it to be shut in the kitchen. Ring the side bell."
    household.save()
    ParentCarerFactory(household=household, first_name="Selam", last_name="Haile", language="Tigrinya")
    ParentCarerFactory(household=household, first_name="Dawit", last_name="Haile", literacy_support_needed=True)
    child.social_worker_name = "Mr Caspian Thorne"
    child.social_worker_phone = "020 7946 0777"
    child.save()
    return household


SOCIAL_WORKER = """Social worker: Mr Caspian Thorne, <a href="tel:+442079460777">"""
NEEDS = [
    "Interpreter needed</strong>: Tigrinya",
    "Ms Selam Haile (mother): speaks Tigrinya",
    "Ms Dawit Haile (mother): <strong>read letters aloud or explain them</strong>",
    "Large dog: ask for it to be shut in the kitchen. Ring the side bell.",
]


def test_the_familys_needs_show_on_the_visit_decision_and_field_pages(client, cast, child, needs):
    visit = make_authorised_visit(lead=cast.staff, second=cast.staff2, authoriser=cast.dsl, start=at(10), child=child)
    for who, url in [
        (cast.staff, f"/visits/{visit.pk}/"),
        (cast.dsl, f"/approvals/{visit.pk}/"),
        (cast.staff2, f"/visits/{visit.pk}/field/"),
    ]:
        client.force_login(who)
        page = client.get(url).content.decode()
        for line in NEEDS:
            assert line in page, (url, line)
    # The social worker's number is on the pair's field page, not on the office's view of it.
    client.force_login(cast.staff2)
    assert SOCIAL_WORKER in client.get(f"/visits/{visit.pk}/field/").content.decode()
    client.force_login(cast.office)
    office = client.get(f"/visits/{visit.pk}/field/").content.decode()
    assert "Caspian Thorne" not in office and "Large dog" not in office


def test_the_request_form_shows_the_needs_once_a_child_is_ticked_to_those_who_may_see_the_family(
    client, cast, child, needs
):
    client.force_login(cast.dsl)
    part = client.get("/visits/new/household-needs/", {"children": [child.pk]}).content.decode()
    for line in NEEDS:
        assert line in part
    assert AuditEntry.objects.filter(action="household.view", object_id=str(needs.pk)).exists()
    # Visiting staff with no visit there yet are told when they will see them (need to know).
    client.force_login(cast.staff)
    part = client.get("/visits/new/household-needs/", {"children": [child.pk]}).content.decode()
    assert "Large dog" not in part and "show here once the request is saved" in part
    # After a refused round the form shows them again, as the picker does the ticked child.
    make_visit(lead=cast.staff, second=cast.staff2, child=child, start=at(15))  # a draft opens the family to them
    page = submit(client, cast.staff, form_data(child, cast.staff2, lead_mobile="12")).content.decode()
    assert "Large dog" in page
    # Nothing ticked, or another school's child: nothing.
    other = ChildFactory(household__school=cast.other_school)
    assert client.get("/visits/new/household-needs/", {"children": [other.pk]}).content.decode().strip() == ""
    assert client.get("/visits/new/household-needs/").content.decode().strip() == ""


def test_the_office_is_refused_the_needs(client, cast, child, needs):
    client.force_login(cast.office)
    assert client.get("/visits/new/household-needs/", {"children": [child.pk]}).status_code == 403


def test_a_household_with_nothing_recorded_says_so(client, cast, child):
    visit = make_authorised_visit(lead=cast.staff, second=cast.staff2, authoriser=cast.dsl, start=at(10))
    client.force_login(cast.staff)
    assert (
        "No interpreter, language, literacy or access notes are recorded."
        in client.get(f"/visits/{visit.pk}/").content.decode()
    )


def test_the_police_prompt_gives_the_social_workers_number_and_nothing_before_it(client, cast, child, needs):
    staff3 = make_member("staff3", cast.school, Role.STAFF)
    visit = make_authorised_visit(lead=staff3, second=cast.staff2, authoriser=cast.dsl, start=at(10), child=child)
    visit_record_social_worker(visit=visit, actor=staff3, now=at(9, 50))
    visit_check_in(visit=visit, actor=staff3, kind=CheckInKind.CHECKED_OUT, now=at(9, 55))
    client.force_login(cast.office)
    board = client.get("/board/").content.decode()
    assert "Caspian Thorne" not in board  # out, no alert: the office does not see the social worker
    visit_raise_duress(visit=visit, actor=cast.office, from_office=True, now=at(10, 5))
    board = client.get("/board/").content.decode()
    prompt = board[board.index("police-prompt") :]
    assert SOCIAL_WORKER in prompt
