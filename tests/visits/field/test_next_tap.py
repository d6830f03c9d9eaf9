"""The field page guides the next tap: one primary button, a second tap before "Returned" or "Not returning", two
minutes to undo them (as if the return never happened), the way on after the return, and a refused check-out that
lists what is missing with a link to each."""

import datetime
import re

import pytest

from core.audit import AuditEntry
from tests.factories import make_authorised_visit, make_visit
from tests.visits.alerts.clock import START, UTC, at
from tests.visits.field.pages import page, primary_buttons, tap, timeline
from visits.alerts import services as alert_services
from visits.alerts import sweep
from visits.field.services import visit_check_in, visit_undo_return
from visits.models import AlertKind, AlertOutcome, CheckInKind, VisitAlert, VisitStatus


@pytest.fixture
def visit(cast):
    with at(9, 0):
        return make_authorised_visit(lead=cast.staff, second=cast.staff2, authoriser=cast.dsl, start=START)


def walk(visit, actor, *kinds, hour=10, minute=0):
    with at(hour, minute):
        for kind in kinds:
            visit_check_in(visit=visit, actor=actor, kind=kind)
    visit.refresh_from_db()


def test_the_expected_next_step_is_the_one_primary_button(client, cast, visit):
    expected = [
        (None, "Checked out of school"),
        (CheckInKind.CHECKED_OUT, "Arrived: we are both here"),
        (CheckInKind.ARRIVED, "Left the property safely"),
        (CheckInKind.LEFT, "Returned to school"),
    ]
    for minute, (kind, label) in enumerate(expected):
        if kind:
            walk(visit, cast.staff, kind, minute=minute)
        with at(10, minute):
            html = page(client, cast.staff, visit)
        assert primary_buttons(html) == [label], kind
    # The others are there, plain.
    assert "Not returning to school: finished and safe" in html and "Quick check-in" in html


def test_ring_the_office_is_one_tap(client, cast, visit):
    with at(9, 30):
        html = page(client, cast.staff, visit)
    assert re.search(r'<a [^>]*href="tel:\+442079460001"[^>]*>Ring the office: 020 7946 0001</a>', html)


def test_returned_asks_once_more_and_nothing_changes_until_the_second_tap(client, cast, visit):
    walk(visit, cast.staff, CheckInKind.CHECKED_OUT, CheckInKind.ARRIVED, CheckInKind.LEFT)
    with at(10, 40):
        html = page(client, cast.staff, visit)
        # The second tap is in the page already (a <details>: no script needed).
        assert "Are you both back at school?" in html and 'name="confirm" value="yes"' in html
        first = tap(client, cast.staff, visit, "returned")  # a form that skipped the question
    assert first.status_code == 200
    assert '<details class="confirm-step" open>' in first.content.decode()
    visit.refresh_from_db()
    assert visit.status == VisitStatus.LEFT
    with at(10, 40):
        assert tap(client, cast.staff, visit, "returned", confirm="yes").status_code == 302
    visit.refresh_from_db()
    assert visit.status == VisitStatus.RETURNED


def test_after_returning_the_page_links_to_the_form_and_the_visit(client, cast, visit):
    walk(visit, cast.staff, CheckInKind.CHECKED_OUT, CheckInKind.ARRIVED, CheckInKind.LEFT, CheckInKind.RETURNED)
    with at(10, 1):
        lead = page(client, cast.staff, visit)
        second = page(client, cast.staff2, visit)
        office = page(client, cast.office, visit)
    assert primary_buttons(lead) == ["Write the Home Visit Form"]
    assert f'href="/visits/{visit.pk}/report/"' in lead and f'href="/visits/{visit.pk}/"' in lead
    assert primary_buttons(second) == ["Open the visit"] and "/report/" not in second
    assert 'href="/board/"' in office and f'href="/visits/{visit.pk}/"' not in office  # the office sees the board
    assert "Undo: we are not back yet" in lead and "until 10:02:00" in lead
    with at(10, 2):
        assert "Undo" not in page(client, cast.staff, visit)


def test_undo_within_two_minutes_puts_the_visit_back_where_it_was_on_the_timeline(client, cast, visit):
    walk(visit, cast.staff, CheckInKind.CHECKED_OUT, CheckInKind.ARRIVED)
    with at(10, 30):
        tap(client, cast.staff, visit, "returned", confirm="yes")
    with at(10, 31, 30):
        response = tap(client, cast.staff2, visit, "return_undone")
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == VisitStatus.ON_SITE  # where it was, not "left"
    with at(10, 32):
        html = timeline(client, cast.staff, visit)
        assert primary_buttons(page(client, cast.staff, visit)) == ["Left the property safely"]
    assert "Returned" in html and "Return undone: not back yet" in html and "Undone: “Returned to school”" in html
    actions = set(AuditEntry.objects.filter(object_id=str(visit.pk)).values_list("action", flat=True))
    assert {"checkin.returned", "checkin.return_undone", "visit.transition"} <= actions


