"""At the door, through the field page as the pair use it: waiting for a colleague, a parent running late, nobody
answering, a child alone or in danger; each on the timeline and each reaching the right people at once."""

import datetime
import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import HomeVisitPolicy
from tests.factories import ChildFactory, HouseholdFactory, ParentCarerFactory, make_authorised_visit
from tests.helpers import fresh_case
from tests.visits.alerts.clock import START, at
from tests.visits.field.pages import page, primary_buttons, tap, timeline
from visits.alerts import delivery, sms, sweep
from visits.board.pages import forget_everything
from visits.field.services import visit_check_in, visit_here, visit_no_answer
from visits.models import AlertKind, AlertOutcome, CheckInKind, VisitAlert, VisitStatus
from visits.models.after import VisitOutcome


@pytest.fixture
def visit(contacts):
    """Out of school at 10:00, due back 10:50, to a household with a mother on 020 7946 0777."""
    cast = contacts
    household = HouseholdFactory(school=cast.school, phone="020 7946 0999")
    ParentCarerFactory(household=household, phone="020 7946 0777")
    child = ChildFactory(household=household, first_name="Noor", last_name="Quenby")
    with at(9, 0):
        visit = make_authorised_visit(
            lead=cast.staff, second=cast.staff2, authoriser=cast.dsl, start=START, child=child
        )
    with at(10, 0):
        visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.CHECKED_OUT)
    visit.refresh_from_db()
    return visit


# --- Waiting for my colleague / we are both here --------------------------------------------------------------


def test_the_first_to_arrive_waits_and_the_visit_arrives_when_both_have_said_they_are_here(client, cast, visit):
    with at(10, 10):
        response = tap(client, cast.staff, visit, "here")
        assert response.status_code == 302
        mine = page(client, cast.staff, visit)
        theirs = page(client, cast.staff2, visit)
        client.force_login(cast.office)
        board = client.get("/board/").content.decode()
    visit.refresh_from_db()
    assert visit.status == VisitStatus.OUT and visit.arrived_at is None
    assert "wait outside until your colleague arrives" in mine
    assert "I&#x27;m here: waiting for my colleague" not in mine  # said once
    name = cast.staff.get_full_name()
    assert f"{name} is at the door, waiting for you" in theirs
    assert primary_buttons(theirs) == ["I&#x27;m here too: we are both here"]
    assert f"Waiting for colleague: {name} is there" in board

    with at(10, 14):
        assert tap(client, cast.staff2, visit, "here").status_code == 302
    visit.refresh_from_db()
    assert visit.status == VisitStatus.ON_SITE
    assert visit.arrived_at == datetime.datetime(2026, 11, 23, 10, 14, tzinfo=datetime.UTC)
    assert list(visit.checkins.values_list("kind", flat=True)) == ["checked_out", "here", "arrived"]
    with at(10, 15):
        html = timeline(client, cast.staff, visit)
    assert "Here: waiting for my colleague" in html and "On site" in html


def test_saying_you_are_here_twice_is_refused_in_words(client, cast, visit):
    with at(10, 10):
        tap(client, cast.staff, visit, "here")
        response = tap(client, cast.staff, visit, "here")
    assert response.status_code == 400
    assert "You have already said you are here" in response.content.decode()
    assert visit.checkins.filter(kind=CheckInKind.HERE).count() == 1


def test_the_office_on_a_call_records_one_of_them_is_there_without_it_counting_as_both(client, cast, visit):
    with at(10, 10):
        tap(client, cast.office, visit, "here")
        tap(client, cast.staff2, visit, "here")
    visit.refresh_from_db()
    assert visit.status == VisitStatus.OUT  # the office's tap names nobody: staff2 waits for the lead
    assert visit.checkins.get(kind=CheckInKind.HERE, recorded_by=cast.office).on_behalf
    with at(10, 12):
        tap(client, cast.staff, visit, "arrived")
    visit.refresh_from_db()
    assert visit.status == VisitStatus.ON_SITE


# --- A parent running late ----------------------------------------------------------------------------------------


def test_a_parent_running_late_starts_the_policys_wait_and_when_it_runs_out_the_page_says_leave(client, cast, visit):
    HomeVisitPolicy.objects.create(trust=cast.trust, school=cast.school, wait_if_late_minutes=7)
    with at(10, 10):
        assert tap(client, cast.staff, visit, "parent_late").status_code == 302
        waiting = page(client, cast.staff, visit)
    assert "Wait for the family until <strong>10:17</strong> at most (the policy: 7 minutes)" in waiting
    assert 'data-countdown-seconds="420"' in waiting
    assert 'hx-trigger="every 10s"' in waiting  # the page fetches itself while they wait
    assert primary_buttons(waiting) == ["Arrived: we are both here"]
    assert visit.checkins.get(kind=CheckInKind.PARENT_LATE).minutes == 7

    with at(10, 17):
        over = page(client, cast.staff, visit)
        again = tap(client, cast.staff, visit, "parent_late")
    assert "You have waited 7 minutes, as long as the policy asks." in over
    assert "Post the letter through the door and leave" in over
    assert primary_buttons(over) == ["Letter posted: nobody in"]
    assert again.status_code == 400 and "post the letter through the door and leave" in again.content.decode()

    with at(10, 18):
        tap(client, cast.staff, visit, "letter_posted")
        posted = page(client, cast.staff, visit)
    assert "Letter posted at 10:18" in posted
    assert primary_buttons(posted) == ["Returned to school"]
    with at(10, 19):
        html = timeline(client, cast.staff, visit)
    assert "Parent running late: waiting (7 minutes)" in html and "Letter posted: nobody in" in html


