"""The office board in chromium: a row turns overdue without a reload, the office hears it and acknowledges it;
and the pair check in from a phone."""

import datetime
import re

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from core.roles import Role
from tests.factories import make_authorised_visit, make_member
from visits.alerts import sweep
from visits.field.services import visit_check_in
from visits.models import AlertOutcome, CheckInKind, VisitAlert, VisitStatus

pytestmark = pytest.mark.e2e


@pytest.fixture
def board_settings(settings):
    settings.BOARD_POLL_SECONDS = 1


@pytest.fixture
def still_clock():
    """The server's clock stands still (the browser's goes on, so the board still polls) until the test moves it:
    what the board shows changes only when the test changes something, however slow the machine."""
    with time_machine.travel(timezone.now(), tick=False) as clock:
        yield clock


def test_a_row_turns_overdue_without_a_reload_and_the_office_acknowledges_it(
    page, live_server, cast, log_in, board_settings, still_clock
):
    # Due back 5 minutes ago with 5 minutes' grace: overdue once the clock moves on 10 seconds.
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
    still_clock.shift(datetime.timedelta(seconds=10))

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


def test_polls_keep_focus_and_scroll_and_swap_only_what_changed(
    page, live_server, cast, log_in, board_settings, still_clock
):
    """The office has tabbed to a row's button: polls that bring nothing new leave the page alone, and a poll
    that changes another row changes that row only; focus and scroll stay where they were throughout."""
    start = timezone.now() - datetime.timedelta(minutes=5)
    ours = make_authorised_visit(lead=cast.staff, second=cast.staff2, authoriser=cast.dsl, start=start)
    colleague = make_member("staff4", cast.school, Role.STAFF)
    other = make_authorised_visit(lead=cast.outsider, second=colleague, authoriser=cast.dsl, start=start)
    for visit, lead in ((ours, cast.staff), (other, cast.outsider)):
        visit_check_in(visit=visit, actor=lead, kind=CheckInKind.CHECKED_OUT, now=visit.scheduled_start)
    # still_clock: the board's version changes only when something does, never because the minute turned.
    page.set_viewport_size({"width": 1280, "height": 420})  # short, so the page scrolls
    page.emulate_media(reduced_motion="reduce")  # scrolling is instant (Bootstrap scrolls smoothly otherwise)
    log_in(page, cast.office)
    live = page.locator("#board-live")
    assert live.get_attribute("aria-live") is None  # the table is not read out on every change
    expect(page.locator("#board-summary")).to_have_attribute("role", "status")
    expect(page.locator("#board-summary")).to_contain_text("Out of school: 2")

    button = page.locator(f"#visit-{ours.pk}").get_by_role("button", name="Code word received on a call")
    button.focus()
    page.evaluate("window.scrollTo({top: 150, behavior: 'instant'})")
    assert page.evaluate("window.scrollY") == 150
    page.evaluate(
        """(rowId) => {
        window.__focused = document.activeElement;
        window.__row = document.getElementById(rowId);
        window.__scrollY = window.scrollY;
        const live = document.getElementById('board-live');
        window.__mutations = 0;
        // htmx marks the polling element's own classes while a request is out: everything else counts.
        new MutationObserver((records) => {
          window.__mutations += records.filter(r => !(r.target === live && r.type === 'attributes')).length;
        }).observe(live, {subtree: true, childList: true, attributes: true, characterData: true});
    }""",
        f"visit-{ours.pk}",
    )
    assert page.evaluate("document.activeElement.textContent").startswith("Code word received")

    for _ in range(3):  # nothing new: the browser hands htmx the cached board each time
        with page.expect_response(lambda r: "/board/live/" in r.url):
            pass
    page.wait_for_timeout(100)  # past any swap of the last one
    assert page.evaluate("window.__mutations") == 0
    assert page.evaluate("document.activeElement === window.__focused")

    # The other pair arrive a second later: the next poll brings a new board and morphs that row.
    still_clock.shift(datetime.timedelta(seconds=1))
    visit_check_in(visit=other, actor=cast.outsider, kind=CheckInKind.ARRIVED)
    expect(page.locator(f"#visit-{other.pk}")).to_have_attribute("data-state", "On site", timeout=10_000)
    for _ in range(2):
        with page.expect_response(lambda r: "/board/live/" in r.url):
            pass
    assert page.evaluate("window.__mutations") > 0
    assert page.evaluate("document.activeElement === window.__focused"), "focus was thrown off the button"
    assert page.evaluate("(rowId) => document.getElementById(rowId) === window.__row", f"visit-{ours.pk}")
    assert page.evaluate("window.scrollY === window.__scrollY")
    # Keyboard users carry on from where they were: the next Tab goes on from the button.
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("window.__row.contains(document.activeElement)")
