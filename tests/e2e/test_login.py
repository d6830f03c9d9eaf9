"""A member of staff logs in with a phone-sized browser and lands on their visits."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 360, "height": 780}}


def test_staff_log_in_on_a_phone_and_land_on_visits(page, live_server, cast, log_in):
    log_in(page, cast.staff)
    assert page.url == f"{live_server.url}/visits/"
    assert page.get_by_role("heading", name="Visits").is_visible()
    # The menu collapses behind a labelled button on a phone; opening it shows the request link.
    page.get_by_role("button", name="Show menu").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Request a visit").click()
    # The click starts a navigation: wait for the new page rather than look at the old one.
    expect(page.get_by_role("heading", name="Request a home visit")).to_be_visible()


def test_wrong_password_stays_on_login_with_a_message(page, live_server, cast, log_in):
    log_in(page, cast.staff, password="wrong")
    assert "/accounts/login/" in page.url
    assert page.get_by_text("username and/or password you specified are not correct").is_visible()
