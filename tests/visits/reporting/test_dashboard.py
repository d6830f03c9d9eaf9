"""The DSL and Principal dashboard: who may open it, what each panel shows, bounded queries."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.selectors import schools_of
from safeguarding.models import Concern, RiskAssessment
from tests.factories import ChildFactory, HouseholdFactory, bulk_visits, make_visit, walk_visit
from tests.helpers import fresh_case
from visits.models import FollowUpAction, Visit, VisitAlert, VisitStatus
from visits.reporting.selectors import open_alerts_for

# A Tuesday in term, 10:00 in London (GMT in November).
NOW = datetime.datetime(2026, 11, 17, 10, 0, tzinfo=datetime.UTC)


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def test_who_may_open_the_dashboard(client, cast, subtests):
    for who, expected in [
        ("staff", 403),
        ("staff2", 403),
        ("outsider", 403),
        ("office", 403),
        ("trust_admin", 403),
        ("dsl", 200),
        ("principal", 200),
        ("other_dsl", 200),
        ("other_staff", 403),
    ]:
        with subtests.test(who=who, expected=expected), fresh_case(client):
            login(client, getattr(cast, who))
            assert client.get(reverse("dashboard")).status_code == expected


def test_anonymous_is_sent_to_log_in(client, db):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def _today(lead, household_name, status, hour=11):
    child = ChildFactory(household__school=schools_of(lead).first(), household__name=household_name)
    start = NOW.replace(hour=hour)
    visit = make_visit(lead=lead, child=child, start=start)
    walk_visit(visit, lead, status)
    return visit


def test_panels_show_what_waits_and_nothing_from_the_other_school(client, cast, frozen):
    # Requests: the older one first.
    with time_machine.travel(NOW - datetime.timedelta(days=2), tick=False):
        older = make_visit(
            lead=cast.staff, child=ChildFactory(household__school=cast.school, household__name="Aldergrove family")
        )
        walk_visit(older, cast.staff, VisitStatus.REQUESTED)
    newer = make_visit(
        lead=cast.staff2, child=ChildFactory(household__school=cast.school, household__name="Birchley family")
    )
    walk_visit(newer, cast.staff2, VisitStatus.REQUESTED)
    _today(cast.staff, "Cedarholt family", VisitStatus.ON_SITE, hour=9)
    _today(cast.staff2, "Dunmore family", VisitStatus.AUTHORISED, hour=14)
    # The other school's visit, out now, must never show.
    _today(cast.other_staff, "Elsewhere family", VisitStatus.OUT, hour=9)

    child = ChildFactory(household__school=cast.school, household__name="Fernside family")
    Concern.objects.create(
        school=cast.school,
        child=child,
        details="Bruise seen.",
        raised_by=cast.staff,
        raised_at=NOW - datetime.timedelta(hours=3),
    )
    other_child = ChildFactory(household__school=cast.other_school)
    Concern.objects.create(
        school=cast.other_school,
        child=other_child,
        details="Other school concern.",
        raised_by=cast.other_staff,
        raised_at=NOW,
    )
    FollowUpAction.objects.create(
        school=cast.school,
        child=child,
        description="Ring the GP surgery",
        owner=cast.staff,
        due_on=NOW.date() - datetime.timedelta(days=1),
        created_by=cast.dsl,
    )
    FollowUpAction.objects.create(
        school=cast.school,
        child=child,
        description="Post the letter",
        owner=cast.staff,
        due_on=NOW.date() + datetime.timedelta(days=1),
        created_by=cast.dsl,
    )
    RiskAssessment.objects.create(
        household=HouseholdFactory(school=cast.school, name="Gorsebrook family"),
        assessed_on=datetime.date(2025, 11, 1),
        review_on=datetime.date(2026, 11, 1),
        created_by=cast.dsl,
    )
    RiskAssessment.objects.create(
        household=HouseholdFactory(school=cast.school, name="Hollins family"),
        assessed_on=datetime.date(2026, 10, 1),
        review_on=datetime.date(2027, 10, 1),
        created_by=cast.dsl,
    )
    cast.staff.profile.training_expires_on = NOW.date() + datetime.timedelta(days=10)
    cast.staff.profile.save()

    page = login(client, cast.dsl).get(reverse("dashboard")).content.decode()

    assert page.index("Aldergrove family") < page.index("Birchley family")  # oldest request first
    assert "Cedarholt family" in page and "Dunmore family" in page  # today's visits
    out_panel = page[page.index('id="p-out"') : page.index('id="p-reports"')]
    assert "Cedarholt family" in out_panel and "Dunmore family" not in out_panel
    assert "Elsewhere family" not in page and "Other school concern" not in page
    assert str(child) in page[page.index('id="p-concerns"') :]  # the open concern
    assert "Ring the GP surgery" in page and "Post the letter" not in page
    assert "Gorsebrook family" in page and "Hollins family" not in page
    training_panel = page[page.index('id="p-training"') :]
    assert str(cast.staff.profile) in training_panel and "Expires 27 Nov 2026" in training_panel
    assert str(cast.staff2.profile) not in training_panel


def test_reports_overdue_and_awaiting_review(client, cast, frozen):
    late = bulk_visits(lead=cast.staff, n=1, status=VisitStatus.RETURNED, start=NOW - datetime.timedelta(days=3))[0]
    fresh = bulk_visits(lead=cast.staff2, n=1, status=VisitStatus.RETURNED, start=NOW - datetime.timedelta(hours=2))[0]
    reported = bulk_visits(lead=cast.staff, n=1, status=VisitStatus.REPORTED, start=NOW - datetime.timedelta(days=1))[0]
    page = login(client, cast.principal).get(reverse("dashboard")).content.decode()
    reports = page[page.index('id="p-reports"') : page.index('id="p-review"')]
    review = page[page.index('id="p-review"') : page.index('id="p-actions"')]
    assert late.household.name in reports and fresh.household.name not in reports
    assert "1 still within time" not in reports  # shown only when nothing is overdue
    assert reported.household.name in review


def test_live_alerts_panel_shows_open_alerts_at_the_school_only(client, cast, frozen):
    assert open_alerts_for(user=cast.dsl) == []
    page = login(client, cast.dsl).get(reverse("dashboard")).content.decode()
    assert "No open alerts" in page
    mine = _today(cast.staff, "Quayle family", VisitStatus.LEFT)
    theirs = _today(cast.other_staff, "Faraway family", VisitStatus.LEFT)
    done = _today(cast.staff2, "Settled family", VisitStatus.LEFT)
    for visit in (mine, theirs, done):
        VisitAlert.objects.create(
            visit=visit,
            key="overdue:0:0",
            kind="overdue",
            action="ring_lead",
            due_at=NOW,
            raised_at=NOW,
            acknowledged_at=NOW if visit is done else None,
            outcome="rang_all_fine" if visit is done else "",
        )
    assert [a.visit for a in open_alerts_for(user=cast.dsl)] == [mine]
    page = client.get(reverse("dashboard")).content.decode()
    assert "Overdue: Office rings the lead&#x27;s mobile" in page and "Quayle family" in page
    assert "Faraway family" not in page and "Settled family" not in page.split("p-alerts")[1].split("</section>")[0]


def _data(cast, n, *, hour=9, days_ahead=2):
    """n visits in each state the dashboard reads, plus concerns and actions: the page must not care. A second
    call takes another hour and day, so its requests do not clash with the first call's bookings."""
    start_today = NOW.replace(hour=hour)
    bulk_visits(lead=cast.staff, n=n, status=VisitStatus.REQUESTED, start=NOW + datetime.timedelta(days=days_ahead))
    bulk_visits(lead=cast.staff, n=n, status=VisitStatus.AUTHORISED, start=start_today, step_minutes=1)
    # On site now: they checked out on the planned day (the second call's, the day before), never ahead of it.
    on_site_start = NOW.replace(hour=9) - datetime.timedelta(days=days_ahead - 2)
    bulk_visits(lead=cast.staff2, n=n, status=VisitStatus.ON_SITE, start=on_site_start)
    bulk_visits(lead=cast.staff, n=n, status=VisitStatus.RETURNED, start=NOW - datetime.timedelta(days=3))
    bulk_visits(lead=cast.staff2, n=n, status=VisitStatus.REPORTED, start=NOW - datetime.timedelta(days=1))
    child = ChildFactory(household__school=cast.school)
    for i in range(n):
        Concern.objects.create(
            school=cast.school,
            child=child,
            details="Seen.",
            raised_by=cast.staff,
            raised_at=NOW - datetime.timedelta(hours=i),
        )
        FollowUpAction.objects.create(
            school=cast.school,
            child=child,
            description=f"Action {i}",
            owner=cast.staff,
            due_on=NOW.date() - datetime.timedelta(days=1),
            created_by=cast.dsl,
        )
        on_site = Visit.objects.filter(status=VisitStatus.ON_SITE).order_by("-pk")[i]
        VisitAlert.objects.create(visit=on_site, key="on_site", kind="on_site_too_long", due_at=NOW, raised_at=NOW)
        RiskAssessment.objects.create(
            household=HouseholdFactory(school=cast.school),
            assessed_on=datetime.date(2025, 1, 1),
            review_on=datetime.date(2026, 1, 1),
            created_by=cast.dsl,
        )


def _count_queries(client, user):
    client.force_login(user)
    client.get(reverse("dashboard"))  # warm the session
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_the_data(client, cast, frozen, django_user_model):
    _data(cast, 5)
    small = _count_queries(client, cast.dsl)
    _data(cast, 95, hour=13, days_ahead=3)
    large = _count_queries(client, cast.dsl)
    assert small == large, f"{small} queries with 5 of each, {large} with 100"
    assert large < 45
