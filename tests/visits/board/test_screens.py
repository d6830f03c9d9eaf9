"""Reception board screens: registered by a trust admin, enrolled once by a link opened on the screen, seeing
its own school's board and nothing else, switched off at once; a forged device cookie gets nothing."""

import datetime

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core import screens
from core.models import AuditEntry, BoardScreen
from core.roles import Role
from tests.factories import make_authorised_visit, make_member
from tests.visits.board.test_board import START, at, out_visit
from visits.field.services import visit_check_in
from visits.models import CheckInKind

COOKIE = settings.BOARD_SCREEN_COOKIE_NAME


def enrolled_client(cast, school=None, name="Reception"):
    """A browser enrolled as a screen of the school, through the pages a trust admin and the screen use."""
    admin = Client()
    admin.force_login(cast.trust_admin)
    school = school or cast.school
    page = admin.post("/board/screens/", {"school": school.pk, "name": name})
    assert page.status_code == 200
    link = page.context["link"]
    screen = Client()
    assert screen.post(link, {"code": page.context["code"]}).status_code == 302
    return screen, BoardScreen.objects.get(school=school, name=name)


@pytest.fixture
def two_boards(cast):
    """A visit out from each school."""
    oak = out_visit(cast)
    river_second = make_member("riversecond", cast.other_school, Role.STAFF)
    with at(8, 0):
        river = make_authorised_visit(
            lead=cast.other_staff, second=river_second, authoriser=cast.other_dsl, start=START
        )
    with at(10, 0):
        visit_check_in(visit=river, actor=cast.other_staff, kind=CheckInKind.CHECKED_OUT)
    return oak, river


def test_registering_shows_a_one_time_link_and_keeps_only_its_hash(client, cast):
    client.force_login(cast.trust_admin)
    page = client.post("/board/screens/", {"school": cast.school.pk, "name": "Reception, main entrance"})
    code = page.context["code"]
    assert code in page.content.decode() and page.context["link"].endswith(f"/board/screens/enrol/{code}/")
    screen = BoardScreen.objects.get()
    assert screen.school == cast.school and screen.created_by == cast.trust_admin
    assert code not in str(BoardScreen.objects.values().get())
    entry = AuditEntry.objects.get(action="board_screen.register")
    assert entry.actor == cast.trust_admin and entry.school == cast.school
    listing = client.get("/board/screens/").content.decode()
    assert "Reception, main entrance" in listing and "Waiting to be enrolled" in listing and code not in listing


def test_a_blank_or_repeated_name_is_refused_beside_the_field(client, cast):
    client.force_login(cast.trust_admin)
    assert client.post("/board/screens/", {"school": cast.school.pk, "name": ""}).status_code == 400
    client.post("/board/screens/", {"school": cast.school.pk, "name": "Reception"})
    again = client.post("/board/screens/", {"school": cast.school.pk, "name": "reception"})
    assert again.status_code == 400 and "already has a screen of that name" in again.content.decode()
    assert BoardScreen.objects.count() == 1


@pytest.mark.parametrize("who", ["staff", "dsl", "principal", "office", "other_dsl"])
def test_only_a_trust_admin_manages_screens(client, cast, who):
    client.force_login(getattr(cast, who))
    assert client.get("/board/screens/").status_code == 403
    assert client.post("/board/screens/", {"school": cast.school.pk, "name": "Mine"}).status_code == 403
    with pytest.raises(PermissionDenied):
        screens.screen_register(actor=getattr(cast, who), school=cast.school, name="Mine")
    assert not BoardScreen.objects.exists()


