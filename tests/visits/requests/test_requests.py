"""Requesting a visit: the form, the school's policy checks on submit (each from both sides), editing after a
decision, telling the family, need to know and the emails to approvers."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from core.memberships import membership_end
from core.models import AuditEntry, HomeVisitPolicy, Membership
from core.roles import Role
from safeguarding.services import prohibited_address_add
from tests.factories import PAIR_REASON, ChildFactory, grant, make_member, make_visit
from tests.helpers import fresh_case
from visits.access import can_view_visit
from visits.departure.checklist import departure_blockers
from visits.departure.services import checklist_override
from visits.models import ChecklistOverride, ParentNotification, Visit, VisitRole, VisitStatus
from visits.requests import services
from visits.requests.services import Visitor

DAY = datetime.date(2027, 3, 10)  # a Wednesday in term, GMT


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(datetime.datetime(2027, 3, 1, 9, 0, tzinfo=datetime.UTC), tick=False)


@pytest.fixture
def emails(cast):
    get_user_model().objects.update(email=Concat(F("username"), Value("@example.org")))


@pytest.fixture
def child(cast):
    return ChildFactory(household__school=cast.school, first_name="Juniper", last_name="Wrenfield")


def at(hour, minute=0, day=DAY):
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=timezone.get_current_timezone())


def form_data(child, second=None, **overrides):
    data = {
        "children": [child.pk],
        "purpose": "attendance",
        "reason": "Absent since Monday, no calls returned.",
        "outcome_wanted": "See Juniper and agree a plan.",
        "announced": "yes",
        "unannounced_reason": "",
        "visit_date": DAY.isoformat(),
        "start_time": "10:00",
        "expected_duration_minutes": "30",
        "return_time": "11:00",
        "second_visitor": second.pk if second else "",
        "travel": "lead",
        "vehicle": "Blue hatchback",
        "lead_mobile": "020 7946 0999",
        "action": "Submit for authorisation",
    }
    data.update(overrides)
    return data


def submit(client, user, data):
    client.force_login(user)
    return client.post("/visits/new/", data)


def refused(response, field, message):
    """The request was refused with `message` beside `field`, nothing saved and nothing typed lost."""
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert any(message in e for e in errors.get(field, [])), errors
    page = response.content.decode()
    assert message.split("'")[0] in page.replace("&#x27;", "'")
    assert "Absent since Monday, no calls returned." in page
    return True


# --- the form ---------------------------------------------------------------------------------------------------


def test_submitting_sends_the_request_and_tells_the_approvers(
    client, cast, child, emails, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(client, cast.staff, form_data(child, cast.staff2))
    visit = Visit.objects.get()
    assert response.url == f"/visits/{visit.pk}/"
    assert visit.status == VisitStatus.REQUESTED and visit.submitted_at == timezone.now()
    assert sorted(m.to[0] for m in mailoutbox) == ["dsl@example.org", "principal@example.org"]
    mail = mailoutbox[0]
    assert mail.subject == "Home visit request awaiting your decision"
    assert f"/approvals/{visit.pk}/" in mail.body
    # Need to know: the email carries a link, never the reason, the family or the child.
    for secret in [visit.reason, "Juniper", "Wrenfield", child.household.name, child.household.address_line1]:
        assert secret not in mail.subject and secret not in mail.body


def test_a_draft_needs_no_pair_and_sends_no_email(
    client, cast, child, emails, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        submit(client, cast.staff, form_data(child, action="Save as draft"))
    assert Visit.objects.get().status == VisitStatus.DRAFT
    assert mailoutbox == []


def test_the_draft_is_submitted_later_from_its_page(client, cast, child):
    submit(client, cast.staff, form_data(child, cast.staff2, action="Save as draft"))
    visit = Visit.objects.get()
    assert "Submit for authorisation" in client.get(f"/visits/{visit.pk}/").content.decode()
    client.post(f"/visits/{visit.pk}/submit/")
    visit.refresh_from_db()
    assert visit.status == VisitStatus.REQUESTED


def test_an_external_practitioner_makes_the_pair(client, cast, child):
    response = submit(
        client,
        cast.staff,
        form_data(
            child,
            external_name="Dr Imre Castellan",
            external_organisation="Eastbridge Health Visiting",
            external_phone="020 7946 0456",
        ),
    )
    visit = Visit.objects.get()
    assert response.status_code == 302 and visit.status == VisitStatus.REQUESTED
    external = visit.people.get(role=VisitRole.EXTERNAL)
    assert (external.external_name, str(external.external_phone)) == ("Dr Imre Castellan", "020 7946 0456")


def test_invite_into_school_instead_is_recorded(client, cast, child):
    # A meeting in school is not a home visit: no pair needed, and it is shown as the invitation it is.
    submit(client, cast.staff, form_data(child, invite_to_school_instead="on"))
    visit = Visit.objects.get()
    assert visit.invite_to_school_instead and visit.status == VisitStatus.REQUESTED
    assert "Family invited into school" in client.get(f"/visits/{visit.pk}/").content.decode()


def test_child_search_finds_own_school_children_by_name(client, cast, child):
    ChildFactory(household__school=cast.other_school, first_name="Juniper", last_name="Farshore")
    client.force_login(cast.staff)
    page = client.get("/visits/children/search/", {"q": "junip"}).content.decode()
    assert "Wrenfield" in page and "Farshore" not in page
    page = client.get("/visits/children/search/", {"q": "zzz"}).content.decode()
    assert "No child at your school matches" in page


def test_find_without_javascript_keeps_what_was_typed(client, cast, child):
    client.force_login(cast.staff)
    response = client.post("/visits/new/", form_data(child, cast.staff2, q="wrenf", action="Find", children=[]))
    page = response.content.decode()
    assert response.status_code == 200 and Visit.objects.count() == 0
    assert "Wrenfield" in page and "Absent since Monday, no calls returned." in page
    assert "invalid-feedback" not in page  # a search is not a failed submission


def test_the_picker_keeps_ticked_children_after_an_error(client, cast, child):
    response = submit(client, cast.staff, form_data(child, cast.staff2, reason=""))
    assert f'value="{child.pk}" id="id_children_{child.pk}" checked' in response.content.decode()


def test_roles_that_do_not_visit_cannot_request(client, cast, subtests):
    for role in [Role.OFFICE, Role.TRUST_ADMIN]:
        with subtests.test(role=role), fresh_case(client):
            user = {Role.OFFICE: cast.office, Role.TRUST_ADMIN: cast.trust_admin}[role]
            client.force_login(user)
            assert client.get("/visits/new/").status_code == 403
            assert client.get("/visits/children/search/", {"q": "a"}).status_code == 403


# --- policy checks on submit, each from both sides -----------------------------------------------------------


def test_fewer_than_two_visitors_is_refused(client, cast, child):
    assert refused(submit(client, cast.staff, form_data(child)), "second_visitor", "needs two visitors")
    assert Visit.objects.count() == 0  # not even a draft is left behind


def test_second_visitors_training_must_be_valid_on_the_visit_day(client, cast, child, subtests):
    for expires, ok in [(DAY, True), (DAY - datetime.timedelta(days=1), False), (None, False)]:
        with subtests.test(expires=expires, ok=ok), fresh_case(client):
            colleague = make_member(
                "colleague", cast.school, Role.STAFF, training_completed_on=None, training_expires_on=expires
            )
            response = submit(client, cast.staff, form_data(child, colleague))
            if ok:
                assert response.status_code == 302
            else:
                assert refused(response, "second_visitor", "safer-working-practice training is missing or expired")


def test_the_leads_own_training_counts_too(client, cast, child):
    cast.staff.profile.training_expires_on = DAY - datetime.timedelta(days=1)
    cast.staff.profile.save()
    assert refused(submit(client, cast.staff, form_data(child, cast.staff2)), "second_visitor", "training")


def test_visiting_hours_come_from_the_school_policy(client, cast, child, subtests):
    for start, back, ok in [
        ("08:30", "09:30", True),
        ("08:29", "09:30", False),
        ("16:30", "17:30", True),
        ("16:31", "17:30", False),
    ]:
        with subtests.test(start=start, back=back, ok=ok), fresh_case(client):
            response = submit(client, cast.staff, form_data(child, cast.staff2, start_time=start, return_time=back))
            if ok:
                assert response.status_code == 302
            else:
                assert refused(response, "start_time", "ask for the Principal's exception")


def test_duration_limit_comes_from_the_school_policy(client, cast, child, subtests):
    for minutes, ok in [("30", True), ("31", False)]:
        with subtests.test(minutes=minutes, ok=ok), fresh_case(client):
            response = submit(client, cast.staff, form_data(child, cast.staff2, expected_duration_minutes=minutes))
            if ok:
                assert response.status_code == 302
            else:
                assert refused(response, "expected_duration_minutes", "more than the 30 allowed")


def test_a_schools_own_policy_values_are_used(client, cast, child):
    HomeVisitPolicy.objects.create(
        trust=cast.trust, school=cast.school, max_visit_minutes=45, latest_start=datetime.time(18, 0)
    )
    response = submit(
        client,
        cast.staff,
        form_data(child, cast.staff2, start_time="17:00", return_time="18:00", expected_duration_minutes="45"),
    )
    assert response.status_code == 302


def test_an_evening_visit_goes_ahead_as_a_request_for_the_principals_exception(client, cast, child):
    data = form_data(child, cast.staff2, start_time="17:30", return_time="18:30", expected_duration_minutes="40")
    assert refused(
        submit(client, cast.staff, {**data, "principal_exception": "on"}),
        "principal_exception_reason",
        "Say why the Principal's exception is needed",
    )
    response = submit(
        client,
        cast.staff,
        {**data, "principal_exception": "on", "principal_exception_reason": "Only time both carers are home."},
    )
    visit = Visit.objects.get()
    assert response.status_code == 302 and visit.status == VisitStatus.REQUESTED
    page = client.get(f"/visits/{visit.pk}/").content.decode()
    assert "Needs the Principal" in page and "Starts at 17:30" in page and "more than the 30 allowed" in page


def test_a_visitor_already_booked_at_an_overlapping_time_is_refused(client, cast, child, subtests):
    for start, ok in [("10:50", True), ("10:49", False)]:
        with subtests.test(start=start, ok=ok), fresh_case(client):
            booked = make_visit(lead=cast.staff2, second=cast.dsl, start=at(10, 0), minutes=30)  # back at school 10:50
            services.visit_submit(visit=booked, actor=cast.staff2)
            response = submit(client, cast.staff, form_data(child, cast.staff2, start_time=start, return_time="11:30"))
            if ok:
                assert response.status_code == 302
            else:
                assert refused(response, "second_visitor", "already booked on another visit from 10:00 to 10:50")


def test_a_draft_or_declined_visit_does_not_hold_anyones_time(client, cast, child):
    make_visit(lead=cast.staff2, second=cast.dsl, start=at(10, 0), minutes=30)
    assert submit(client, cast.staff, form_data(child, cast.staff2)).status_code == 302


def test_a_child_from_another_school_is_refused_by_the_service_too(cast, child):
    foreign = ChildFactory(household__school=cast.other_school)
    visit = make_visit(
        lead=cast.other_staff,
        second=make_member("riverpeer", cast.other_school, Role.STAFF),
        child=foreign,
        start=at(10),
    )
    # Someone moved to another school cannot submit a request for a child they no longer teach.
    moved = Membership.objects.get(user=cast.other_staff, school=cast.other_school)
    membership_end(actor=cast.trust_admin, membership=moved, last_day=timezone.localdate() - datetime.timedelta(days=1))
    grant(cast.other_staff, cast.school, Role.STAFF, starts_on=timezone.localdate())
    cast.other_staff._membership_spans = None  # what a new request would read
    with pytest.raises(ValidationError) as error:
        services.visit_submit(visit=visit, actor=cast.other_staff)
    assert "not on your school's roll" in str(error.value.message_dict["children"])


def test_nobody_else_can_submit_someones_draft(cast, child):
    visit = make_visit(lead=cast.staff, second=cast.staff2, child=child, start=at(10))
    with pytest.raises(PermissionDenied):
        services.visit_submit(visit=visit, actor=cast.staff2)


# --- the prohibited-addresses override: one mechanism, the checklist's, with the role from the policy -----------


def test_only_a_dsl_can_override_the_address_check(cast, child):
    visit = make_visit(lead=cast.staff, second=cast.staff2, child=child, start=at(10))
    for who in [cast.staff, cast.principal, cast.office, cast.other_dsl]:
        with pytest.raises(PermissionDenied):
            checklist_override(visit=visit, item="address", reason="x", actor=who)
    with pytest.raises(ValidationError):
        checklist_override(visit=visit, item="address", reason=" ", actor=cast.dsl)
    row = checklist_override(
        visit=visit, item="address", actor=cast.dsl, reason="The listed tenant moved out in January; police confirmed."
    )
    assert (row.by, row.role) == (cast.dsl, Role.DSL)
    assert AuditEntry.objects.filter(action="checklist.override", object_id=str(visit.pk)).exists()
    assert ChecklistOverride.objects.count() == 1


# --- changing a visit ------------------------------------------------------------------------------------------


@pytest.fixture
def authorised(cast, child):
    # The same who, where and when as form_data(), so an edit through the form changes only what a test changes.
    visit = make_visit(lead=cast.staff, second=cast.staff2, child=child, start=at(10), expected_return=at(11))
    services.visit_submit(visit=visit, actor=cast.staff)
    services.visit_decide(visit=visit, actor=cast.dsl, decision="approved", unfamiliar_pair_reason=PAIR_REASON)
    assert visit.status == VisitStatus.AUTHORISED
    return visit


def test_changing_who_or_when_after_authorisation_needs_a_new_decision(client, cast, child, authorised, subtests):
    for change, back_to_requested in [
        ({"start_time": "11:00", "return_time": "12:00"}, True),  # when
        ({"second_visitor": "outsider"}, True),  # who
        ({"reason": "Absent since Monday; the phone is now disconnected."}, False),
        ({"vehicle": "Red estate car"}, False),
    ]:
        with subtests.test(change=change, back_to_requested=back_to_requested), fresh_case(client):
            data = form_data(child, cast.staff2, action="Save changes")
            data.update(change)
            if change.get("second_visitor") == "outsider":
                data["second_visitor"] = cast.outsider.pk
            client.force_login(cast.staff)
            response = client.post(f"/visits/{authorised.pk}/edit/", data)
            assert response.status_code == 302
            authorised.refresh_from_db()
            expected = VisitStatus.REQUESTED if back_to_requested else VisitStatus.AUTHORISED
            assert authorised.status == expected
            if back_to_requested:
                step = authorised.transitions.last()
                assert (step.from_status, step.to_status) == (VisitStatus.AUTHORISED, VisitStatus.REQUESTED)
                assert "needs a new decision" in step.note


def test_changing_where_after_authorisation_needs_a_new_decision(cast, child, authorised):
    sibling_elsewhere = ChildFactory(household__school=cast.school)
    services.visit_update(
        visit=authorised, actor=cast.staff, household=sibling_elsewhere.household, children=[sibling_elsewhere]
    )
    assert authorised.status == VisitStatus.REQUESTED


def test_a_change_that_breaks_the_policy_is_refused_and_keeps_the_authorisation(client, cast, child, authorised):
    client.force_login(cast.staff)
    response = client.post(
        f"/visits/{authorised.pk}/edit/",
        form_data(child, cast.staff2, action="Save changes", expected_duration_minutes="50", return_time="11:30"),
    )
    assert refused(response, "expected_duration_minutes", "more than the 30 allowed")
    authorised.refresh_from_db()
    assert authorised.status == VisitStatus.AUTHORISED and authorised.expected_duration_minutes == 30


def test_changing_the_pair_moves_the_per_visit_permission(cast, child, authorised):
    assert can_view_visit(cast.staff2, authorised) and not can_view_visit(cast.outsider, authorised)
    services.visit_update(
        visit=authorised,
        actor=cast.staff,
        people=[Visitor(role=VisitRole.LEAD, user=cast.staff), Visitor(role=VisitRole.SECOND, user=cast.outsider)],
    )
    assert can_view_visit(cast.outsider, authorised) and not can_view_visit(cast.staff2, authorised)


def test_only_the_requester_may_change_a_visit(client, cast, authorised, subtests):
    for who, status in [
        ("staff", 200),
        ("staff2", 403),
        ("dsl", 403),
        ("outsider", 404),
        ("office", 404),
        ("other_dsl", 404),
    ]:
        with subtests.test(who=who, status=status), fresh_case(client):
            client.force_login(getattr(cast, who))
            assert client.get(f"/visits/{authorised.pk}/edit/").status_code == status


def test_a_declined_request_cannot_be_changed(client, cast, child):
    visit = make_visit(lead=cast.staff, second=cast.staff2, child=child, start=at(10))
    services.visit_submit(visit=visit, actor=cast.staff)
    services.visit_decide(visit=visit, actor=cast.dsl, decision="declined", reason="Invite them in first.")
    with pytest.raises(ValidationError):
        services.visit_update(visit=visit, actor=cast.staff, reason="Please")
    client.force_login(cast.staff)
    assert client.get(f"/visits/{visit.pk}/edit/").status_code == 302


def test_changes_requested_then_resubmitted(client, cast, child):
    visit = make_visit(lead=cast.staff, second=cast.staff2, child=child, start=at(10))
    services.visit_submit(visit=visit, actor=cast.staff)
    services.visit_decide(visit=visit, actor=cast.dsl, decision="changes_requested", reason="Go at 11.")
    client.force_login(cast.staff)
    client.post(f"/visits/{visit.pk}/edit/", form_data(child, cast.staff2, start_time="11:00", return_time="12:00"))
    visit.refresh_from_db()
    assert visit.status == VisitStatus.REQUESTED
    assert timezone.localtime(visit.scheduled_start).time() == datetime.time(11, 0)


# --- telling the family --------------------------------------------------------------------------------------


def notify(client, visit, response="agreed", **extra):
    data = {
        "method": "phone",
        "notified_on": "2027-03-01",
        "notified_time": "08:30",
        "response": response,
        "note": "",
        **extra,
    }
    return client.post(f"/visits/{visit.pk}/parents/", data)


def test_how_and_when_the_family_was_told_is_recorded(client, cast, authorised):
    client.force_login(cast.staff2)
    notify(client, authorised, method="letter")
    row = ParentNotification.objects.get()
    assert (row.method, row.response, row.recorded_by) == ("letter", "agreed", cast.staff2)
    assert timezone.localtime(row.notified_at) == at(8, 30, datetime.date(2027, 3, 1))
    page = client.get(f"/visits/{authorised.pk}/").content.decode()
    assert "Letter, 1 Mar 2027 08:30: <strong>Agreed to the visit</strong>" in page


def test_a_family_that_declines_is_recorded_as_declined(client, cast, authorised):
    client.force_login(cast.staff)
    notify(client, authorised, response="declined", note="Prefers to come into school.")
    authorised.refresh_from_db()
    assert authorised.status == VisitStatus.FAMILY_DECLINED
    page = client.get(f"/visits/{authorised.pk}/").content.decode()
    assert "Declined by the family" in page and "The family declined the visit (phone call)" in page


def test_a_notification_in_the_future_is_refused(client, cast, authorised):
    client.force_login(cast.staff)
    response = notify(client, authorised, notified_on="2027-03-02")
    assert ParentNotification.objects.count() == 0
    assert "in the future" in client.get(response.url).content.decode()


def test_an_unannounced_visit_has_no_family_notice(cast, child):
    visit = make_visit(
        lead=cast.staff,
        second=cast.staff2,
        child=child,
        start=at(10),
        announced=False,
        unannounced_reason="Welfare check agreed with social care.",
    )
    with pytest.raises(ValidationError):
        services.parent_notification_record(
            visit=visit, actor=cast.staff, method="phone", notified_at=timezone.now(), response="agreed"
        )


def test_who_may_record_the_familys_answer(client, cast, authorised, subtests):
    for who, status in [("staff2", 302), ("dsl", 302), ("outsider", 404), ("office", 404), ("other_dsl", 404)]:
        with subtests.test(who=who, status=status), fresh_case(client):
            client.force_login(getattr(cast, who))
            assert notify(client, authorised).status_code == status
            assert ParentNotification.objects.count() == (1 if status == 302 else 0)


def test_the_change_form_shows_the_visit_as_it_is(client, cast, child, authorised):
    client.force_login(cast.staff)
    page = client.get(f"/visits/{authorised.pk}/edit/").content.decode()
    # A browser's date input only accepts ISO dates: anything else would show an empty date.
    assert f'value="{DAY.isoformat()}"' in page and 'value="10:00"' in page
    assert f'value="{child.pk}" id="id_children_{child.pk}" checked' in page


# --- the prohibited-addresses list (its matching, checked on submit) --------------------------------------


def _prohibit(cast, line1, postcode):
    return prohibited_address_add(
        actor=cast.dsl, trust=cast.trust, school=None, address_line1=line1, postcode=postcode, town="Eastbridge"
    )


def test_a_prohibited_address_is_refused_on_submit_until_a_dsl_overrides(client, cast, child):
    child.household.address_line1 = "12a High St"
    child.household.postcode = "EB1 1AA"
    child.household.save()
    _prohibit(cast, "12A HIGH STREET", "EB11AA")
    response = submit(client, cast.staff, form_data(child, cast.staff2))
    assert refused(response, "children", "on the prohibited-addresses list")
    assert Visit.objects.count() == 0

    visit = make_visit(lead=cast.staff, second=cast.staff2, child=child, start=at(10))
    with pytest.raises(ValidationError, match="prohibited-addresses list"):
        services.visit_submit(visit=visit, actor=cast.staff)
    checklist_override(
        visit=visit, item="address", actor=cast.dsl, reason="LA confirmed the named adult has moved away"
    )
    services.visit_submit(visit=visit, actor=cast.staff)
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.REQUESTED
    # The same override stands at check-out: the checklist's address item is no longer blocking.
    assert "address" not in [item.key for item in departure_blockers(visit)]


def test_a_near_match_on_the_list_needs_a_dsls_judgement(client, cast, child):
    child.household.address_line1 = "14 High Street"
    child.household.postcode = "EB1 1AA"
    child.household.save()
    _prohibit(cast, "12A High Street", "EB1 1AA")
    assert refused(submit(client, cast.staff, form_data(child, cast.staff2)), "children", "a DSL must judge")


def test_an_address_elsewhere_is_not_held_up_by_the_list(client, cast, child):
    _prohibit(cast, "3 Other Road", "EB9 9ZZ")
    response = submit(client, cast.staff, form_data(child, cast.staff2))
    assert response.status_code == 302
    assert Visit.objects.get().status == VisitStatus.REQUESTED
