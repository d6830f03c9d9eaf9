"""The office board: who may see it, what it shows (and never shows), overdue rows, acknowledgements, the
sweep's health, the printable timetable and a query count that does not grow with the visits."""

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core.models import EscalationStep
from tests.factories import ChildFactory, make_authorised_visit
from tests.helpers import fresh_case
from visits.alerts import sweep
from visits.board.pages import forget_everything
from visits.changes import board_changed
from visits.field.services import visit_check_in
from visits.models import AlertOutcome, CheckInKind, Visit, VisitAlert

UTC = datetime.UTC
START = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def at(hour, minute, second=0):
    return time_machine.travel(datetime.datetime(2026, 11, 23, hour, minute, second, tzinfo=UTC), tick=False)


def out_visit(cast, start=START, lead=None, second=None, child=None):
    with at(8, 0):
        visit = make_authorised_visit(
            lead=lead or cast.staff, second=second or cast.staff2, authoriser=cast.dsl, start=start, child=child
        )
    with at(start.hour, start.minute):
        visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.CHECKED_OUT)
    return visit


@pytest.fixture
def visit(cast):
    return out_visit(cast)


BOARD_PAGES = ["/board/", "/board/live/", "/board/timetable/"]


def test_who_may_see_the_board(client, cast, visit, subtests):
    for url in BOARD_PAGES:
        for who, status in [
            ("staff", 403),
            ("staff2", 403),
            ("outsider", 403),
            ("dsl", 200),
            ("principal", 200),
            ("office", 200),
            ("trust_admin", 403),
            ("other_dsl", 200),
            ("other_staff", 403),
        ]:
            with subtests.test(url=url, who=who, status=status), fresh_case(client):
                client.force_login(getattr(cast, who))
                with at(10, 5):
                    response = client.get(url)
                assert response.status_code == status
                if status == 200:
                    # Another school's DSL sees their own board, never this school's visit.
                    assert ("Willow Lane" in response.content.decode()) == (who != "other_dsl")


@pytest.mark.parametrize("url", BOARD_PAGES)
def test_anonymous_is_sent_to_log_in(client, db, url):
    assert client.get(url).status_code == 302


def test_the_board_shows_what_the_office_needs_and_nothing_more(client, cast, visit):
    client.force_login(cast.office)
    with at(10, 5):
        html = client.get("/board/").content.decode()
    lead = cast.staff.get_full_name()
    for needed in [
        lead,
        cast.staff2.get_full_name(),
        visit.household.address,
        "EB12 ABC",
        "020 7946 0456",
        "Out of school",
        "10:00",
        "10:50",
        "in 45 min",
    ]:
        assert needed in html, needed
    child = visit.children.get()
    for private in [
        visit.reason,
        visit.outcome_wanted,
        visit.get_purpose_display(),
        child.first_name + " " + child.last_name,
    ]:
        assert private not in html, private
    assert 'hx-trigger="every 3s"' in html


def test_an_overdue_row_says_so_in_words_and_the_alert_asks_for_a_call(client, cast, visit):
    client.force_login(cast.office)
    with at(10, 56):
        sweep.alerts_sweep()
        html = client.get("/board/live/").content.decode()
    assert "OVERDUE" in html and "overdue by 6 min" in html
    assert "Ring the lead's mobile" in html
    assert "Record what I did" in html


def test_the_police_prompt_has_a_summary_to_read_out_without_the_purpose(client, cast, visit):
    client.force_login(cast.office)
    with at(12, 0):
        sweep.alerts_sweep()
        html = client.get("/board/").content.decode()
    assert "Call the police: 999" in html
    assert "went on a home visit to " + visit.household.address in html
    assert "EB12 ABC" in html and visit.get_purpose_display() not in html and visit.reason not in html


def test_the_office_acknowledges_all_fine_with_a_new_time(client, cast, visit):
    client.force_login(cast.office)
    with at(10, 56):
        sweep.alerts_sweep()
        alert = VisitAlert.objects.get()
        response = client.post(
            f"/board/alerts/{alert.pk}/acknowledge/",
            {
                f"ack-{alert.pk}-outcome": "rang_all_fine",
                f"ack-{alert.pk}-new_return": "11:20",
                f"ack-{alert.pk}-note": "Parent was late home",
            },
        )
        assert response.status_code == 302
        html = client.get("/board/").content.decode()
    alert.refresh_from_db()
    assert alert.outcome == AlertOutcome.RANG_ALL_FINE and alert.acknowledged_by == cast.office
    visit.refresh_from_db()
    assert visit.due_back == datetime.datetime(2026, 11, 23, 11, 20, tzinfo=UTC)
    assert "OVERDUE" not in html and "Record what I did" not in html


def test_a_bad_acknowledgement_keeps_what_was_typed_and_says_why(client, cast, visit):
    client.force_login(cast.office)
    with at(12, 0):
        sweep.alerts_sweep()
        police = VisitAlert.objects.get(step_order=2)
        response = client.post(
            f"/board/alerts/{police.pk}/acknowledge/",
            {
                f"ack-{police.pk}-outcome": "police_called",
                f"ack-{police.pk}-note": "Spoke to the control room",
            },
        )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Give the police reference number." in html and "Spoke to the control room" in html
    assert VisitAlert.objects.get(pk=police.pk).is_open


