"""Who decides a request, said in one voice (policy.who_decides) on the requester's message, the visit page, the
approvals list, the decision page and the dashboard; the Principal's exceptions judged on the visit as planned,
whatever else is ticked; and any change to who, where or when after a decision sends it back for a new one."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db.models import F, Value
from django.db.models.functions import Concat

from core.models import Authorisers, HomeVisitPolicy
from tests.factories import PAIR_REASON, ChildFactory, make_visit, prepare_for_departure
from tests.helpers import fresh_case
from tests.visits.requests.test_requests import at, form_data, submit
from visits.field.services import visit_check_in
from visits.models import AuthorisationDecision, CheckInKind, Visit, VisitRole, VisitStatus
from visits.requests import services
from visits.requests.services import Visitor

NOW = datetime.datetime(2027, 3, 1, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def child(cast):
    return ChildFactory(household__school=cast.school, first_name="Juniper", last_name="Wrenfield")


def principal_only(cast):
    HomeVisitPolicy.objects.create(trust=cast.trust, school=cast.school, authorisers=Authorisers.PRINCIPAL_ONLY)


def requested(cast, child=None, *, lead=None, second=None, start=None, **fields):
    lead = lead or cast.staff
    visit = make_visit(lead=lead, second=second or cast.staff2, child=child, start=start or at(10), **fields)
    services.visit_submit(visit=visit, actor=lead)
    return visit


def page_of(client, user, url):
    client.force_login(user)
    return client.get(url).content.decode()


# --- the requester is told who decides ----------------------------------------------------------------------


def test_the_requester_is_told_who_decides(client, cast, child, subtests):
    for setup, data, told in [
        (None, {}, "A DSL or the Principal decides it."),
        (principal_only, {}, "The Principal decides it: at this school only the Principal authorises home visits."),
        (
            None,
            {"start_time": "17:30", "return_time": "18:30", "principal_exception": "on"},
            "The Principal decides it: it needs the Principal&#x27;s exception (Starts at 17:30, outside 08:30–16:30).",
        ),
        (
            None,
            {"announced": "no", "unannounced_reason": "Welfare check agreed with social care."},
            "The Principal decides it: it needs the Principal&#x27;s exception (unannounced).",
        ),
    ]:
        with subtests.test(told=told), fresh_case(client):
            if setup:
                setup(cast)
            post = form_data(child, cast.staff2, principal_exception_reason="Only time both carers are home.", **data)
            response = submit(client, cast.staff, post)
            assert response.status_code == 302
            page = client.get(response.url).content.decode()
            assert told in page  # the message after submitting, and the visit page while it waits
            assert page.count(told) == 2


def test_only_the_principal_is_emailed_where_only_the_principal_decides(
    cast, mailoutbox, django_capture_on_commit_callbacks
):
    get_user_model().objects.update(email=Concat(F("username"), Value("@example.org")))
    principal_only(cast)
    with django_capture_on_commit_callbacks(execute=True):
        requested(cast)
    assert [m.to for m in mailoutbox] == [["principal@example.org"]]


# --- the DSL sees which requests are hers --------------------------------------------------------------------


def test_at_a_principal_only_school_the_dsl_sees_the_requests_are_for_the_principal(client, cast):
    principal_only(cast)
    first, second = requested(cast, start=at(10)), requested(cast, start=at(14))
    dashboard = page_of(client, cast.dsl, "/dashboard/")
    panel = dashboard[dashboard.index('id="p-pending"') : dashboard.index('id="p-alerts"')]
    assert "Requests yours to decide" in panel and "✓ No request is waiting for you." in panel
    principal_part = panel[panel.index('id="p-pending-principal"') :]
    assert "Waiting for the Principal" in principal_part and f"/approvals/{first.pk}/" in principal_part
    assert f"/approvals/{second.pk}/" in principal_part
    approvals = page_of(client, cast.dsl, "/approvals/")
    yours = approvals[approvals.index('id="group-yours"') : approvals.index('id="group-for-principal"')]
    assert "None of these is yours to decide." in yours
    assert "Decided by the Principal: at this school only the Principal authorises home visits." in approvals
    decision = page_of(client, cast.dsl, f"/approvals/{first.pk}/")
    assert "Decided by the Principal: at this school only the Principal authorises home visits." in decision
    # The Principal sees the same two as theirs.
    dashboard = page_of(client, cast.principal, "/dashboard/")
    panel = dashboard[dashboard.index('id="p-pending"') : dashboard.index('id="p-alerts"')]
    assert f"/approvals/{first.pk}/" in panel and "Waiting for the Principal" not in panel


def test_the_dashboard_splits_requests_by_who_decides(client, cast):
    routine = requested(cast, start=at(9))
    evening = requested(
        cast, lead=cast.outsider, start=at(17, 30), principal_exception_reason="Only time both carers are home."
    )
    own = requested(cast, lead=cast.dsl, second=cast.staff2, start=at(13))
    dashboard = page_of(client, cast.dsl, "/dashboard/")
    panel = dashboard[dashboard.index('id="p-pending"') : dashboard.index('id="p-alerts"')]
    yours = panel[: panel.index('id="p-pending-principal"')]
    principal = panel[panel.index('id="p-pending-principal"') : panel.index('id="p-pending-colleague"')]
    colleague = panel[panel.index('id="p-pending-colleague"') :]
    assert f"/approvals/{routine.pk}/" in yours
    assert f"/approvals/{evening.pk}/" in principal and "the Principal decides" in principal
    assert f"/approvals/{own.pk}/" in colleague
    approvals = page_of(client, cast.dsl, "/approvals/")
    assert "you may still decline it or ask for changes." in approvals  # the evening one: a DSL may turn it down


# --- the Principal's exceptions, judged on the visit as planned ----------------------------------------------


def test_inviting_the_family_into_school_does_not_hide_an_evening_or_long_visit(client, cast, child):
    """The sidestep: ticking "invite into school" let a DSL approve a 19:00, 60-minute request."""
    data = form_data(
        child,
        cast.staff2,
        invite_to_school_instead="on",
        start_time="19:00",
        expected_duration_minutes="60",
        return_time="20:00",
    )
    response = submit(client, cast.staff, data)
    errors = response.context["form"].errors
    assert "ask for the Principal's exception" in errors["start_time"][0]
    assert "Lasts 60 minutes" in errors["expected_duration_minutes"][0]
    reason = {"principal_exception": "on", "principal_exception_reason": "Parents' evening slot."}
    assert submit(client, cast.staff, {**data, **reason}).status_code == 302
    visit = Visit.objects.get()
    client.force_login(cast.dsl)
    assert client.post(f"/approvals/{visit.pk}/", {"decision": "approved"}).status_code == 403
    assert "Only the Principal can approve" in client.get(f"/approvals/{visit.pk}/").content.decode()
    client.force_login(cast.principal)
    client.post(f"/approvals/{visit.pk}/", {"decision": "approved"})
    visit.refresh_from_db()
    assert visit.status == VisitStatus.AUTHORISED
    assert AuthorisationDecision.objects.get().exceptions == ["outside_hours", "over_max_duration"]


def test_a_meeting_in_school_cannot_check_out_to_the_home(client, cast, child, time_machine):
    visit = make_visit(
        lead=cast.staff,
        second=cast.staff2,
        child=child,
        start=at(10),
        invite_to_school_instead=True,
        lead_mobile="020 7946 0999",
    )
    services.visit_submit(visit=visit, actor=cast.staff)
    services.visit_decide(visit=visit, actor=cast.dsl, decision="approved")
    prepare_for_departure(visit, cast.staff)
    time_machine.move_to(at(9, 55), tick=False)
    client.force_login(cast.staff)
    response = client.post(f"/visits/{visit.pk}/field/", {"kind": CheckInKind.CHECKED_OUT}, follow=True)
    assert "asked for as a meeting in school: nobody checks out to the home" in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == VisitStatus.AUTHORISED and visit.checked_out_at is None
    # To visit the home after all, change the request: it goes back for a decision.
    services.visit_update(visit=visit, actor=cast.staff, invite_to_school_instead=False)
    assert visit.status == VisitStatus.REQUESTED
    services.visit_decide(visit=visit, actor=cast.dsl, decision="approved", unfamiliar_pair_reason=PAIR_REASON)
    visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.CHECKED_OUT)
    visit.refresh_from_db()
    assert visit.status == VisitStatus.OUT


# --- a change after the decision goes back for a new one -------------------------------------------------------


@pytest.fixture
def authorised(cast, child):
    visit = make_visit(lead=cast.staff, second=cast.staff2, child=child, start=at(10), expected_return=at(11))
    services.visit_submit(visit=visit, actor=cast.staff)
    services.visit_decide(visit=visit, actor=cast.dsl, decision="approved", unfamiliar_pair_reason=PAIR_REASON)
    return visit


def test_changing_the_children_or_an_external_practitioner_needs_a_new_decision(cast, child, authorised, subtests):
    sibling = ChildFactory(household=child.household)
    pair = [Visitor(role=VisitRole.LEAD, user=cast.staff), Visitor(role=VisitRole.SECOND, user=cast.staff2)]
    for change in [
        {"children": [child, sibling]},
        {
            "people": [
                *pair,
                Visitor(role=VisitRole.EXTERNAL, external_name="Dr Ilse Marrow", external_organisation="EPS"),
            ]
        },
        {"invite_to_school_instead": True},
        {"announced": False, "unannounced_reason": "Welfare check agreed with social care."},
    ]:
        with subtests.test(change=sorted(change)):
            visit = Visit.objects.get(pk=authorised.pk)
            if visit.status != VisitStatus.AUTHORISED:
                services.visit_decide(
                    visit=visit, actor=cast.principal, decision="approved", unfamiliar_pair_reason=PAIR_REASON
                )
            services.visit_update(visit=visit, actor=cast.staff, **change)
            assert visit.status == VisitStatus.REQUESTED
            assert "needs a new decision" in visit.transitions.last().note


def test_another_car_is_not_a_new_decision_but_must_be_insured(cast, authorised):
    services.visit_update(visit=authorised, actor=cast.staff, vehicle="Grey estate EB70 XYZ", driver=cast.staff)
    assert authorised.status == VisitStatus.AUTHORISED
    cast.staff2.profile.business_insurance_confirmed = False
    cast.staff2.profile.save()
    with pytest.raises(Exception, match="business insurance"):
        services.visit_update(visit=authorised, actor=cast.staff, driver=cast.staff2)
    authorised.refresh_from_db()
    assert authorised.driver == cast.staff and authorised.status == VisitStatus.AUTHORISED


def test_the_admin_cannot_change_an_authorised_visit(admin_client, cast, authorised):
    """The admin's visit page is read-only: what the requester changes goes through visit_update."""
    before = Visit.objects.values().get(pk=authorised.pk)
    response = admin_client.post(
        f"/admin/visits/visit/{authorised.pk}/change/",
        {"scheduled_start_0": "2027-03-10", "scheduled_start_1": "19:00", "expected_duration_minutes": "60"},
    )
    assert response.status_code == 403
    assert Visit.objects.values().get(pk=authorised.pk) == before
