"""The office board in chromium: a row turns overdue without a reload, the office hears it and acknowledges it;
and the pair check in from a phone."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import make_authorised_visit
from visits.alerts import sweep
from visits.field.services import visit_check_in
from visits.models import AlertOutcome, CheckInKind, VisitAlert, VisitStatus

pytestmark = pytest.mark.e2e


@pytest.fixture
def board_settings(settings):
    settings.BOARD_POLL_SECONDS = 1


def test_a_row_turns_overdue_without_a_reload_and_the_office_acknowledges_it(
    page, live_server, cast, log_in, board_settings
):
    # Due back 5 minutes ago with 5 minutes' grace: overdue a few seconds after the board opens.
    now = timezone.now()
    visit = make_authorised_visit(
        lead=cast.staff,
        second=cast.staff2,
        authoriser=cast.dsl,
        start=now - datetime.timedelta(minutes=55) + datetime.timedelta(seconds=6),
    )
    # They left at the planned start: due back is re-based on the check-out.
    visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.CHECKED_OUT, now=visit.scheduled_start)
    sweep.alerts_sweep()  # a healthy sweep, so the board is not warning about alerting

    log_in(page, cast.office)
    assert page.url.endswith("/board/")
    row = page.locator(f"#visit-{visit.pk}")
    expect(row).to_have_attribute("data-state", "Out of school")
    page.evaluate("window.__sameDocument = true")  # vanishes if the page reloads

    # The sweep (as the worker would run it) raises the alert once the time has passed.
    expect(row).to_have_attribute("data-state", "OVERDUE", timeout=15_000)
    expect(row.locator(".row-state")).to_contain_text("OVERDUE")
    sweep.alerts_sweep()
    card = page.locator(".card", has_text="Overdue: Office rings the lead's mobile")
    expect(card).to_be_visible(timeout=10_000)
    assert page.evaluate("window.__sameDocument") is True
    assert int(page.evaluate("document.body.dataset.cues")) >= 1  # the audible cue was played

    # The office can mute the cue.
    page.get_by_role("button", name="Sound: on").click()
    expect(page.get_by_role("button", name="Sound: muted")).to_have_attribute("aria-pressed", "true")

    new_return = timezone.localtime() + datetime.timedelta(minutes=30)
    card.get_by_label("Rang: all fine, new return time").check()
    card.get_by_label("New return time (if all fine)").fill(new_return.strftime("%H:%M"))
    card.get_by_label("Note").fill("Parent was late home; leaving now")
    card.get_by_role("button", name="Record what I did").click()

    expect(page.get_by_text(re.compile("Recorded: Overdue"))).to_be_visible()
    expect(page.locator(f"#visit-{visit.pk}")).to_have_attribute("data-state", "Out of school")
    alert = VisitAlert.objects.get(visit=visit)
    assert alert.outcome == AlertOutcome.RANG_ALL_FINE and alert.acknowledged_by == cast.office


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 360, "height": 780}}


def test_the_pair_check_out_and_arrive_from_a_phone(page, live_server, cast, log_in):
    visit = make_authorised_visit(
        lead=cast.staff, second=cast.staff2, authoriser=cast.dsl, start=timezone.now() + datetime.timedelta(minutes=5)
    )
    log_in(page, cast.staff)
    page.goto(f"{live_server.url}/visits/{visit.pk}/field/")
    button = page.get_by_role("button", name="Checked out of school")
    assert button.bounding_box()["width"] > 300  # one big tap target across a 360px screen
    button.click()
    expect(page.get_by_text("Check-in sent: Checked out of school.")).to_be_visible()
    page.get_by_role("button", name="Arrived").click()
    expect(page.get_by_text("Status: On site")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the phone
    visit.refresh_from_db()
    assert visit.status == VisitStatus.ON_SITE