# --- Nobody answers -----------------------------------------------------------------------------------------------


def test_nobody_answers_asks_the_office_to_ring_the_family_and_no_answer_means_post_the_letter(client, cast, visit):
    with at(10, 10):
        assert tap(client, cast.staff, visit, "no_answer").status_code == 302
        delivery.notifications_deliver()
        asked = page(client, cast.staff, visit)
        client.force_login(cast.office)
        board = client.get("/board/").content.decode()
    alert = VisitAlert.objects.get(visit=visit)
    assert alert.kind == AlertKind.NO_ANSWER and alert.is_open
    # The office hears at once, by the board and by email, with whom to ring; the pair are told to wait.
    assert "Nobody answers: ring the family now" in board
    assert 'href="tel:+442079460777"' in board and "Ms Rowan Pellingham (mother)" in board
    assert "Rang the family: they are coming" in board and "New return time" not in board
    assert [m.to for m in mail.outbox] == [["office@example.org"]]
    assert "Ring the family now: Ms Rowan Pellingham (mother): 020 7946 0777" in mail.outbox[0].body
    assert sms.outbox == []
    assert "The office is ringing the family (asked at 10:10)" in asked and 'hx-trigger="every 10s"' in asked
    assert "Nobody answers: the office rings the family" not in asked  # asked once

    with at(10, 14):
        client.force_login(cast.office)
        response = client.post(
            f"/board/alerts/{alert.pk}/acknowledge/", {f"ack-{alert.pk}-outcome": "family_no_answer"}
        )
        assert response.status_code == 302
        told = page(client, cast.staff2, visit)
    alert.refresh_from_db()
    assert alert.outcome == AlertOutcome.FAMILY_NO_ANSWER and alert.acknowledged_by == cast.office
    assert "The office rang the family: no answer." in told
    assert "Post the letter through the door and leave" in told
    assert primary_buttons(told) == ["Letter posted: nobody in"]

    with at(10, 15):
        tap(client, cast.staff2, visit, "letter_posted")
    with at(10, 30):
        tap(client, cast.staff, visit, "returned", confirm="yes")
        client.force_login(cast.staff)
        form = client.get(f"/visits/{visit.pk}/report/").content.decode()
        html = timeline(client, cast.staff, visit)
    # The Home Visit Form starts where the doorstep left it.
    assert re.search(rf'value="{VisitOutcome.NO_ACCESS}"[^>]*checked', form)
    for line in [
        "Nobody answers: the office rings the family",
        "The office rang the family: no answer",
        cast.office.get_full_name() + " for the pair",
        "Letter posted: nobody in",
    ]:
        assert line in html, line


def test_the_family_saying_they_are_coming_starts_the_wait(client, cast, visit):
    with at(10, 10):
        tap(client, cast.staff, visit, "no_answer")
        alert = VisitAlert.objects.get(visit=visit)
        client.force_login(cast.office)
        client.post(f"/board/alerts/{alert.pk}/acknowledge/", {f"ack-{alert.pk}-outcome": "family_coming"})
        html = page(client, cast.staff, visit)
    assert "The office rang the family: they are coming." in html
    assert "until <strong>10:20</strong> at most (the policy: 10 minutes)" in html


def test_asking_again_while_the_office_is_ringing_is_refused(client, cast, visit):
    with at(10, 10):
        tap(client, cast.staff, visit, "no_answer")
        response = tap(client, cast.staff2, visit, "no_answer")
    assert response.status_code == 400
    assert "The office is already ringing the family" in response.content.decode()
    assert VisitAlert.objects.filter(visit=visit).count() == 1


def test_someone_coming_to_the_door_answers_the_office_s_call(client, cast, visit):
    with at(10, 10):
        tap(client, cast.staff, visit, "no_answer")
    with at(10, 12):
        tap(client, cast.staff, visit, "arrived")
    alert = VisitAlert.objects.get(visit=visit)
    assert alert.outcome == AlertOutcome.RESOLVED_BY_CHECKIN


def test_the_doorstep_steps_are_for_the_door_only(client, cast, visit):
    with at(10, 10):
        tap(client, cast.staff, visit, "arrived")
        response = tap(client, cast.staff, visit, "no_answer")
    assert response.status_code == 400
    assert "is for the door, before you go in: the visit is on site" in response.content.decode()


# --- A child alone or in danger ------------------------------------------------------------------------------------