def test_undo_after_two_minutes_is_refused_with_a_message(client, cast, visit):
    walk(visit, cast.staff, CheckInKind.CHECKED_OUT)
    with at(10, 30):
        tap(client, cast.staff, visit, "not_returning", confirm="yes")
    with at(10, 32, 1):
        response = tap(client, cast.staff, visit, "return_undone")
    assert response.status_code == 400
    assert "it can be undone for two minutes only" in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == VisitStatus.RETURNED


def test_an_undone_return_alerts_as_if_it_never_happened(contacts, visit):
    cast = contacts
    walk(visit, cast.staff, CheckInKind.CHECKED_OUT)  # due back 10:50, overdue at 10:55, the DSLs at 11:10
    with at(10, 56):
        sweep.alerts_sweep()
    overdue = VisitAlert.objects.get(visit=visit)
    with at(10, 57):
        visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.RETURNED)
    overdue.refresh_from_db()
    assert overdue.outcome == AlertOutcome.RESOLVED_BY_CHECKIN
    with at(10, 58):
        visit_undo_return(visit=visit, actor=cast.staff)
    overdue.refresh_from_db()
    visit.refresh_from_db()
    assert overdue.is_open and overdue.outcome == ""
    assert visit.status == VisitStatus.OUT
    assert visit.alert_due_at == datetime.datetime(2026, 11, 23, 10, 58, tzinfo=UTC)  # sent again at once
    with at(10, 58):
        sweep.alerts_sweep()
    overdue.refresh_from_db()
    assert overdue.rounds_sent == 2
    with at(11, 10):
        assert sweep.alerts_sweep() == 1  # the next step, on time
    assert VisitAlert.objects.get(visit=visit, step_order=1).kind == AlertKind.OVERDUE


def test_an_undo_never_opens_or_closes_a_duress_alert(contacts, visit):
    cast = contacts
    walk(visit, cast.staff, CheckInKind.CHECKED_OUT)
    with at(10, 20):
        duress = alert_services.visit_raise_duress(visit=visit, actor=cast.staff, from_office=False)
        visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.RETURNED)
    with at(10, 21):
        visit_undo_return(visit=visit, actor=cast.staff)
    duress.refresh_from_db()
    assert duress.is_open and duress.outcome == ""  # still up: only a named person closes it

    # Confirmed safe by a person, then a return and its undo: it stays closed.
    with at(10, 25):
        alert_services.alert_confirm_safe(
            alert=duress, actor=cast.dsl, how=AlertOutcome.SAFE_SPOKE, note="Rang the lead: both in the car"
        )
        visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.RETURNED)
    with at(10, 26):
        visit_undo_return(visit=visit, actor=cast.staff)
    duress.refresh_from_db()
    assert duress.outcome == AlertOutcome.SAFE_SPOKE and duress.acknowledged_by == cast.dsl


def test_a_refused_check_out_lists_each_missing_item_with_a_link_to_where_it_is_done(client, cast):
    with at(9, 0):
        draft = make_visit(lead=cast.staff, start=START)
    with at(10, 0):
        response = tap(client, cast.staff, draft, "checked_out")
    assert response.status_code == 400
    html = response.content.decode()
    refused = html[html.index('id="check-out-refused"') :]
    refused = refused[: refused.index("</div>")]
    visit_url = f"/visits/{draft.pk}/"
    for message, link in [
        ("Visit authorised: The visit is draft.", f'href="{visit_url}#about"'),
        (
            "No risk assessment for this household yet.",
            f'href="/safeguarding/households/{draft.household_id}/risk/new/"',
        ),
        ("Safe word agreed: not met", f'href="{visit_url}#check-safe_word"'),
        ("Parents notified: Record how the family was told.", f'href="{visit_url}#parents"'),
        ("A home visit needs at least two visitors.", f'href="{visit_url}edit/"'),
        ("lead&#x27;s mobile", f'href="{visit_url}edit/"'),
    ]:
        assert message in refused and link in refused, message
    assert refused.count("<li") == 6
    # Each link leads to its item on the visit page.
    client.force_login(cast.staff)
    detail = client.get(visit_url).content.decode()
    assert 'id="check-safe_word"' in detail and 'id="parents"' in detail
    draft.refresh_from_db()
    assert draft.status == VisitStatus.DRAFT
