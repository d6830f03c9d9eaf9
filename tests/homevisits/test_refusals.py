"""Every refusal is a page in the site's layout that says what was refused, why, and what to do instead, with a
way back (homevisits/refusals.py). The common ones, as a person meets them; the access matrix checks that no 403,
404 or 405 anywhere is bare."""

import html
import re

import pytest
from django.test import Client

from tests.factories import make_authorised_visit, make_visit
from tests.visits.alerts.clock import START, at
from tests.visits.requests import test_approvals as approvals
from visits.alerts.services import visit_raise_duress
from visits.field.services import visit_check_in
from visits.models import CheckInKind, ChecklistOverride, VisitStatus


def refusal(response) -> dict:
    """The refusal's parts as a person reads them (tags stripped)."""
    body = response.content.decode()
    assert 'id="main"' in body and "navbar" in body, "not in the site's layout"

    def text(pattern):
        found = re.search(pattern, body, re.S)
        assert found, f"no {pattern} on the page"
        return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())

    return {
        "what": text(r'<h1 class="h3" id="refusal-what">(.*?)</h1>'),
        "why": text(r'<p class="refusal-why">(.*?)</p>'),
        "instead": text(r'<p class="refusal-instead">(.*?)</p>'),
        "back": tuple(
            html.unescape(part)
            for part in re.search(r'<a class="btn btn-primary refusal-back" href="([^"]*)">([^<]*)</a>', body).groups()
        ),
    }


def test_staff_opening_the_board(client, cast):
    client.force_login(cast.staff)
    response = client.get("/board/")
    assert response.status_code == 403
    page = refusal(response)
    assert page["what"] == "The office board is not for your role"
    assert page["why"] == "Why: The board is for the office, the DSLs and the Principal."
    assert "open the visit from Visits and use its check-in page" in page["instead"]
    assert page["back"] == ("/", "Back to your start page")


def test_a_dsl_approving_what_only_the_principal_may(client, cast, time_machine):
    time_machine.move_to(approvals.NOW, tick=False)
    visit = approvals.requested(cast, start=approvals.at(17, 30), principal_exception_reason="Both carers work.")
    client.force_login(cast.dsl)
    response = client.post(
        f"/approvals/{visit.pk}/",
        {"decision": "approved", "reason": "", "conditions": ""},
        HTTP_REFERER=f"http://testserver/approvals/{visit.pk}/",
    )
    assert response.status_code == 403
    page = refusal(response)
    assert page["what"] == "You cannot record this decision"
    assert "Only the Principal can approve" in page["why"]
    assert "Ask the Principal to decide it" in page["instead"]
    assert page["back"] == (f"/approvals/{visit.pk}/", "Back to the decision page")
    visit.refresh_from_db()
    assert visit.status == VisitStatus.REQUESTED


def test_a_checklist_override_by_the_wrong_role(client, cast):
    visit = make_visit(lead=cast.staff, second=cast.staff2)
    client.force_login(cast.staff)
    response = client.post(
        f"/safeguarding/visits/{visit.pk}/checklist/override/",
        {"item": "risk_assessment", "reason": "Assessed by phone this morning."},
    )
    assert response.status_code == 403
    page = refusal(response)
    assert page["what"] == "You cannot override this checklist item"
    assert "can be overridden by" in page["why"]
    assert "Ask the person the item names" in page["instead"]
    assert page["back"] == (f"/visits/{visit.pk}/", "Back to the visit")
    assert not ChecklistOverride.objects.exists()


def test_a_visit_of_another_school_reads_as_one_that_does_not_exist(client, cast):
    visit = make_visit(lead=cast.staff, second=cast.staff2)
    client.force_login(cast.other_dsl)
    theirs, missing = client.get(f"/visits/{visit.pk}/"), client.get("/visits/999999/")
    assert theirs.status_code == missing.status_code == 404
    page = refusal(theirs)
    assert page == refusal(missing), "a 404 must not tell a hidden record from a missing one"
    assert page["what"] == "Visit not found"
    assert "No such visit." in page["why"] and "says the same either way" in page["why"]
    assert "Find it in your list of visits" in page["instead"]
    assert page["back"] == ("/visits/", "Your visits")


def test_opening_a_button_only_address_as_a_page(client, cast):
    visit = make_visit(lead=cast.staff, second=cast.staff2)
    client.force_login(cast.staff)
    response = client.get(f"/safeguarding/visits/{visit.pk}/checklist/parents/")
    assert response.status_code == 405 and response["Allow"] == "POST"
    page = refusal(response)
    assert page["what"] == "This address only takes a form's button"
    assert page["back"] == (f"/visits/{visit.pk}/", "Back to the visit")


def test_an_expired_form(cast):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(cast.office)
    response = browser.post("/board/visits/1/code-word/", {"confirm": "yes"})
    assert response.status_code == 403
    page = refusal(response)
    assert page["what"] == "Your form was not sent"
    assert "reload the page and send it again" in page["instead"]


@pytest.mark.parametrize("signed_in", [True, False])
def test_an_address_that_is_not_there(client, cast, signed_in):
    if signed_in:
        client.force_login(cast.staff)
    response = client.get("/no-such-page/", HTTP_REFERER="http://testserver/visits/")
    assert response.status_code == 404
    page = refusal(response)
    assert page["what"] == "Not found"
    assert page["back"] == ("http://testserver/visits/", "Back to the page you came from")


def test_a_link_back_never_leaves_the_site(client, cast):
    client.force_login(cast.staff)
    response = client.get("/board/", HTTP_REFERER="https://evil.example/board/")
    assert refusal(response)["back"] == ("/", "Back to your start page")


def test_the_office_confirming_a_duress_alert_is_told_who_can(client, cast):
    with at(9, 0):
        visit = make_authorised_visit(lead=cast.staff, second=cast.staff2, authoriser=cast.dsl, start=START)
    with at(10, 0):
        visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.CHECKED_OUT)
        alert = visit_raise_duress(visit=visit, actor=cast.staff2, from_office=False)
    client.force_login(cast.office)
    with at(10, 5):
        response = client.post(f"/board/alerts/{alert.pk}/confirm-safe/", {"how": "safe_spoke", "note": "Fine."})
    page = refusal(response)
    assert page["what"] == "You cannot confirm the pair are safe"
    assert "Only a DSL or the Principal of Oakfield Test Primary" in page["why"]
    assert "Ring a DSL or the Principal" in page["instead"]
    assert page["back"] == (f"/board/alerts/{alert.pk}/confirm-safe/", "Back to the alert")


def test_a_refusal_in_the_middle_of_a_session_keeps_the_session(client, cast):
    """The refusal page is an ordinary page: the person is still signed in and can carry on."""
    client.force_login(cast.staff)
    client.get("/dashboard/")
    assert client.get("/visits/").status_code == 200