def test_a_child_in_danger_alerts_the_dsl_and_principal_at_once_and_offers_999_and_the_concern(client, cast, visit):
    with at(10, 10):
        tap(client, cast.staff, visit, "arrived")
    with at(10, 20):
        response = tap(client, cast.staff, visit, "child_danger")
        assert response.status_code == 302 and response.url.endswith("/field/#danger")
        delivery.notifications_deliver()
        html = page(client, cast.staff, visit)
        client.force_login(cast.office)
        board = client.get("/board/").content.decode()
    alert = VisitAlert.objects.get(visit=visit)
    assert alert.kind == AlertKind.CHILD_DANGER
    # The DSL and the Principal, by text and email; not the office.
    assert sorted(m.to[0] for m in mail.outbox) == ["dsl@example.org", "head@example.org"]
    assert sorted(m["to"] for m in sms.outbox) == ["+442079460510", "+442079460520"]
    text = sms.outbox[0]["body"]
    assert f"/visits/{visit.pk}/" in text
    for private in ["Noor", "Quenby", visit.reason]:
        assert private not in text and private not in mail.outbox[0].body
    # The pair: 999 in one tap, and the concern form for the DSL.
    assert 'href="tel:999"' in html
    assert f'href="/safeguarding/concerns/new/?visit={visit.pk}&amp;doorstep=1"' in html
    # The board says a DSL is needed, and nothing about the child.
    assert "Safeguarding: the visitors need a DSL now" in board
    assert "Noor" not in board and "Quenby" not in board
    with at(10, 21):
        client.force_login(cast.staff)
        concern = client.get(f"/safeguarding/concerns/new/?visit={visit.pk}&doorstep=1").content.decode()
    assert "Alerted the DSLs and the Principal from the doorstep at 10:20." in concern


def test_a_return_does_not_close_the_dsl_alert(client, cast, visit):
    with at(10, 10):
        tap(client, cast.staff, visit, "child_danger")
    with at(10, 40):
        tap(client, cast.staff, visit, "returned", confirm="yes")
    alert = VisitAlert.objects.get(visit=visit)
    assert alert.is_open
    with at(10, 46):
        sweep.alerts_sweep()  # still unanswered: sent again
    alert.refresh_from_db()
    assert alert.rounds_sent == 2
    with at(9, 0, day=24):  # the next morning, still unanswered: still on the board, where it is answered
        client.force_login(cast.dsl)
        assert f'id="alert-{alert.pk}"' in client.get("/board/").content.decode()
    with at(9, 1, day=24):
        client.force_login(cast.dsl)
        client.post(f"/board/alerts/{alert.pk}/acknowledge/", {f"ack-{alert.pk}-outcome": "dsl_spoke"})
    alert.refresh_from_db()
    assert alert.outcome == AlertOutcome.DSL_SPOKE and alert.acknowledged_by == cast.dsl


def test_a_second_tap_while_the_dsl_alert_is_open_sends_nothing_more(client, cast, visit):
    with at(10, 10):
        tap(client, cast.staff, visit, "child_danger")
        tap(client, cast.staff2, visit, "child_danger")
    assert VisitAlert.objects.filter(visit=visit).count() == 1
    assert visit.checkins.filter(kind=CheckInKind.CHILD_DANGER).count() == 2


def test_who_may_record_a_doorstep_step(client, cast, visit, subtests):
    for who, status in [("dsl", 404), ("outsider", 404), ("other_staff", 404), ("principal", 404)]:
        with subtests.test(who=who), fresh_case(client), at(10, 10):
            assert tap(client, getattr(cast, who), visit, "child_danger").status_code == status
    assert not VisitAlert.objects.filter(visit=visit).exists()


def test_the_boards_doorstep_lines_and_family_numbers_cost_no_query_per_visit(client, cast, visit):
    def count():
        with at(15, 30):
            client.force_login(cast.office)
            client.get("/board/")
            forget_everything()
            with CaptureQueriesContext(connection) as queries:
                html = client.get("/board/").content.decode()
        return len(queries), html

    with at(10, 10):
        visit_no_answer(visit=visit, actor=cast.staff)
    few, _ = count()
    for hour in (11, 12, 13):  # another pair each time: nobody is in two homes at once
        household = HouseholdFactory(school=cast.school)
        ParentCarerFactory(household=household, phone=f"020 7946 07{hour}")
        start = START.replace(hour=hour)
        with at(hour - 1, 0):
            other = make_authorised_visit(
                lead=cast.staff,
                second=cast.staff2,
                authoriser=cast.dsl,
                start=start,
                child=ChildFactory(household=household),
            )
        with at(hour, 0):
            visit_check_in(visit=other, actor=cast.staff, kind=CheckInKind.CHECKED_OUT)
            visit_here(visit=other, actor=cast.staff2)
            visit_no_answer(visit=other, actor=cast.staff)
    many, html = count()
    assert few == many
    assert html.count("Waiting for colleague") == 3 and html.count("Ring the family now:") == 4
