"""Authorisation: the approvals queue, the decision page, who may decide what, decisions as permanent records,
the requester's email, the timeline, a permission matrix and query counts that do not grow with rows."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import AuditEntry, Authorisers, HomeVisitPolicy
from core.roles import Role
from tests.factories import PAIR_REASON, bulk_visits, make_member, make_visit, sign_in
from tests.helpers import fresh_case
from visits.models import AuthorisationDecision, Visit, VisitStatus
from visits.requests import services
from visits.requests.views import LIST_PAGE

DAY = datetime.date(2027, 3, 10)
NOW = datetime.datetime(2027, 3, 1, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(NOW, tick=False)


def at(hour, minute=0, day=DAY):
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=timezone.get_current_timezone())


def requested(cast, *, lead=None, second=None, start=None, minutes=30, **fields):
    lead = lead or cast.staff
    visit = make_visit(
        lead=lead,
        second=second or cast.staff2,
        start=start or at(10),
        minutes=minutes,
        expected_return=(start or at(10)) + datetime.timedelta(minutes=minutes + 20),
        **fields,
    )
    services.visit_submit(visit=visit, actor=lead)
    return visit


@pytest.fixture
def visit(cast):
    return requested(cast)


def decide(client, user, visit, decision="approved", reason="", conditions="", pair_reason=PAIR_REASON):
    client.force_login(user)
    data = {"decision": decision, "reason": reason, "conditions": conditions, "unfamiliar_pair_reason": pair_reason}
    return client.post(f"/approvals/{visit.pk}/", data)


# --- the queue -------------------------------------------------------------------------------------------------


def test_pending_requests_are_listed_oldest_first_with_their_age(client, cast, time_machine):
    older = requested(cast, start=at(10))
    time_machine.move_to(NOW + datetime.timedelta(hours=26, minutes=5), tick=False)
    newer = requested(cast, start=at(14), lead=cast.outsider, second=make_member("peer", cast.school, Role.STAFF))
    time_machine.move_to(NOW + datetime.timedelta(hours=27), tick=False)
    make_visit(lead=cast.staff, second=cast.staff2, start=at(12))  # a draft is not waiting for anyone
    foreign = requested(cast, lead=cast.other_staff, second=make_member("riverpeer", cast.other_school, Role.STAFF))
    client.force_login(cast.dsl)
    page = client.get("/approvals/").content.decode()
    assert page.index(f"/approvals/{older.pk}/") < page.index(f"/approvals/{newer.pk}/")
    assert f"/approvals/{foreign.pk}/" not in page
    assert len(re.findall(r'href="/approvals/\d+/"', page)) == 2
    assert "waiting 1 day 3 hours" in page and "waiting 55 minutes" in page


def test_the_queue_says_which_requests_are_not_yours_to_decide(client, cast):
    own = requested(cast, lead=cast.dsl, second=cast.staff2)
    client.force_login(cast.dsl)
    assert "Not yours to decide: You cannot decide a visit you requested" in client.get("/approvals/").content.decode()
    client.force_login(cast.principal)
    assert "Not yours to decide" not in client.get("/approvals/").content.decode()
    assert own.status == VisitStatus.REQUESTED


def test_an_empty_queue_says_so(client, cast):
    client.force_login(cast.principal)
    assert "No requests are waiting for a decision." in client.get("/approvals/").content.decode()


# --- deciding --------------------------------------------------------------------------------------------------


def test_a_dsl_approves_with_conditions_and_the_requester_is_told(
    client, cast, visit, mailoutbox, django_capture_on_commit_callbacks
):
    get_user_model().objects.update(email=Concat(F("username"), Value("@example.org")))
    with django_capture_on_commit_callbacks(execute=True):
        response = decide(client, cast.dsl, visit, conditions="Ring the office on arrival.")
    assert response.url == "/approvals/"
    visit.refresh_from_db()
    assert visit.status == VisitStatus.AUTHORISED
    record = AuthorisationDecision.objects.get()
    assert (record.decided_by, record.decided_as, record.decision, record.decided_at) == (
        cast.dsl,
        Role.DSL,
        "approved",
        NOW,
    )
    assert record.conditions == "Ring the office on arrival."
    [mail] = mailoutbox
    assert mail.to == ["staff@example.org"] and mail.subject == "Your home visit request has been decided"
    assert visit.reason not in mail.body and f"/visits/{visit.pk}/" in mail.body
    client.force_login(cast.staff)
    page = client.get(f"/visits/{visit.pk}/").content.decode()
    assert "Status: Authorised" in page and "Ring the office on arrival." in page


def test_decline_and_changes_need_a_reason(client, cast, visit, subtests):
    for decision, status, message in [
        ("declined", VisitStatus.DECLINED, "Give the reason for declining."),
        ("changes_requested", VisitStatus.CHANGES_REQUESTED, "Say what needs to change."),
    ]:
        with subtests.test(decision=decision, status=status, message=message), fresh_case(client):
            response = decide(client, cast.dsl, visit, decision)
            assert response.status_code == 200 and message in response.content.decode()
            assert AuthorisationDecision.objects.count() == 0
            decide(client, cast.dsl, visit, decision, reason="Invite the family into school first.")
            visit.refresh_from_db()
            assert visit.status == status
            assert AuthorisationDecision.objects.get().reason == "Invite the family into school first."


def test_the_visit_page_leads_a_dsl_to_the_decision(client, cast, visit):
    client.force_login(cast.dsl)
    assert f'href="/approvals/{visit.pk}/"' in client.get(f"/visits/{visit.pk}/").content.decode()
    client.force_login(cast.staff)
    assert f'href="/approvals/{visit.pk}/"' not in client.get(f"/visits/{visit.pk}/").content.decode()


def test_a_request_is_decided_once(client, cast, visit):
    decide(client, cast.dsl, visit)
    response = decide(client, cast.principal, visit, "declined", reason="Too late")
    assert response.status_code == 200 and "there is no request to decide" in response.content.decode()
    assert AuthorisationDecision.objects.count() == 1


def test_decisions_are_permanent_records(cast, visit):
    record = services.visit_decide(visit=visit, actor=cast.dsl, decision="approved", unfamiliar_pair_reason=PAIR_REASON)
    record.conditions = "Something else"
    with pytest.raises(ValidationError):
        record.save()
    with pytest.raises(ValidationError):
        record.delete()
    assert AuthorisationDecision.objects.get().conditions == ""
    assert AuditEntry.objects.filter(action="visit.decide", actor=cast.dsl).exists()


def test_approval_checks_training_again(client, cast, visit):
    # Training lapsed while the request waited.
    cast.staff2.profile.training_expires_on = DAY - datetime.timedelta(days=1)
    cast.staff2.profile.save()
    client.force_login(cast.dsl)
    assert "No longer within policy" in client.get(f"/approvals/{visit.pk}/").content.decode()
    response = decide(client, cast.dsl, visit)
    assert "training is missing or expired" in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == VisitStatus.REQUESTED


# --- who may decide --------------------------------------------------------------------------------------------

# POSTing an approval of a routine request made by staff with staff2: who may, and what everyone else gets.
APPROVE = {
    "staff": 403,
    "staff2": 403,
    "outsider": 403,
    "office": 403,
    "trust_admin": 403,
    "other_staff": 403,
    "dsl": 302,
    "principal": 302,
    "other_dsl": 404,  # another school's visit does not exist for them
}


def test_each_decision_by_every_role(client, cast, visit, subtests):
    for decision, to_status in [
        ("approved", VisitStatus.AUTHORISED),
        ("declined", VisitStatus.DECLINED),
        ("changes_requested", VisitStatus.CHANGES_REQUESTED),
    ]:
        for who, status in APPROVE.items():
            with subtests.test(decision=decision, to_status=to_status, who=who, status=status), fresh_case(client):
                assert decide(client, getattr(cast, who), visit, decision, reason="Reason given").status_code == status
                visit.refresh_from_db()
                assert visit.status == (to_status if status == 302 else VisitStatus.REQUESTED)
                assert AuthorisationDecision.objects.count() == (1 if status == 302 else 0)


def test_nobody_decides_a_visit_they_requested_or_are_on(client, cast, subtests):
    for decision in ["approved", "declined", "changes_requested"]:
        for relation in ["requester", "second"]:
            with subtests.test(decision=decision, relation=relation), fresh_case(client):
                if relation == "requester":
                    visit = requested(cast, lead=cast.dsl, second=cast.staff2)
                else:
                    visit = requested(cast, lead=cast.staff, second=cast.dsl)
                assert decide(client, cast.dsl, visit, decision, reason="x").status_code == 403
                client.force_login(cast.dsl)
                assert (
                    "You cannot decide a visit you requested or are part of."
                    in client.get(f"/approvals/{visit.pk}/").content.decode()
                )
                assert decide(client, cast.principal, visit, decision, reason="x").status_code == 302


def test_principal_only_exceptions(client, cast, subtests):
    for fields, label in [
        ({"start": at(17, 30)}, "Starts at 17:30"),
        ({"minutes": 45}, "Lasts 45 minutes"),
        ({"announced": False, "unannounced_reason": "Welfare check agreed with social care."}, "Unannounced"),
    ]:
        with subtests.test(fields=fields, label=label), fresh_case(client):
            visit = requested(cast, principal_exception_reason="Only time both carers are home.", **fields)
            client.force_login(cast.dsl)
            page = client.get(f"/approvals/{visit.pk}/").content.decode()
            assert label in page and "Only the Principal can approve" in page
            assert decide(client, cast.dsl, visit).status_code == 403
            decide(client, cast.principal, visit)
            visit.refresh_from_db()
            assert visit.status == VisitStatus.AUTHORISED
            assert AuthorisationDecision.objects.get().exceptions


def test_a_dsl_may_still_decline_a_principal_only_request(client, cast):
    visit = requested(cast, start=at(17, 30), principal_exception_reason="Only time both carers are home.")
    decide(client, cast.dsl, visit, "declined", reason="No evening visits: invite them in.")
    visit.refresh_from_db()
    assert visit.status == VisitStatus.DECLINED


def test_unannounced_is_routine_where_the_policy_says_so(client, cast):
    HomeVisitPolicy.objects.create(trust=cast.trust, school=cast.school, unannounced_needs_principal=False)
    visit = requested(cast, announced=False, unannounced_reason="Attendance: no contact for two weeks.")
    assert decide(client, cast.dsl, visit).status_code == 302


def test_at_a_principal_only_school_the_dsl_cannot_decide(client, cast, visit):
    HomeVisitPolicy.objects.create(trust=cast.trust, school=cast.school, authorisers=Authorisers.PRINCIPAL_ONLY)
    assert decide(client, cast.dsl, visit, "declined", reason="x").status_code == 403
    assert decide(client, cast.principal, visit).status_code == 302


def test_principal_only_requests_are_emailed_to_the_principal_alone(
    cast, mailoutbox, django_capture_on_commit_callbacks
):
    get_user_model().objects.update(email=Concat(F("username"), Value("@example.org")))
    with django_capture_on_commit_callbacks(execute=True):
        requested(cast, minutes=45, principal_exception_reason="Interpreter needs longer.")
    assert [m.to for m in mailoutbox] == [["principal@example.org"]]


def test_service_refuses_a_decision_from_the_wrong_role(cast, visit):
    for who in [cast.staff2, cast.office, cast.other_dsl]:
        with pytest.raises(PermissionDenied):
            services.visit_decide(visit=visit, actor=who, decision="approved")


# --- the timeline ----------------------------------------------------------------------------------------------


def test_every_transition_is_on_the_timeline(client, cast, visit, time_machine):
    time_machine.move_to(NOW + datetime.timedelta(hours=2), tick=False)
    decide(client, cast.dsl, visit, "changes_requested", reason="Take a colleague who knows the family.")
    steps = list(visit.transitions.values_list("from_status", "to_status", "actor__username"))
    assert steps == [("", "draft", "staff"), ("draft", "requested", "staff"), ("requested", "changes_requested", "dsl")]
    client.force_login(cast.staff)
    page = client.get(f"/visits/{visit.pk}/").content.decode()
    timeline = page[page.index('id="timeline"') :]
    assert "Changes requested" in timeline and "1 Mar 2027 11:00" in timeline
    assert "Take a colleague who knows the family." in timeline


# --- permission matrix: every request and decision page by every role and school --------------------------------------

VIEWS = [
    "/approvals/",
    "/approvals/{pk}/",
    "/visits/new/",
    "/visits/{pk}/",
    "/visits/{pk}/edit/",
    "/visits/children/search/?q=a",
]
MATRIX = {
    #              approvals decide  new  detail edit search
    "staff": (403, 403, 200, 200, 200, 200),  # the requester and lead
    "staff2": (403, 403, 200, 200, 403, 200),  # the second visitor
    "outsider": (403, 403, 200, 404, 404, 200),
    "dsl": (200, 200, 200, 200, 403, 200),
    "principal": (200, 200, 200, 200, 403, 200),
    "office": (403, 403, 403, 404, 404, 403),
    "trust_admin": (403, 403, 403, 404, 404, 403),
    "other_dsl": (200, 404, 200, 404, 404, 200),
    "other_staff": (403, 403, 200, 404, 404, 200),
}


def test_permission_matrix(client, cast, visit, subtests):
    for who, codes in MATRIX.items():
        with subtests.test(who=who, codes=codes), fresh_case(client):
            client.force_login(getattr(cast, who))
            got = tuple(client.get(url.format(pk=visit.pk)).status_code for url in VIEWS)
            assert got == codes


def test_anonymous_users_are_sent_to_log_in(client, visit):
    for url in VIEWS:
        response = client.get(url.format(pk=visit.pk))
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_submit_by_every_relation(client, cast, subtests):
    for who, status in [("staff", 302), ("staff2", 403), ("dsl", 403), ("outsider", 404), ("other_dsl", 404)]:
        with subtests.test(who=who, status=status), fresh_case(client):
            draft = make_visit(lead=cast.staff, second=cast.staff2, start=at(10))
            client.force_login(getattr(cast, who))
            assert client.post(f"/visits/{draft.pk}/submit/").status_code == status
            draft.refresh_from_db()
            assert (draft.status == VisitStatus.REQUESTED) == (status == 302)


# --- query counts ----------------------------------------------------------------------------------------------


def _make_requests(cast, n, *, day):
    """n requests awaiting a decision, one made through the verbs and copied (bulk_visits): the list pages are
    what is measured."""
    bulk_visits(lead=cast.staff, n=n, status=VisitStatus.REQUESTED, start=day, step_minutes=1)


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response


def test_list_queries_do_not_grow_with_visits(client, cast, subtests):
    for url, who in [("/approvals/", "dsl"), ("/visits/", "dsl"), ("/visits/", "staff")]:
        with subtests.test(url=url, who=who), fresh_case(client):
            sign_in(client, getattr(cast, who))
            _make_requests(cast, 5, day=at(10))
            few, _ = _count(client, url)
            _make_requests(cast, 195, day=at(10) + datetime.timedelta(days=1))
            many, response = _count(client, url)
            link = "/approvals/" if url == "/approvals/" else "/visits/"
            shown = {
                pk
                for pk in Visit.objects.values_list("pk", flat=True)
                if f'href="{link}{pk}/"' in response.content.decode()
            }
            # Every row the page holds is rendered, so the count covers them all: the whole queue, and the visit
            # list's first page (older visits are a link away).
            assert len(shown) == (200 if url == "/approvals/" else LIST_PAGE)
            print(f"{url} as {who}: {few} queries for 5 visits, {many} for 200")
            assert many == few, f"{url}: {few} queries for 5 visits, {many} for 200"
