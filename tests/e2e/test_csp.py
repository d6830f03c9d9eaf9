"""The pages under the real Content-Security-Policy in chromium (the conftest fails any test whose pages report
a violation): charts, print buttons, the visit page, the board's polling, and a reception screen from enrolment
to being switched off."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.models import BoardScreen
from tests.factories import make_authorised_visit, make_reported_visit
from visits.field.services import visit_check_in
from visits.models import CheckInKind

pytestmark = pytest.mark.e2e


@pytest.fixture
def board_settings(settings):
    settings.BOARD_POLL_SECONDS = 1


def out_now(cast):
    visit = make_authorised_visit(
        lead=cast.staff, second=cast.staff2, authoriser=cast.dsl, start=timezone.now() - datetime.timedelta(minutes=5)
    )
    visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.CHECKED_OUT)
    return visit


def test_the_watcher_catches_a_violation(page, live_server, cast, log_in, csp_violations):
    """So that a clean run means something: an inline style is blocked and reported."""
    log_in(page, cast.dsl)
    page.evaluate("document.head.insertAdjacentHTML('beforeend', '<style>body { color: red }</style>')")
    page.wait_for_timeout(200)
    assert any("style-src" in v for v in csp_violations)
    assert page.evaluate("getComputedStyle(document.body).color") != "rgb(255, 0, 0)"
    csp_violations.clear()


def test_visit_dashboard_and_charts_work_with_no_violation(page, live_server, cast, log_in):
    visit = make_reported_visit(lead=cast.staff, visit_fields={"second": cast.staff2})
    log_in(page, cast.dsl)
    page.goto(f"{live_server.url}/visits/{visit.pk}/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto(f"{live_server.url}/dashboard/")
    page.goto(f"{live_server.url}/figures/")
    chart = page.locator("svg.figure-chart").first
    expect(chart).to_be_visible()
    assert chart.bounding_box()["width"] > 200
    # The menu's dropdown (Bootstrap's script) still opens.
    page.get_by_role("button", name="Safeguarding").or_(page.get_by_role("link", name="Safeguarding")).click()
    expect(page.get_by_role("link", name="Concerns")).to_be_visible()


def test_print_buttons_work_without_inline_handlers(page, live_server, cast, log_in):
    page.context.add_init_script("window.print = function () { window.__printed = (window.__printed || 0) + 1; };")
    log_in(page, cast.office)
    page.goto(f"{live_server.url}/board/timetable/")
    page.get_by_role("button", name="Print").click()
    assert page.evaluate("window.__printed") == 1
    page.context.clear_cookies()
    log_in(page, cast.dsl)
    page.goto(f"{live_server.url}/figures/print/")
    page.get_by_role("button", name="Print").click()
    assert page.evaluate("window.__printed") == 1


def test_the_board_polls_under_the_policy(page, live_server, cast, log_in, board_settings):
    visit = out_now(cast)
    log_in(page, cast.office)
    with page.expect_response(lambda r: "/board/live/" in r.url) as first:
        pass
    assert first.value.status in (200, 304)
    with page.expect_response(lambda r: "/board/live/" in r.url):
        pass
    expect(page.locator(f"#visit-{visit.pk}")).to_be_visible()
    expect(page.locator("#connection-lost")).to_be_hidden()


def test_a_reception_screen_from_enrolment_to_switched_off(browser, live_server, cast, log_in, board_settings):
    visit = out_now(cast)
    desk = browser.new_context()
    admin = desk.new_page()
    log_in(admin, cast.trust_admin)
    admin.goto(f"{live_server.url}/board/screens/")
    admin.get_by_label("School").select_option(str(cast.school.pk))
    admin.get_by_label("Name").fill("Reception, main entrance")
    admin.get_by_role("button", name="Register and get its enrolment link").click()
    link = admin.locator("#enrolment-link").get_attribute("href")

    wall = browser.new_context(viewport={"width": 1920, "height": 1080})
    screen = wall.new_page()
    screen.goto(link)
    expect(screen.get_by_text("Oakfield Test Primary")).to_be_visible()
    screen.get_by_role("button", name="Use this browser as the screen").click()
    screen.wait_for_url("**/board/")
    expect(screen.locator(f"#visit-{visit.pk}")).to_be_visible()
    expect(screen.get_by_text("Reception screen: Reception, main entrance")).to_be_visible()
    assert screen.get_by_role("button", name="Log out").count() == 0
    with screen.expect_response(lambda r: "/board/live/" in r.url) as poll:
        pass
    assert poll.value.status in (200, 304)

    admin.goto(f"{live_server.url}/board/screens/")
    admin.get_by_role("button", name="Switch off Reception, main entrance").click()
    expect(admin.get_by_text("Switched off Reception, main entrance")).to_be_visible()
    assert BoardScreen.objects.get().revoked_at is not None
    # The next poll is refused and the screen says so, showing none of the board.
    expect(screen.get_by_role("heading", name="This screen was switched off")).to_be_visible(timeout=10_000)
    expect(screen.locator(f"#visit-{visit.pk}")).to_have_count(0)
    desk.close()
    wall.close()


def test_the_admin_pages_trust_admins_use_work_under_the_policy(page, live_server, cast, admin_user, log_in):
    log_in(page, admin_user, password="password")
    for path in ["/admin/", f"/admin/core/school/{cast.school.pk}/change/", "/admin/core/homevisitpolicy/add/"]:
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("#content")).to_be_visible()
    # The policy form's inline rows are added by the admin's own script.
    rows = page.locator("tr.dynamic-escalation_steps")
    before = rows.count()
    page.get_by_role("button", name="Add another Escalation step").click()
    assert rows.count() == before + 1
