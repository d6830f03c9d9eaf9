"""On a phone: the lead agrees the safe word on the visit page and reveals it with htmx, without leaving the page."""

import pytest

from safeguarding.services import RiskRowInput, risk_assessment_create
from tests.factories import ChildFactory, make_visit

pytestmark = pytest.mark.e2e


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 360, "height": 780}}


def test_lead_agrees_and_reveals_the_safe_word(page, live_server, cast, log_in):
    child = ChildFactory(household__school=cast.school, household__postcode="EB1 4QT")
    visit = make_visit(lead=cast.staff, second=cast.staff2, child=child)
    risk_assessment_create(
        household=child.household,
        actor=cast.staff,
        rows=[RiskRowInput(hazard="Driving", people="Staff", severity="major", likelihood="remote", controls="Care.")],
    )
    log_in(page, cast.staff)
    page.goto(f"{live_server.url}/visits/{visit.pk}/")
    assert page.get_by_role("heading", name="Before leaving school").is_visible()
    page.get_by_label("Agree a safe word").fill("Periwinkle lighthouse")
    page.get_by_role("button", name="Save the safe word").click()
    page.wait_for_load_state()
    assert page.get_by_text("Safe word agreed.").is_visible()
    assert page.get_by_text("Periwinkle lighthouse").count() == 0  # not shown until asked for
    url_before = page.url
    page.get_by_role("link", name="Show the safe word").click()
    page.get_by_text("Periwinkle lighthouse").wait_for()
    assert page.url == url_before  # swapped in place by htmx