def test_who_may_acknowledge_an_alert(client, cast, visit, subtests):
    for who, status in [
        ("office", 302),
        ("dsl", 302),
        ("principal", 302),
        ("staff", 403),
        ("trust_admin", 403),
        ("other_dsl", 404),
        ("other_staff", 403),
    ]:
        with subtests.test(who=who, status=status), fresh_case(client):
            with at(10, 56):
                sweep.alerts_sweep()
                alert = VisitAlert.objects.get()
                client.force_login(getattr(cast, who))
                response = client.post(
                    f"/board/alerts/{alert.pk}/acknowledge/", {f"ack-{alert.pk}-outcome": "rang_no_answer"}
                )
            assert response.status_code == status
            assert VisitAlert.objects.get().is_open == (status != 302)


def test_the_office_code_word_button(client, cast, visit, subtests):
    for who, status in [("office", 302), ("dsl", 302), ("staff", 403), ("other_dsl", 404)]:
        with subtests.test(who=who, status=status), fresh_case(client):
            client.force_login(getattr(cast, who))
            with at(10, 20):
                response = client.post(f"/board/visits/{visit.pk}/code-word/", {"confirm": "yes"})
            assert response.status_code == status
            assert VisitAlert.objects.filter(kind="duress").exists() == (status == 302)


def test_the_code_word_button_asks_once_before_raising_duress(client, cast, visit):
    client.force_login(cast.office)
    with at(10, 20):
        html = client.get("/board/").content.decode()
        assert "Code word received on a call" in html
        asked = client.post(f"/board/visits/{visit.pk}/code-word/")
    assert asked.status_code == 200
    page = asked.content.decode()
    assert "Did you hear the code word?" in page and "Willow Lane" in page and "Yes, raise the duress alert" in page
    assert not VisitAlert.objects.filter(kind="duress").exists()
    with at(10, 20, 5):
        assert client.post(f"/board/visits/{visit.pk}/code-word/", {"confirm": "yes"}).status_code == 302
    assert VisitAlert.objects.filter(kind="duress").count() == 1


def test_the_leads_number_for_today_has_its_own_line_only_when_it_is_not_their_usual_one(client, cast, visit):
    client.force_login(cast.office)
    with at(10, 5):
        assert "Lead's mobile today: " in client.get("/board/").content.decode()  # 020 7946 0456, not 0123
    Visit.objects.filter(pk=visit.pk).update(lead_mobile=str(cast.staff.profile.mobile))
    forget_everything()
    with at(10, 5):
        html = client.get("/board/").content.decode()
    assert "Lead's mobile today" not in html and str(cast.staff.profile.mobile) in html


def test_the_board_says_plainly_when_alerting_is_degraded(client, cast, visit):
    client.force_login(cast.office)
    with at(10, 5):
        assert "Alerting is degraded" in client.get("/board/live/").content.decode()
        sweep.alerts_sweep()
        assert "Alerting is degraded" not in client.get("/board/live/").content.decode()
    with at(10, 5, 30):
        html = client.get("/board/live/").content.decode()
    assert "Alerting is degraded" in html and "has not run since 10:05:00" in html


def test_the_timetable_lists_the_day_in_order_for_printing(client, cast, visit):
    later = out_visit(
        cast, start=datetime.datetime(2026, 11, 23, 13, 30, tzinfo=UTC), lead=cast.staff2, second=cast.staff
    )
    client.force_login(cast.office)
    with at(13, 35):
        html = client.get("/board/timetable/").content.decode()
    assert html.index(visit.household.address) < html.index(later.household.address)
    assert "data-print" in html and visit.reason not in html  # a Print button (static/js/site.js)


def test_the_board_query_count_does_not_grow_with_visits(client, cast):
    client.force_login(cast.office)

    def count():
        with at(11, 0):
            client.get("/board/")  # the session and the signed-in user are now in the cache, as on any poll
            forget_everything()  # but the board itself must be worked out again
            with CaptureQueriesContext(connection) as queries:
                assert client.get("/board/").status_code == 200
        return len(queries)

    out_visit(cast)
    with at(11, 0):
        sweep.alerts_sweep()
    few = count()
    for hour in (11, 12, 13, 14):  # after the first visit (10:00-10:50): the pair cannot be in two homes at once
        child = ChildFactory(household__school=cast.school)
        out_visit(cast, start=datetime.datetime(2026, 11, 23, hour, 5, tzinfo=UTC), child=child)
    with at(15, 30):
        sweep.alerts_sweep()
    many = count()
    assert few == many


