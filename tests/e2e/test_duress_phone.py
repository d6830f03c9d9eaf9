"""On a phone: a DSL follows the dashboard's red duress banner and confirms the pair are safe, saying how."""

import datetime

import pytest
from django.utils import timezone

from tests.factories import make_authorised_visit
from visits.alerts.services import visit_raise_duress
from visits.field.services import visit_check_in
from visits.models import AlertOutcome, CheckInKind, VisitAlert

pytestmark = pytest.mark.e2e


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 360, "height": 780}}


def test_a_dsl_confirms_safe_from_the_dashboard_banner_on_a_phone(page, live_server, cast, log_in):
    visit = make_authorised_visit(
        lead=cast.staff,
        second=cast.staff2,
        authoriser=cast.principal,
        start=timezone.now() + datetime.timedelta(minutes=5),
    )
    visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.CHECKED_OUT)
    alert = visit_raise_duress(visit=visit, actor=cast.staff2, from_office=False)
    visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.ARRIVED)  # pressed after the code word

    log_in(page, cast.dsl)
    page.goto(f"{live_server.url}/dashboard/")
    page.get_by_role("link", name="Confirm they are safe").click()
    page.wait_for_load_state()
    assert page.get_by_text("Arrived, pressed by").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "it scrolls sideways"
    page.get_by_label("Spoke to them").check()
    page.get_by_label("Who, where and when").fill("Rang the lead at 11:04: both fine, leaving now.")
    page.get_by_role("button", name="Confirm they are safe and close the alert").click()
    page.wait_for_load_state()
    assert page.get_by_text("Confirmed safe: the duress alert is closed").is_visible()
    alert = VisitAlert.objects.get(pk=alert.pk)
    assert alert.outcome == AlertOutcome.SAFE_SPOKE and alert.acknowledged_by == cast.dsl
