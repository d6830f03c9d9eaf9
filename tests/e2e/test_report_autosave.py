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
    page.get_by_text("Choose the outcome of the visit.").wait_for(timeout=10_000)  # once the page is back
    assert "Jonah walks in with Nan" in summary.input_value()


def test_a_pasted_control_character_is_shown_beside_the_field_and_the_rest_still_saves(page, live_server, cast, log_in):
    visit = make_visit(lead=cast.staff)
    walk_visit(visit, cast.staff, VisitStatus.RETURNED)
    log_in(page, cast.staff)
    page.goto(f"{live_server.url}/visits/{visit.pk}/report/")
    page.get_by_label("Internal notes (school only)").fill("Kitchen was bare.")
    page.get_by_text("Draft saved at").wait_for(timeout=10_000)
    summary = page.get_by_label("What was discussed and agreed (for the family)")
    summary.fill("Pasted from a PDF:\x01 we agreed a bedtime.")
    message = page.locator("#autosave-parent_summary")
    message.get_by_text("invisible control character (U+0001, at character 19)").wait_for(timeout=10_000)
    assert page.get_by_text("except what the message beside a field is about").is_visible()
    if path := __import__("os").environ.get("HOSTILE_SHOT"):
        page.screenshot(path=path, full_page=True)
    assert summary.input_value() == "Pasted from a PDF:\x01 we agreed a bedtime."  # what was typed stays
    draft = VisitReport.objects.get().draft
    assert draft["internal_notes"] == ["Kitchen was bare."] and draft["parent_summary"] == [""]  # as last kept
    summary.fill("Pasted from a PDF: we agreed a bedtime.")
    page.get_by_text("except what the message").wait_for(state="detached", timeout=10_000)
    assert message.inner_text() == ""
    assert VisitReport.objects.get().draft["parent_summary"] == ["Pasted from a PDF: we agreed a bedtime."]
