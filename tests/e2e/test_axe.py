"""axe-core (vendored in tests/e2e/vendor/, no network) over every page each role can open, in chromium at a desk's
width and a phone's, against WCAG 2.2 A and AA. Any violation fails the test, listed with its page.

The pages come from the access matrix (tests/test_access_matrix.py): every URL the resolver knows, filled with the
records of its world (tests/access_world.py), opened by each role its rule lets GET it. A new page is checked as
soon as it has a rule there. The world has a visit out now with a duress alert open, so the board is checked with
its alert card and police prompt showing. Some forms are also sent empty, to check them showing their errors.
Left out: the Django admin (Django's own pages), and answers that are not whole HTML pages (PDFs, CSV, the
fragments htmx fetches: the board's live fragment is checked inside the board).
"""

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from pytest_django.live_server_helper import LiveServer

from tests.access_world import build_world
from tests.e2e.conftest import _a_school_morning
from tests.helpers import mark_second_factor_passed
from tests.test_access_matrix import USERS, is_in, rules_for, url_for, walk

pytestmark = pytest.mark.e2e

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
WIDTHS = {"desk": {"width": 1280, "height": 900}, "phone": {"width": 360, "height": 780}}

# One person of each role (as the access world names them), and nobody signed in.
PEOPLE = [
    "oakfield-staff1",  # the lead of A's visits (and their requester)
    "oakfield-staff2",  # the second visitor
    "oakfield-staff3",  # visiting staff on none of them
    "oakfield-dsl",
    "oakfield-principal",
    "oakfield-office",
    "trust-admin",
    "",  # anonymous: the log-in pages and a reception screen's enrolment
]

# Pages whose form is also sent empty (browser validation off), to check the page that shows its errors:
# URL name -> the button that sends it, and who presses it.
ERROR_FORMS = {
    "login": ("Log in", ""),
    "visits:new": ("Submit for authorisation", "oakfield-staff3"),
    "visits:report": ("Submit the form", "oakfield-staff1"),
    "concern_new": ("Send to the DSLs", "oakfield-staff1"),
    "incident_new": ("Record the incident", "oakfield-staff2"),
    "approval_decide": ("Record decision", "oakfield-dsl"),
    "board": ("Record what I did", "oakfield-office"),  # nothing chosen: the duress card says why
    "safeguarding:prohibited_add": ("Add to the list", "oakfield-dsl"),
    "safeguarding:training_add": ("Record training", "oakfield-principal"),
    "memberships": ("Grant", "trust-admin"),
    "board-screens": ("Register and get its enrolment link", "trust-admin"),
}

# Pages that are worth checking with a query in the URL too.
EXTRA = [("figures", "term=2026-winter")]  # an unknown term: the error beside the field

# django-allauth's pages (sign-in, second factor, password) look the same to every signed-in person: they are
# checked as one of them, and as nobody signed in.
THIRD_PARTY_AS = {"", "oakfield-office"}

RUN_AXE = """async ([tags]) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary})),
  }));
}"""


@dataclass
class Page:
    name: str  # the URL's name, as the access matrix calls it
    url: str
    fallback: str = ""  # the URL without its query, when that answers with a file (search?format=csv)
    submit: str = ""  # a button to press with the form empty


