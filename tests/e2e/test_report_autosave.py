"""The Home Visit Form saves as the lead types on a phone, and comes back after the page is reloaded."""

import pytest

from tests.factories import make_visit, walk_visit
from visits.models import VisitReport, VisitStatus

pytestmark = pytest.mark.e2e


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 360, "height": 780}}


def test_draft_saves_while_typing_and_survives_a_reload(page, live_server, cast, log_in):
    visit = make_visit(lead=cast.staff)
    walk_visit(visit, cast.staff, VisitStatus.RETURNED)
    log_in(page, cast.staff)
    page.goto(f"{live_server.url}/visits/{visit.pk}/report/")
    summary = page.get_by_label("What was discussed and agreed (for the family)")
    summary.fill("We agreed Jonah walks in with Nan.")
    page.get_by_text("Draft saved at").wait_for(timeout=10_000)
    assert VisitReport.objects.get().draft["parent_summary"] == ["We agreed Jonah walks in with Nan."]
    page.reload()
    assert summary.input_value() == "We agreed Jonah walks in with Nan."
    # Submitting with the outcome missing keeps the page, says what is wrong, and loses nothing.
    page.get_by_role("button", name="Submit the form").click()
    assert page.get_by_text("Choose the outcome of the visit.").is_visible()
    assert "Jonah walks in with Nan" in summary.input_value()
