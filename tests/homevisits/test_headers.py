"""Headers on casework pages: no-store, a strict CSP, Permissions-Policy; and `next` never leaves the site."""

import datetime
import re

import pytest

from safeguarding.services import concern_raise
from tests.factories import make_reported_visit, make_visit

INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style[\s>]", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style= attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "on*= handler"),
]


def inline_code(html: str) -> list[str]:
    return [f"{what}: {m.group(0)}" for pattern, what in INLINE for m in pattern.finditer(html)]


@pytest.fixture
def casework(cast):
    visit = make_reported_visit(lead=cast.staff, visit_fields={"second": cast.staff2})
    concern = concern_raise(child=visit.children.first(), raised_by=cast.staff, details="Said they fell.")
    return visit, concern


def casework_pages(visit, concern):
    return [
        ("dsl", f"/visits/{visit.pk}/"),
        ("dsl", "/visits/"),
        ("dsl", "/dashboard/"),
        ("dsl", "/approvals/"),
        ("dsl", "/safeguarding/concerns/"),
        ("dsl", f"/safeguarding/concerns/{concern.pk}/"),
        ("dsl", "/figures/"),
        ("dsl", "/figures/print/"),
        ("dsl", "/visits/new/"),
        ("dsl", "/visits/search/"),
        ("dsl", "/visits/search/?format=csv"),
        ("dsl", f"/visits/{visit.pk}/parent-copy.pdf"),
        ("staff", f"/visits/{visit.pk}/report/"),
        ("staff", "/visits/actions/mine/"),
        ("office", "/board/"),
        ("office", "/board/timetable/"),
        ("trust_admin", "/board/screens/"),
    ]


def test_every_casework_page_pdf_and_csv_is_no_store(client, cast, casework, subtests):
    for who, url in casework_pages(*casework):
        with subtests.test(url=url):
            client.force_login(getattr(cast, who))
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            assert response["Cache-Control"] == "no-store"


def test_the_board_poll_revalidates_instead(client, cast):
    """Its 304s need the browser to keep the last fragment: private, revalidated on every poll."""
    client.force_login(cast.office)
    response = client.get("/board/live/")
    assert response["Cache-Control"] == "private, no-cache"


def test_the_log_in_page_is_not_stored_either(client, db):
    assert "no-store" in client.get("/accounts/login/")["Cache-Control"]


def test_csp_is_strict_and_permissions_policy_turns_devices_off(client, cast):
    client.force_login(cast.dsl)
    response = client.get("/dashboard/")
    csp = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    assert csp["object-src"] == "'none'" and csp["frame-ancestors"] == "'none'"
    assert "unsafe" not in response["Content-Security-Policy"]
    policy = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "payment", "usb"):
        assert f"{feature}=()" in policy
    # The field page may ask for the phone's location (the visitor's choice); no other site framed here may.
    assert "geolocation=(self)" in policy


def test_no_page_carries_inline_script_or_style(client, cast, casework, subtests):
    """The CSP would block them: every behaviour and style lives in static/."""
    visit, concern = casework
    pages = [(who, url) for who, url in casework_pages(visit, concern) if not url.endswith((".pdf", "csv"))]
    pages += [("staff", f"/visits/{make_visit(lead=cast.staff).pk}/field/"), (None, "/accounts/login/")]
    pages += [(None, "/board/screens/enrol/")]
    for who, url in pages:
        with subtests.test(url=url):
            client.logout()
            if who:
                client.force_login(getattr(cast, who))
            html = client.get(url).content.decode()
            assert inline_code(html) == []


def test_the_inline_code_finder_finds_inline_code():
    html = '<script>alert(1)</script><p style="x" onclick="y"></p><style>p{}</style><script src="/a.js"></script>'
    assert len(inline_code(html)) == 4


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "http:evil.example"])
def test_completing_an_action_never_redirects_off_site(client, cast, target):
    from tests.visits.after.test_actions import _action

    action = _action(cast, cast.staff, "Post the letter", datetime.date(2026, 12, 4))
    client.force_login(cast.staff)
    response = client.post(f"/visits/actions/{action.pk}/complete/", {"completion_outcome": "Posted", "next": target})
    assert response.status_code == 302
    assert response["Location"] == "/visits/actions/mine/"


def test_completing_an_action_goes_back_to_the_page_it_came_from(client, cast):
    from tests.visits.after.test_actions import _action

    action = _action(cast, cast.staff, "Post the letter", datetime.date(2026, 12, 4))
    client.force_login(cast.staff)
    response = client.post(
        f"/visits/actions/{action.pk}/complete/", {"completion_outcome": "Posted", "next": "/visits/actions/"}
    )
    assert response["Location"] == "/visits/actions/"