def test_a_trust_admin_of_one_school_cannot_touch_another_schools_screens(client, cast):
    river_admin = make_member("riveradmin", cast.other_school, Role.TRUST_ADMIN)
    oak_screen, _code = screens.screen_register(actor=cast.trust_admin, school=cast.school, name="Front desk")
    client.force_login(river_admin)
    assert "Front desk" not in client.get("/board/screens/").content.decode()
    assert client.post(f"/board/screens/{oak_screen.pk}/switch-off/").status_code == 404
    assert client.post("/board/screens/", {"school": cast.school.pk, "name": "Sneaky"}).status_code == 400
    with pytest.raises(PermissionDenied):
        screens.screen_revoke(actor=river_admin, screen=oak_screen)
    oak_screen.refresh_from_db()
    assert oak_screen.revoked_at is None


def test_opening_the_link_only_asks_and_posting_spends_it_once(cast):
    screen, code = screens.screen_register(actor=cast.trust_admin, school=cast.school, name="Reception")
    browser = Client()
    page = browser.get(f"/board/screens/enrol/{code}/")
    assert page.status_code == 200 and "Reception" in page.content.decode()
    screen.refresh_from_db()
    assert screen.enrolled_at is None  # a link previewer that fetches it spends nothing
    response = browser.post("/board/screens/enrol/", {"code": code})
    assert response.status_code == 302 and response["Location"] == "/board/"
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] and cookie["path"] == "/board/" and int(cookie["max-age"]) >= 365 * 24 * 3600
    screen.refresh_from_db()
    assert screen.enrolled_at and screen.device_token_hash == screens.token_hash(cookie.value)
    assert AuditEntry.objects.filter(action="board_screen.enrol", object_id=str(screen.pk)).exists()
    again = Client().post("/board/screens/enrol/", {"code": code})
    assert again.status_code == 400 and "has been used" in again.content.decode()
    assert COOKIE not in again.cookies


def test_an_enrolment_link_expires(cast):
    now = datetime.datetime(2026, 11, 23, 9, 0, tzinfo=datetime.UTC)
    _screen, code = screens.screen_register(actor=cast.trust_admin, school=cast.school, name="Reception", now=now)
    later = now + datetime.timedelta(hours=settings.BOARD_SCREEN_ENROLMENT_HOURS, minutes=1)
    with pytest.raises(ValidationError):
        screens.screen_enrol(code=code, now=later)
    screen, _token = screens.screen_enrol(code=code, now=later - datetime.timedelta(minutes=2))
    assert screen.enrolled_at


def test_the_screen_sees_its_own_schools_board_only(cast, two_boards):
    oak, river = two_boards
    screen, _record = enrolled_client(cast)
    with at(10, 20):
        for url in ("/board/", "/board/live/"):
            html = screen.get(url).content.decode()
            assert oak.household.address in html
            assert river.household.address not in html
    river_screen, _record = enrolled_client(cast, school=cast.other_school)
    with at(10, 20):
        html = river_screen.get("/board/").content.decode()
    assert river.household.address in html and oak.household.address not in html


def test_the_screen_shows_nobody_signed_in_and_no_acknowledge_buttons_that_would_fail(cast, two_boards):
    screen, _record = enrolled_client(cast)
    with at(10, 20):
        html = screen.get("/board/").content.decode()
    assert "Reception screen: Reception" in html and "board-screen" in html
    assert "Log out" not in html and "Printable timetable" not in html


def test_the_screen_gets_nothing_but_the_board(cast, two_boards):
    oak, _river = two_boards
    screen, _record = enrolled_client(cast)
    alert_free_posts = [f"/board/visits/{oak.pk}/code-word/", "/board/alerts/1/acknowledge/"]
    urls = [
        "/",
        "/visits/",
        f"/visits/{oak.pk}/",
        f"/visits/{oak.pk}/field/",
        f"/visits/{oak.pk}/parent-copy.pdf",
        "/dashboard/",
        "/approvals/",
        "/safeguarding/concerns/",
        "/board/timetable/",
        "/board/screens/",
        f"/families/households/{oak.household.pk}/",
        "/visits/search/?format=csv",
        "/admin/",
    ]
    with at(10, 20):
        for url in urls:
            response = screen.get(url)
            assert response.status_code in (302, 403, 404), url
            if response.status_code == 302:
                assert "/login/" in response["Location"] or "/admin/login/" in response["Location"], url
            assert oak.household.address not in response.content.decode(), url
        for url in alert_free_posts:
            assert screen.post(url).status_code == 302
    assert not oak.alerts.filter(kind="duress").exists()