def pages_for(world, username: str) -> list[Page]:
    """Every page this person may open: the access matrix's rules, with its world's records in the URLs."""
    who = USERS[username]
    found = []
    for pattern in walk():
        for rule in rules_for(pattern):
            if rule.kind == "admin" or (rule.kind == "third_party" and pattern.params):
                continue
            if rule.kind == "third_party" and username not in THIRD_PARTY_AS:
                continue
            if rule.kind == "third_party" or is_in(who, rule.get) or is_in(who, rule.get_soft):
                url = url_for(pattern, rule, world)
                button, sender = ERROR_FORMS.get(pattern.key, ("", None))
                found.append(Page(pattern.key, url, url.split("?")[0], button if sender == username else ""))
    for name, query in EXTRA:
        found += [Page(name, f"{p.fallback}?{query}") for p in found if p.name == name][:1]
    found.append(Page("404", "/no-such-page/"))
    return found


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    """The access world, built once for the module at a school morning and committed, with a live server of the
    module's own: the walks only read (and send forms that are refused), so every role's walk can share them,
    where pytest-django's live_server would empty the database after each. Emptied at the end, as it would."""
    morning = time_machine.travel(_a_school_morning(), tick=True)
    morning.start()
    server = LiveServer("localhost")
    server._live_server_modified_settings.enable()
    try:
        with django_db_blocker.unblock():
            world = build_world()
            world.sessions = {name: _session(world.users[name]) for name in PEOPLE if name}
        yield server.url, world
    finally:
        morning.stop()
        server._live_server_modified_settings.disable()
        server.stop()
        with django_db_blocker.unblock():  # as TransactionTestCase empties it (the sequences are not the app's)
            call_command("flush", interactive=False, verbosity=0, reset_sequences=False)


def _session(user) -> str:
    """A signed-in session (second factor passed): the log-in pages themselves are checked as anonymous."""
    client = Client()
    client.force_login(user)
    mark_second_factor_passed(client, user)
    return client.cookies["sessionid"].value


def is_whole_page(response) -> bool:
    """A page of the site, not a PDF, a CSV, JSON or a fragment for htmx."""
    if not response.headers.get("content-type", "").startswith("text/html"):
        return False
    return response.text().lstrip()[:15].lower() == "<!doctype html>"


def check(page, where: str, problems: list) -> None:
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE)
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => done()))")  # after a resize's handlers
    for v in page.evaluate(RUN_AXE, [TAGS]):
        for node in v["nodes"]:
            problems.append(f"{where}: {v['id']} ({v['impact']}) at {node['target']}: {v['help']}")


# django_db: the test itself only browses, but its live server needs the test database set up and unblocked.
@pytest.mark.django_db
@pytest.mark.parametrize("username", PEOPLE, ids=[p or "anonymous" for p in PEOPLE])
def test_every_page_passes_axe(browser, site, username, settings):
    settings.BOARD_POLL_SECONDS = 3600  # the board's poll must not change the page while axe reads it
    base, world = site
    context = browser.new_context()
    if username:
        context.add_cookies([{"name": "sessionid", "value": world.sessions[username], "url": base}])
    problems = []
    checked = walk_pages(context, base, world, username, problems)
    context.close()
    print(f"\naxe: {checked} pages checked as {username or 'anonymous'}")
    assert checked, "no page was checked"
    assert problems == [], "axe found WCAG 2.2 A/AA violations:\n" + "\n".join(problems)


def walk_pages(context, base, world, username, problems) -> int:
    """Opens each page this person may, checks it at both widths (and some forms sent empty); returns how many
    pages were checked, adds what axe found to `problems`."""
    page = context.new_page()
    seen, checked = set(), 0
    for target in pages_for(world, username):
        answer = context.request.get(base + target.url)
        if not is_whole_page(answer) and target.fallback != target.url:
            answer = context.request.get(base + target.fallback)
        landed = urlsplit(answer.url)
        url = f"{landed.path}{'?' + landed.query if landed.query else ''}"
        if url in seen or not is_whole_page(answer):
            continue  # a redirect to a page already checked; a PDF, CSV or fragment
        seen.add(url)
        page.goto(base + url)
        for width, size in WIDTHS.items():  # the same page, laid out again at each width
            page.set_viewport_size(size)
            check(page, f"{username or 'anonymous'} {width} {url} [{target.name}]", problems)
            checked += 1
        if target.submit and url == target.url:
            for width, size in WIDTHS.items():
                page.set_viewport_size(size)
                page.goto(base + url)
                where = f"{username or 'anonymous'} {width} {url} [{target.name}] sent empty"
                page.evaluate("document.querySelectorAll('form').forEach(f => { f.noValidate = true; })")
                button = page.get_by_role("button", name=target.submit, exact=True).first
                if not button.count():
                    problems.append(f"{where}: no button named {target.submit!r} to press")
                    break
                with page.expect_navigation():
                    button.click()
                check(page, where, problems)
                checked += 1
    return checked
