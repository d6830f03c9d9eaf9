"""Governors' and trust figures, checked against a hand-built term with known answers."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import ChildFactory, SchoolFactory, bulk_visits
from tests.helpers import fresh_case
from visits.models import (
    AuthorisationDecision,
    FollowUpAction,
    Purpose,
    Visit,
    VisitAlert,
    VisitPerson,
    VisitReport,
    VisitStatus,
    VisitTransition,
)
from visits.reporting.charts import bar_chart
from visits.reporting.figures import Term, recent_terms, term_figures

UTC = datetime.UTC
NOW = datetime.datetime(2027, 1, 15, 12, 0, tzinfo=UTC)  # spring term 2027: autumn 2026 is complete
AUTUMN = Term("autumn", 2026)


def at(month, day, hour=10, minute=0, year=2026):
    return datetime.datetime(year, month, day, hour, minute, tzinfo=UTC)


def visit(
    cast,
    *,
    school=None,
    start,
    status,
    purpose=Purpose.ATTENDANCE,
    requested=None,
    decisions=(),
    returned=None,
    outcome="",
    submitted=None,
    household=None,
):
    """A visit as its history left it: request and return transitions, decisions and the form, at known times."""
    school = school or cast.school
    lead = cast.staff if school == cast.school else cast.other_staff
    child = ChildFactory(household=household) if household else ChildFactory(household__school=school)
    v = Visit.objects.create(
        school=school,
        household=child.household,
        purpose=purpose,
        reason="Test.",
        outcome_wanted="Test.",
        scheduled_start=start,
        expected_duration_minutes=30,
        expected_return=start + datetime.timedelta(minutes=50),
        status=status,
        requested_by=lead,
        submitted_at=requested,
    )
    v.children.add(child)
    VisitPerson.objects.create(visit=v, role="lead", user=lead)
    if requested:
        VisitTransition.objects.create(visit=v, from_status="draft", to_status="requested", actor=lead, at=requested)
    for decision, when in decisions:
        AuthorisationDecision.objects.create(
            visit=v,
            decided_by=cast.dsl,
            decided_as="DSL",
            decided_at=when,
            decision=decision,
            reason="" if decision == "approved" else "Why.",
        )
    if returned:
        VisitTransition.objects.create(visit=v, from_status="left", to_status="returned", actor=lead, at=returned)
        VisitReport.objects.create(
            visit=v,
            due_at=returned + datetime.timedelta(hours=24),
            outcome=outcome,
            submitted_at=submitted,
            submitted_by=lead if submitted else None,
        )
    return v


def action(cast, *, due, completed=None):
    return FollowUpAction.objects.create(
        school=cast.school,
        description="Ring the family",
        owner=cast.staff,
        due_on=due,
        created_by=cast.dsl,
        completed_at=completed,
        completed_by=cast.staff if completed else None,
        completion_outcome="Done." if completed else "",
    )


@pytest.fixture
def term_data(cast):
    """Autumn 2026 at Oakfield: four visits took place, one family declined beforehand, one draft."""
    v1 = visit(
        cast,
        start=at(10, 5),
        status=VisitStatus.REVIEWED,
        requested=at(10, 1, 9),
        decisions=[("approved", at(10, 1, 13))],
        returned=at(10, 5, 11),
        outcome="seen",
        submitted=at(10, 5, 12),
    )  # decided in 4 h; form on time
    v2 = visit(
        cast,
        start=at(11, 10),
        status=VisitStatus.REPORTED,
        purpose=Purpose.SEND_SUPPORT,
        requested=at(11, 2, 9),
        decisions=[("changes_requested", at(11, 3, 9)), ("approved", at(11, 10, 11))],
        returned=at(11, 10, 11),
        outcome="no_access",
        submitted=at(11, 11, 17),
    )  # 24 h; approved late
    v3 = visit(
        cast,
        start=at(12, 1),
        status=VisitStatus.RETURNED,
        requested=at(11, 20, 9),
        decisions=[("approved", at(11, 20, 11))],
        returned=at(12, 1, 11),
    )  # 2 h; form never written
    visit(cast, start=at(10, 20), status=VisitStatus.FAMILY_DECLINED, requested=at(10, 15, 9))  # no decision
    v5 = visit(
        cast,
        start=at(10, 21),
        status=VisitStatus.REPORTED,
        requested=at(10, 16, 9),
        decisions=[("approved", at(10, 16, 15))],
        returned=at(10, 21, 11),
        outcome="declined",
        submitted=at(10, 21, 15),
    )  # 6 h; declined at the door, form on time
    visit(cast, start=at(11, 1), status=VisitStatus.DRAFT)  # never requested: not counted anywhere
    visit(
        cast,
        start=at(6, 10),
        status=VisitStatus.REVIEWED,
        requested=at(6, 1),
        decisions=[("approved", at(6, 1))],
        returned=at(6, 10, 11),
        outcome="seen",
        submitted=at(6, 10, 12),
    )  # summer term
    visit(
        cast,
        school=cast.other_school,
        start=at(10, 7),
        status=VisitStatus.REPORTED,
        requested=at(10, 6, 9),
        decisions=[("approved", at(10, 6, 10))],
        returned=at(10, 7, 11),
        outcome="seen",
        submitted=at(10, 7, 12),
    )
    action(cast, due=datetime.date(2026, 10, 10), completed=at(10, 9))  # on time
    action(cast, due=datetime.date(2026, 10, 15), completed=at(10, 20))  # late
    action(cast, due=datetime.date(2026, 12, 20))  # never done: late
    action(cast, due=datetime.date(2026, 12, 30), completed=at(12, 30, 23, 30))  # 23:30 GMT on the day: on time
    action(cast, due=datetime.date(2026, 8, 1), completed=at(9, 1))  # August: in no term
    # Overdue alerts as the sweep stores them: two resolved differently, one still open, one in summer, one duress.
    alert(v1, "overdue:0:0", raised=at(10, 5, 11), outcome="rang_all_fine")
    alert(v1, "overdue:1:0", raised=at(10, 5, 12), outcome="rang_no_answer")
    alert(v2, "overdue:0:0", raised=at(11, 10, 12))
    alert(v2, "duress:1", kind="duress", raised=at(11, 10, 12), outcome="safe_police")  # the police confirmed them safe
    alert(v3, "overdue:0:1", raised=at(6, 10, 12), outcome="rang_all_fine")  # summer term: not counted
    return {"v1": v1, "v2": v2, "v3": v3, "v5": v5}


def alert(visit, key, *, raised, outcome="", kind="overdue"):
    return VisitAlert.objects.create(
        visit=visit,
        key=key,
        kind=kind,
        due_at=raised,
        raised_at=raised,
        outcome=outcome,
        acknowledged_at=raised if outcome else None,
        police_reference="CAD 123" if outcome == "police_called" else "",
    )


def test_terms_are_the_simplified_english_terms():
    assert (AUTUMN.first_day, AUTUMN.last_day) == (datetime.date(2026, 9, 1), datetime.date(2026, 12, 31))
    spring = Term("spring", 2027)
    assert (spring.first_day, spring.last_day) == (datetime.date(2027, 1, 1), datetime.date(2027, 3, 31))
    assert Term("summer", 2027).last_day == datetime.date(2027, 7, 31)
    assert Term.containing(datetime.date(2026, 8, 15)) == Term("summer", 2026)
    assert AUTUMN.previous() == Term("summer", 2026) and spring.previous() == AUTUMN
    assert [t.slug for t in recent_terms(datetime.date(2027, 1, 15), 3)] == [
        "2027-spring",
        "2026-autumn",
        "2026-summer",
    ]
    assert Term.from_slug("2026-winter") is None and Term.from_slug("x") is None


def test_every_figure_for_a_known_term(cast, term_data):
    oak, river = term_figures([cast.school, cast.other_school], AUTUMN, now=NOW)
    assert oak.visits == 4
    assert oak.by_purpose == {"Attendance": 3, "SEND support": 1}
    assert oak.by_outcome == {
        "Declined by the family": 1,
        "Form not written yet": 1,
        "No access: letter posted": 1,
        "Seen: the visit took place": 1,
    }
    assert (oak.reports_on_time.part, oak.reports_on_time.whole, oak.reports_on_time.percent) == (2, 4, 50.0)
    assert (oak.authorised_before.part, oak.authorised_before.whole, oak.authorised_before.percent) == (3, 4, 75.0)
    assert sorted(oak.decision_hours) == [2, 4, 6, 24] and oak.median_decision_hours == 5.0
    assert (oak.actions_on_time.part, oak.actions_on_time.whole) == (2, 4)
    assert oak.families_declined == 2
    assert oak.overdue_alerts == {"Rang: all fine, new return time": 1, "Rang: no answer": 1, "Still open": 1}
    assert oak.overdue_alerts_raised == 3 and river.overdue_alerts == {}
    assert river.visits == 1 and river.by_purpose == {"Attendance": 1} and river.reports_on_time.percent == 100.0


def test_a_form_still_within_its_time_is_not_counted_yet(cast, term_data):
    # On 1 Dec at 12:00 the v3 form (due 2 Dec 11:00) is neither on time nor late.
    (oak,) = term_figures([cast.school], AUTUMN, now=at(12, 1, 12))
    assert (oak.reports_on_time.part, oak.reports_on_time.whole) == (2, 3)
    # The action due 20 Dec is open and not due yet: left out. (The one due 30 Dec is done, so it counts.)
    assert (oak.actions_on_time.part, oak.actions_on_time.whole) == (2, 3)


def test_an_empty_term_has_no_figures_rather_than_zero_percent(cast, term_data):
    (oak,) = term_figures([cast.school], Term("spring", 2026), now=NOW)
    assert oak.visits == 0 and oak.by_purpose == {} and oak.by_outcome == {}
    assert oak.reports_on_time.percent is None and oak.authorised_before.percent is None
    assert oak.actions_on_time.percent is None and oak.median_decision_hours is None
    assert oak.families_declined == 0


def test_summer_term_counts_only_its_own_visit(cast, term_data):
    (oak,) = term_figures([cast.school], Term("summer", 2026), now=NOW)
    assert oak.visits == 1 and oak.reports_on_time.percent == 100.0


def test_who_may_see_the_figures(client, cast, subtests):
    for who, expected in [
        ("staff", 403),
        ("staff2", 403),
        ("outsider", 403),
        ("office", 403),
        ("other_staff", 403),
        ("dsl", 200),
        ("principal", 200),
        ("other_dsl", 200),
        ("trust_admin", 200),
    ]:
        for url in ["figures", "figures_print"]:
            with subtests.test(who=who, expected=expected, url=url), fresh_case(client):
                client.force_login(getattr(cast, who))
                assert client.get(reverse(url)).status_code == expected


def _page(client, user, term="2026-autumn", url="figures"):
    with time_machine.travel(NOW, tick=False):
        client.force_login(user)  # inside the travel: a session from "before" would have expired
        return client.get(reverse(url), {"term": term})


def test_school_users_see_their_school_and_the_trust_sees_both(client, cast, term_data):
    dsl_page = _page(client, cast.dsl)
    assert [f.school for f in dsl_page.context["figures"]] == [cast.school]
    assert cast.other_school.name not in dsl_page.content.decode()
    other = _page(client, cast.other_dsl)
    assert [f.school for f in other.context["figures"]] == [cast.other_school]
    trust = _page(client, cast.trust_admin)
    assert [f.school for f in trust.context["figures"]] == [cast.school, cast.other_school]


def test_the_page_shows_tables_and_charts(client, cast, term_data):
    page = _page(client, cast.principal).content.decode()
    assert "Autumn term 2026" in page and "1 September 2026 to 31 December 2026" in page
    assert "autumn is 1 September to 31 December" in page  # the simplification is said on the page
    assert page.count("<svg") >= 6
    assert "5.0 hours" in page and "50.0% (2)" in page and "75.0% (3)" in page
    assert "Rang: no answer: 1" in page and "Still open: 1" in page


def test_an_empty_term_says_so(client, cast, term_data):
    page = _page(client, cast.dsl, term="2026-spring").content.decode()
    assert "No visits took place this term." in page and "no figure" in page


def test_an_unknown_term_is_explained_beside_the_field(client, cast):
    response = _page(client, cast.dsl, term="2026-winter")
    assert response.status_code == 200 and "Choose a term from the list." in response.content.decode()
    assert response.context["term"] == Term("spring", 2027)


def test_the_printable_report(client, cast, term_data):
    page = _page(client, cast.dsl, url="figures_print").content.decode()
    assert "termly report to governors" in page and "Autumn term 2026" in page and "<svg" in page
    assert 'aria-label="Main"' not in page  # no navigation on paper


def test_query_count_does_not_grow_with_the_data(client, cast, term_data):
    def count():
        with time_machine.travel(NOW, tick=False):
            client.force_login(cast.trust_admin)
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(reverse("figures"), {"term": "2026-autumn"}).status_code == 200
        return len(ctx.captured_queries)

    small = count()
    bulk_visits(lead=cast.staff, n=60, status=VisitStatus.REPORTED, start=at(10, 12), step_minutes=60)
    bulk_visits(lead=cast.other_staff, n=60, status=VisitStatus.RETURNED, start=at(11, 12), step_minutes=60)
    assert count() == small
    # Nor with the trust's schools: their policies are read together.
    for n in range(3):
        SchoolFactory(trust=cast.school.trust, name=f"Another School {n}")
    assert count() == small


def test_chart_labels_cannot_inject_markup():
    svg = bar_chart([("<script>alert(1)</script>", 3), ("Empty", None)], title="A & B", unit="%")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "A &amp; B" in svg
    assert ">3%</text>" in svg and "no figure" in svg


def test_a_settled_terms_figures_are_kept_until_a_record_of_the_term_changes(cast, term_data):
    schools = [cast.school, cast.other_school]
    first = term_figures(schools, AUTUMN, now=NOW)
    with CaptureQueriesContext(connection) as kept:
        again = term_figures(schools, AUTUMN, now=NOW)
    assert not any("MIN(" in q["sql"] for q in kept.captured_queries)  # the term's visits were not read again
    assert [fig.school for fig in again] == schools
    assert (again[0].visits, again[0].actions_on_time.whole) == (first[0].visits, first[0].actions_on_time.whole)
    action(cast, due=datetime.date(2026, 12, 1), completed=datetime.datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    with CaptureQueriesContext(connection) as changed:
        oak, river = term_figures(schools, AUTUMN, now=NOW)
    assert (oak.actions_on_time.part, oak.actions_on_time.whole) == (
        first[0].actions_on_time.part + 1,
        first[0].actions_on_time.whole + 1,
    )
    # Only Oakfield's records changed: Riverside's figures came from the cache.
    worked_out = [q["sql"] for q in changed.captured_queries if "MIN(" in q["sql"]]
    assert len(worked_out) == 1 and f'"school_id" IN ({cast.school.pk})' in worked_out[0]
    assert river.visits == first[1].visits


def test_the_current_terms_figures_are_worked_out_every_time(cast, term_data):
    during = datetime.datetime(2026, 12, 20, 12, 0, tzinfo=UTC)  # autumn 2026 not yet settled
    term_figures([cast.school], AUTUMN, now=during)
    with CaptureQueriesContext(connection) as again:
        term_figures([cast.school], AUTUMN, now=during)
    assert any("MIN(" in q["sql"] for q in again.captured_queries)