def test_switching_off_takes_effect_on_the_next_poll(client, cast, two_boards):
    oak, _river = two_boards
    screen, record = enrolled_client(cast)
    with at(10, 20):
        assert screen.get("/board/live/").status_code == 200  # its identity is now cached
    client.force_login(cast.trust_admin)
    assert client.post(f"/board/screens/{record.pk}/switch-off/").status_code == 302
    with at(10, 20):
        poll = screen.get("/board/live/")
        page = screen.get("/board/")
    assert poll.status_code == 403 and poll["X-Board-Screen"] == "off"
    assert page.status_code == 403 and "This screen was switched off" in page.content.decode()
    for response in (poll, page):
        assert oak.household.address not in response.content.decode()
    entry = AuditEntry.objects.get(action="board_screen.revoke")
    assert entry.actor == cast.trust_admin and entry.object_id == str(record.pk)
    assert "Switched off" in client.get("/board/screens/").content.decode()


@pytest.mark.parametrize("token", ["", "forged", "x" * 43])
def test_a_forged_or_unknown_device_cookie_gets_nothing(cast, two_boards, token):
    oak, _river = two_boards
    enrolled_client(cast)  # a real screen exists; guessing its cookie is another matter
    browser = Client()
    browser.cookies[COOKIE] = token
    with at(10, 20):
        for url in ("/board/", "/board/live/"):
            response = browser.get(url)
            assert response.status_code == 302 and "/login/" in response["Location"]
            assert oak.household.address not in response.content.decode()


def test_the_screens_list_query_count_does_not_grow(client, cast):
    client.force_login(cast.trust_admin)

    def count():
        client.get("/board/screens/")  # the session and the signed-in user are now cached, as on any visit
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/board/screens/").status_code == 200
        return len(queries)

    screens.screen_register(actor=cast.trust_admin, school=cast.school, name="Screen 0")
    few = count()
    for n in range(1, 6):
        screen, _code = screens.screen_register(actor=cast.trust_admin, school=cast.other_school, name=f"Screen {n}")
        if n % 2:
            screens.screen_revoke(actor=cast.trust_admin, screen=screen)
    assert count() == few


def test_a_new_link_re_enrols_and_the_old_browser_stops_being_the_screen(client, cast, two_boards):
    oak, _river = two_boards
    old, record = enrolled_client(cast)
    with at(10, 20):
        assert old.get("/board/live/").status_code == 200
    client.force_login(cast.trust_admin)
    page = client.post(f"/board/screens/{record.pk}/new-link/")
    assert page.status_code == 200
    new = Client()
    assert new.post(page.context["link"], {"code": page.context["code"]}).status_code == 302
    with at(10, 20):
        assert oak.household.address in new.get("/board/").content.decode()
        assert old.get("/board/live/").status_code == 302
    assert AuditEntry.objects.filter(action="board_screen.new_link", actor=cast.trust_admin).exists()
    screens.screen_revoke(actor=cast.trust_admin, screen=record)
    again = client.post(f"/board/screens/{record.pk}/new-link/", follow=True)
    assert "was switched off" in again.content.decode()


def test_a_screens_unchanged_poll_costs_no_query(cast, two_boards):
    """Screens poll every few seconds: who the screen is comes from the cache, like a signed-in user."""
    screen, _record = enrolled_client(cast)
    with at(10, 20):
        first = screen.get("/board/live/")
        with CaptureQueriesContext(connection) as queries:
            again = screen.get("/board/live/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    # (ATOMIC_REQUESTS still opens a savepoint around the request: that is not a query.)
    assert [q["sql"] for q in queries if q["sql"].split()[0] in {"SELECT", "INSERT", "UPDATE", "DELETE"}] == []