def test_a_board_rendered_once_is_served_to_every_screen_without_a_query(cast, visit):
    """Reception's screens poll every few seconds; until something changes, they cost no database work, and each
    still carries its own person's name and a CSRF token its forms can post with."""
    office, dsl = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    office.force_login(cast.office)
    dsl.force_login(cast.dsl)
    with at(10, 5):
        office.get("/board/")
        dsl.get("/board/")
        with CaptureQueriesContext(connection) as queries:
            office_html = office.get("/board/").content.decode()
            dsl_html = dsl.get("/board/").content.decode()
        # (The transaction around each request, ATOMIC_REQUESTS, still opens a savepoint: that is not a query.)
        assert [q["sql"] for q in queries if q["sql"].split()[0] in {"SELECT", "INSERT", "UPDATE", "DELETE"}] == []
        assert visit.household.address in office_html and visit.household.address in dsl_html
        assert cast.dsl.get_full_name() in dsl_html and cast.dsl.get_full_name() not in office_html

        def token(html):
            return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)

        code_word = f"/board/visits/{visit.pk}/code-word/"
        assert dsl.post(code_word, {"csrfmiddlewaretoken": token(office_html)}).status_code == 403
        assert office.post(code_word, {"csrfmiddlewaretoken": token(office_html), "confirm": "yes"}).status_code == 302
    assert VisitAlert.objects.filter(kind="duress").count() == 1


def test_an_unchanged_board_answers_not_modified_and_any_change_renders_again(
    client, cast, visit, django_capture_on_commit_callbacks
):
    client.force_login(cast.office)
    with at(10, 5):
        sweep.alerts_sweep()
        first = client.get("/board/live/")
        etag = first["ETag"]
        assert first.status_code == 200 and first["Cache-Control"] == "private, no-cache"
        assert client.get("/board/live/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    with at(10, 5, 40):  # same minute, nothing changed (the sweep still running)
        sweep.alerts_sweep()
        assert client.get("/board/live/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    with at(10, 6, 1):  # the countdowns moved on
        sweep.alerts_sweep()
        assert client.get("/board/live/", HTTP_IF_NONE_MATCH=etag).status_code == 200
    with at(10, 6, 1):
        etag = client.get("/board/live/")["ETag"]
        # Within the version's one-second cache, a check-in in this process shows at once (on commit).
        with django_capture_on_commit_callbacks(execute=True):
            visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.ARRIVED)
        response = client.get("/board/live/", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200 and "On site" in response.content.decode()


def test_a_row_turning_overdue_changes_the_board_even_before_any_alert(client, cast, settings):
    EscalationStep.objects.filter(order=0).update(delay_minutes=10)  # the first alert comes later
    visit = out_visit(cast)
    client.force_login(cast.office)
    with at(10, 54, 50):
        sweep.alerts_sweep()
        etag = client.get("/board/live/")["ETag"]
    with at(10, 55, 0):  # due back 10:50 + 5 minutes' grace; no alert yet, same heartbeat window
        sweep.alerts_sweep()
        response = client.get("/board/live/", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200 and "OVERDUE" in response.content.decode()
    assert not VisitAlert.objects.filter(visit=visit).exists()


def _table_reads(queries) -> list[str]:
    """The statements that read the board's tables, leaving out the sweep's health (read once a second per
    process for every board: its heartbeat and the visits whose alerting failed)."""
    return [
        q["sql"]
        for q in queries
        if q["sql"].split()[0] == "SELECT" and "sweepheartbeat" not in q["sql"] and "alerting_failed_at" not in q["sql"]
    ]


def test_an_unchanged_board_is_not_worked_out_again_until_a_visit_falls_overdue(client, cast):
    with at(8, 0):
        visit = make_authorised_visit(lead=cast.staff, second=cast.staff2, authoriser=cast.dsl, start=START)
    with at(10, 0, 30):
        visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.CHECKED_OUT)
    visit.refresh_from_db()
    overdue = visit.overdue_at()
    assert overdue.second == 30  # inside a minute, so only the visit (not the clock's minute) can turn the board
    client.force_login(cast.office)
    # The sweep runs every second in production; here it runs just before each poll.
    with time_machine.travel(overdue - datetime.timedelta(seconds=8), tick=False):
        sweep.alerts_sweep()
        etag = client.get("/board/live/")["ETag"]
    with time_machine.travel(overdue - datetime.timedelta(seconds=4), tick=False):
        sweep.alerts_sweep()
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/board/live/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert _table_reads(queries) == []
    with time_machine.travel(overdue + datetime.timedelta(seconds=1), tick=False):
        sweep.alerts_sweep()
        turned = client.get("/board/live/", HTTP_IF_NONE_MATCH=etag)
    assert turned.status_code == 200 and turned["ETag"] != etag


def test_a_change_at_another_school_leaves_this_schools_board_alone(client, cast, visit):
    client.force_login(cast.office)
    with at(10, 5):
        sweep.alerts_sweep()
        etag = client.get("/board/live/")["ETag"]
    with at(10, 5, 3):
        sweep.alerts_sweep()
        board_changed(cast.other_school.pk)  # what every verb does for a visit at the other school
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/board/live/", HTTP_IF_NONE_MATCH=etag).status_code == 304
        assert _table_reads(queries) == []
    with at(10, 5, 6):
        sweep.alerts_sweep()
        visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.ARRIVED)
        assert client.get("/board/live/", HTTP_IF_NONE_MATCH=etag).status_code == 200
