"""On a 360 px phone: what is needed next on a visit's page is on the first screen, links open what they point to,
the lists and the board are cards with the status first and never scroll sideways, and chart labels fit."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.roles import Role
from tests.factories import (
    ChildFactory,
    make_authorised_visit,
    make_member,
    make_reported_visit,
    make_visit,
    tomorrow_at,
    walk_visit,
)
from visits.field.services import visit_check_in
from visits.models import CheckInKind

pytestmark = pytest.mark.e2e

PHONE = {"width": 360, "height": 780}


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": PHONE}


def top_of(locator) -> float:
    """How far down the page (from its top, whatever the scroll) the element starts, in CSS pixels."""
    return locator.evaluate("e => e.getBoundingClientRect().top + window.scrollY")


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_visit_page_puts_what_is_needed_next_on_the_first_screen(page, live_server, cast, log_in):
    child = ChildFactory(household__school=cast.school, household__name="Pellingham-Okonkwo-Featherstonehaugh")
    not_ready = make_visit(lead=cast.staff, second=cast.staff2, child=child, start=tomorrow_at(10))
    walk_visit(not_ready, cast.staff, "authorised")  # authorised, but nothing prepared: not ready to go
    ready = make_authorised_visit(lead=cast.staff, second=cast.staff2, authoriser=cast.dsl, start=tomorrow_at(13))
    back = make_visit(lead=cast.staff, second=cast.staff2, start=timezone.now() - datetime.timedelta(days=1))
    walk_visit(back, cast.staff, "returned")
    log_in(page, cast.staff)

    found = {}
    page.goto(f"{live_server.url}/visits/{not_ready.pk}/")
    checklist = page.get_by_role("heading", name="Before leaving school")
    found["not ready: the checklist"] = top_of(checklist)
    field = page.get_by_role("link", name="Field page")
    expect(field).not_to_have_class(re.compile(r"\bbtn-primary\b"))  # not the thing to do while not ready

    page.goto(f"{live_server.url}/visits/{ready.pk}/")
    go = page.get_by_role("link", name="Ready: open the field page to check out")
    expect(go).to_have_class(re.compile(r"\bbtn-primary\b"))
    found["ready: the field page"] = top_of(go)

    page.goto(f"{live_server.url}/visits/{back.pk}/")
    form = page.get_by_role("link", name="Write the Home Visit Form")
    found["back: the Home Visit Form"] = top_of(form)

    print(
        "\n"
        + "\n".join(f"{what}: starts {y:.0f} px down (screen is {PHONE['height']} px)" for what, y in found.items())
    )
    assert all(y + 40 < PHONE["height"] for y in found.values()), found
    assert no_sideways_scroll(page)


def test_a_link_to_a_collapsed_section_opens_it(page, live_server, cast, log_in):
    visit = make_visit(lead=cast.staff, second=cast.staff2)
    walk_visit(visit, cast.staff, "authorised")  # the family not yet told
    log_in(page, cast.staff)
    page.goto(f"{live_server.url}/visits/{visit.pk}/")
    method = page.get_by_label("How the family was told")
    expect(method).to_be_hidden()  # inside the collapsed "Record how the family was told"
    page.get_by_role("link", name="Record how the family was told").click()
    expect(method).to_be_visible()
    expect(page.get_by_role("button", name="Record how the family was told")).to_be_visible()
    assert page.get_by_role("button", name="Record", exact=True).count() == 0  # every button says what it records


def test_the_lists_are_cards_with_the_status_first_and_no_page_scrolls_sideways(page, live_server, cast, log_in):
    child = ChildFactory(household__school=cast.school, household__name="Featherstonehaugh-Cholmondeley")
    visits = []
    start = timezone.now() - datetime.timedelta(minutes=20)
    for lead, second in ((cast.staff, cast.staff2), (cast.outsider, make_member("staff4", cast.school, Role.STAFF))):
        visit = make_authorised_visit(lead=lead, second=second, authoriser=cast.dsl, child=child, start=start)
        visit_check_in(visit=visit, actor=lead, kind=CheckInKind.CHECKED_OUT, now=visit.scheduled_start)
        visits.append(visit)
    make_reported_visit(lead=cast.staff, visit_fields={"second": cast.staff2, "start": tomorrow_at(15)})

    def status_comes_first(row, status):
        """Measured in one go (the board's polls may move the page between two measurements)."""
        cells = row.evaluate(
            """(row, status) => [...row.querySelectorAll('td')].map(td => {
                const box = td.getBoundingClientRect();
                return {top: box.top, right: box.right, status: td.contains(status)};
            })""",
            status.element_handle(),
        )
        first = min(cells, key=lambda cell: cell["top"])
        assert first["status"], f"the status is not first on the card: {cells}"
        assert all(cell["right"] <= PHONE["width"] for cell in cells), "a cell reaches past the screen's edge"

    log_in(page, cast.dsl)
    pages = ["/visits/", "/dashboard/", "/approvals/", "/visits/search/", "/visits/actions/mine/", "/figures/"]
    for path in pages:
        page.goto(f"{live_server.url}{path}")
        assert no_sideways_scroll(page), f"{path} scrolls sideways on a 360 px phone"
    page.goto(f"{live_server.url}/visits/")
    row = page.locator("tbody tr").first
    status_comes_first(row, row.locator(".status-badge"))

    page.goto(f"{live_server.url}/board/")
    row = page.locator(f"#visit-{visits[0].pk}")
    expect(row).to_be_visible()
    assert no_sideways_scroll(page), "the board scrolls sideways on a 360 px phone"
    status_comes_first(row, row.locator(".row-state"))


def test_chart_labels_fit_on_a_phone(page, live_server, cast, log_in):
    for hour in (9, 13):
        make_reported_visit(lead=cast.staff, visit_fields={"second": cast.staff2, "start": tomorrow_at(hour)})
    log_in(page, cast.dsl)
    page.goto(f"{live_server.url}/figures/")
    charts = page.locator("svg.figure-chart")
    assert charts.count() >= 4
    outside = page.evaluate(
        """() => [...document.querySelectorAll('svg.figure-chart')].flatMap(svg => {
            const box = svg.getBoundingClientRect();
            return [...svg.querySelectorAll('text')].map(t => [t.textContent, t.getBoundingClientRect()])
              .filter(([, r]) => r.left < box.left - 0.5 || r.right > box.right + 0.5)
              .map(([text]) => text);
        })"""
    )
    assert outside == [], f"chart labels cut off at the chart's edge: {outside}"
    assert no_sideways_scroll(page)
    # Labels are read at the size the chart was drawn at, not shrunk to fit.
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('svg.figure-chart text')).fontSize)")
    scale = page.evaluate(
        "(() => { const s = document.querySelector('svg.figure-chart'); "
        "return s.getBoundingClientRect().width / s.viewBox.baseVal.width; })()"
    )
    assert size * scale >= 12, f"chart labels drawn at {size * scale:.1f} px"
