"""A member of staff requests a visit on a phone; a DSL approves it; the member of staff sees it authorised."""

import datetime

import pytest
from django.utils import timezone

from tests.factories import ChildFactory
from visits.models import Visit, VisitStatus

pytestmark = pytest.mark.e2e


def test_staff_submit_on_a_phone_and_a_dsl_approves(browser, live_server, cast, log_in):
    ChildFactory(household__school=cast.school, first_name="Juniper", last_name="Wrenfield")
    ChildFactory(household__school=cast.other_school, first_name="Juniper", last_name="Farshore")
    day = timezone.localdate() + datetime.timedelta(days=7)

    phone = browser.new_context(viewport={"width": 360, "height": 780})
    page = phone.new_page()
    log_in(page, cast.staff)
    page.goto(f"{live_server.url}/visits/new/")
    # The child picker searches the user's own school as they type (htmx).
    page.get_by_label("Child or children").fill("junip")
    page.get_by_label("Juniper Wrenfield").check()
    assert page.get_by_text("Farshore").count() == 0
    page.get_by_label("Purpose").select_option("attendance")
    page.get_by_label("Reason").fill("Absent since Monday, no calls returned.")
    page.get_by_label("Outcome wanted").fill("See Juniper and agree a return date.")
    page.get_by_label("Visit date").fill(day.isoformat())
    page.get_by_label("Start time").fill("10:00")
    page.get_by_label("How long (minutes)").fill("30")
    assert page.get_by_label("Back at school by").input_value() == "10:30"  # worked out as it is typed
    page.get_by_label("Back at school by").fill("11:00")
    page.get_by_label("Second visitor", exact=True).select_option(str(cast.staff2.pk))
    # Nothing on the form is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_role("button", name="Submit for authorisation").click()
    page.wait_for_load_state()
    assert page.get_by_text("Request sent for authorisation. A DSL or the Principal decides it.").is_visible()
    assert page.get_by_text("Status: Awaiting authorisation").is_visible()
    visit = Visit.objects.get()

    desk = browser.new_context()
    dsl_page = desk.new_page()
    log_in(dsl_page, cast.dsl)
    dsl_page.goto(f"{live_server.url}/approvals/")
    dsl_page.get_by_role("link", name="Attendance visit").click()
    dsl_page.get_by_label("Approved").check()
    dsl_page.get_by_label("Conditions (if approving)").fill("Ring the office on arrival.")
    # Nobody on it works with Juniper or her family yet: the DSL says why this pair is right.
    dsl_page.get_by_label("Why you accept this pair (if approving)").fill("Her key worker is on a course this week.")
    dsl_page.get_by_role("button", name="Record decision").click()
    dsl_page.wait_for_load_state()
    assert dsl_page.get_by_text("Decision recorded").is_visible()
    assert dsl_page.get_by_text("No requests are waiting for a decision.").is_visible()

    page.reload()
    assert page.get_by_text("Status: Authorised").is_visible()
    assert page.get_by_text("Ring the office on arrival.").first.is_visible()
    visit.refresh_from_db()
    assert visit.status == VisitStatus.AUTHORISED
    phone.close()
    desk.close()
