"""On a phone: "Returned to school" asks once more, then can be undone for two minutes, and the undo goes away when
its time is up; and at the door the wait for a late parent counts down."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import make_authorised_visit
from visits.field.services import visit_check_in
from visits.models import CheckInKind, VisitStatus

pytestmark = pytest.mark.e2e


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 360, "height": 780}}


def visit_out(cast, *steps):
    """Planned to start half an hour ago; checked out then, and taken through `steps` since."""
    start = timezone.now() - datetime.timedelta(minutes=30)
    visit = make_authorised_visit(lead=cast.staff, second=cast.staff2, authoriser=cast.dsl, start=start)
    for minutes, kind in enumerate([CheckInKind.CHECKED_OUT, *steps]):
        visit_check_in(visit=visit, actor=cast.staff, kind=kind, now=start + datetime.timedelta(minutes=5 * minutes))
    return visit


def test_returned_asks_once_more_and_can_be_undone_for_two_minutes(page, live_server, cast, log_in):
    visit = visit_out(cast, CheckInKind.ARRIVED, CheckInKind.LEFT)
    page.clock.install()
    log_in(page, cast.staff)
    page.goto(f"{live_server.url}/visits/{visit.pk}/field/")

    # The expected step is the one primary button; the first tap only asks.
    returned = page.locator("summary", has_text="Returned to school")
    expect(returned).to_have_class("btn btn-lg btn-primary w-100 py-3 d-block")
    assert page.locator(".btn-primary").count() == 1
    yes = page.get_by_role("button", name="Yes, we are back at school")
    expect(yes).to_be_hidden()
    returned.click()
    expect(page.get_by_text("Are you both back at school?")).to_be_visible()
    visit.refresh_from_db()
    assert visit.status == VisitStatus.LEFT  # nothing sent yet
    assert yes.bounding_box()["width"] > 300
    yes.click()

    expect(page.get_by_text("Check-in sent: Returned to school.")).to_be_visible()
    expect(page.get_by_text("Status: Returned")).to_be_visible()
    visit.refresh_from_db()
    assert visit.status == VisitStatus.RETURNED
    # After the return: the form and the visit, and the undo.
    expect(page.get_by_role("link", name="Write the Home Visit Form")).to_be_visible()
    expect(page.get_by_role("link", name="Open the visit")).to_be_visible()
    undo = page.get_by_role("button", name="Undo: we are not back yet")
    expect(undo).to_be_visible()
    undo.click()

    expect(page.get_by_text("Undone: the office is watching for you again.")).to_be_visible()
    expect(page.get_by_text("Status: Left the property")).to_be_visible()
    visit.refresh_from_db()
    assert visit.status == VisitStatus.LEFT

    # Returned again; two minutes on (the phone's clock), the undo has gone.
    page.locator("summary", has_text="Returned to school").click()
    page.get_by_role("button", name="Yes, we are back at school").click()
    expect(page.get_by_role("button", name="Undo: we are not back yet")).to_be_visible()
    page.clock.fast_forward("02:01")
    expect(page.get_by_role("button", name="Undo: we are not back yet")).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_not_returning_asks_once_more_too(page, live_server, cast, log_in):
    visit = visit_out(cast, CheckInKind.ARRIVED)
    log_in(page, cast.staff2)
    page.goto(f"{live_server.url}/visits/{visit.pk}/field/")
    page.locator("summary", has_text="Not returning to school").click()
    page.get_by_role("button", name="Yes, finished and safe").click()
    expect(page.get_by_text("Status: Returned")).to_be_visible()
    expect(page.get_by_role("link", name="Open the visit")).to_be_visible()  # the second visitor: no form to write
    expect(page.get_by_role("link", name="Write the Home Visit Form")).to_have_count(0)


def test_the_wait_for_a_late_parent_counts_down(page, live_server, cast, log_in):
    visit = visit_out(cast)
    log_in(page, cast.staff)
    page.goto(f"{live_server.url}/visits/{visit.pk}/field/")
    page.get_by_role("button", name="Parent running late: wait 10 minutes").click()
    countdown = page.locator("[data-countdown]")
    expect(countdown).to_have_text(re.compile(r"^(10:00|9:5\d) left$"))
    expect(countdown).to_have_text(re.compile(r"^9:5[0-7] left$"), timeout=5_000)  # a second or two later
