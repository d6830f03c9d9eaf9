"""No signal on the doorstep: taps wait on the phone (its outbox), the page opens from the phone, and when the signal
returns they reach school once each, in order, and the office board shows the phone's time beside school's."""

import datetime
import re
import time

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import make_authorised_visit
from visits.field.services import visit_check_in
from visits.models import CheckIn, CheckInKind, VisitStatus

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 360, "height": 780}}


def until(page, script: str, seconds: float = 10) -> None:
    """Wait for a promise-returning expression in the page to come true."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(script):
        assert time.monotonic() < deadline, f"never true: {script}"
        time.sleep(0.1)


def test_taps_with_no_signal_wait_then_reach_the_board_in_order_with_both_times(browser, live_server, cast, log_in):
    start = timezone.now() - datetime.timedelta(minutes=30)
    visit = make_authorised_visit(lead=cast.staff, second=cast.staff2, authoriser=cast.dsl, start=start)
    visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.CHECKED_OUT, now=start)

    phone = browser.new_context(**PHONE)
    page = phone.new_page()
    # The phone's clock runs 14 minutes behind school's: the board shows both times when they differ.
    page.clock.install(time=timezone.now() - datetime.timedelta(minutes=14))
    log_in(page, cast.staff)
    page.goto(f"{live_server.url}/visits/{visit.pk}/field/")
    # Opened in school: the service worker keeps this page (and the visit's) on the phone.
    until(page, "navigator.serviceWorker.ready.then(() => !!navigator.serviceWorker.controller)")
    until(page, "caches.open('homevisits-pages').then(c => c.match(location.pathname)).then(r => !!r)")
    assert page.evaluate("navigator.storage.persisted().then(() => true)")

    phone.set_offline(True)
    page.get_by_role("button", name="Arrived").click()
    expect(page.get_by_text("1 waiting to send")).to_be_visible()
    expect(page.locator(".status-badge")).to_have_text("Status: On site (waiting to send)")
    page.get_by_role("button", name="Left the property").click()
    expect(page.get_by_text("2 waiting to send")).to_be_visible()
    # With no signal at all the page still opens, from the phone, and still has them.
    page.reload()
    expect(page.get_by_text("2 waiting to send")).to_be_visible()
    visit.refresh_from_db()
    assert visit.status == VisitStatus.OUT and not visit.checkins.filter(kind=CheckInKind.ARRIVED).exists()

    phone.set_offline(False)  # the `online` event sends them
    expect(page.get_by_text("Last check-in reached school at")).to_be_visible(timeout=15000)
    expect(page.locator(".status-badge")).to_have_text("Status: Left the property")
    expect(page.get_by_text("waiting to send")).to_have_count(0)
    visit.refresh_from_db()
    assert visit.status == VisitStatus.LEFT
    arrived, left = CheckIn.objects.filter(visit=visit, kind__in=["arrived", "left"]).order_by("at", "pk")
    assert (arrived.kind, left.kind) == ("arrived", "left")
    assert arrived.reached_late and left.reached_late

    # A replay of the same tap (the phone never heard the answer) changes nothing.
    before = CheckIn.objects.filter(visit=visit).count()
    answer = page.evaluate(
        """([url, id]) => fetch('/visits/field/token/').then(r => r.json()).then(t => fetch(url, {
             method: 'POST', headers: {'Content-Type': 'application/json', 'X-CSRFToken': t.token},
             body: JSON.stringify({client_id: id, kind: 'arrived', phone_at: new Date().toISOString()})
           })).then(r => r.json())""",
        [f"/visits/{visit.pk}/field/send/", str(arrived.client_id)],
    )
    assert answer["status"] == "replay"
    assert CheckIn.objects.filter(visit=visit).count() == before

    phone.close()
    office_screen = browser.new_context()
    office = office_screen.new_page()
    log_in(office, cast.office)
    office.goto(f"{live_server.url}/board/")

    def hhmm(moment):
        return f"{timezone.localtime(moment):%H:%M}"

    times = office.locator(f"#visit-{visit.pk} .checkin-times")
    expect(times).to_contain_text(
        re.compile(
            rf"Arrived {hhmm(arrived.phone_at)}, reached school {hhmm(arrived.at)} · "
            rf"Left {hhmm(left.phone_at)}, reached school {hhmm(left.at)}"
        )
    )
    office_screen.close()


def test_with_the_visitors_consent_the_quick_check_in_sends_the_phones_location(browser, live_server, cast, log_in):
    start = timezone.now() - datetime.timedelta(minutes=30)
    visit = make_authorised_visit(lead=cast.staff, second=cast.staff2, authoriser=cast.dsl, start=start)
    visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.CHECKED_OUT, now=start)
    phone = browser.new_context(
        **PHONE, permissions=["geolocation"], geolocation={"latitude": 51.50135, "longitude": -0.14189, "accuracy": 9}
    )
    page = phone.new_page()
    log_in(page, cast.staff)
    page.goto(f"{live_server.url}/visits/{visit.pk}/field/")
    # Nothing is sent until the visitor says so.
    page.get_by_role("button", name="Arrived").click()
    expect(page.get_by_text("Check-in sent: Arrived.")).to_be_visible()
    assert CheckIn.objects.get(visit=visit, kind=CheckInKind.ARRIVED).latitude is None

    page.get_by_label("Send this phone's location with my check-ins").check()
    page.get_by_role("button", name="Quick check-in").click()
    expect(page.get_by_text("Check-in sent.")).to_be_visible()
    duress = CheckIn.objects.get(visit=visit, kind=CheckInKind.DURESS)
    assert (str(duress.latitude), str(duress.longitude), duress.accuracy_m) == ("51.50135", "-0.14189", 9)
    # The choice stays with this phone, and the page says nothing of the duress or the location.
    page.reload()
    expect(page.get_by_label("Send this phone's location with my check-ins")).to_be_checked()
    expect(page.get_by_text("51.5")).to_have_count(0)
    phone.close()


def test_a_tap_posted_on_one_bar_that_never_arrives_waits_on_the_phone(browser, live_server, cast, log_in):
    """The phone thinks it has signal (one bar), so the tap is posted as the page's form; the post never gets
    through. The service worker keeps it in the outbox under the id the page gave it and opens the page again."""
    start = timezone.now() - datetime.timedelta(minutes=30)
    visit = make_authorised_visit(lead=cast.staff, second=cast.staff2, authoriser=cast.dsl, start=start)
    visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.CHECKED_OUT, now=start)
    phone = browser.new_context(**PHONE)
    page = phone.new_page()
    log_in(page, cast.staff)
    page.goto(f"{live_server.url}/visits/{visit.pk}/field/")
    until(page, "navigator.serviceWorker.ready.then(() => !!navigator.serviceWorker.controller)")
    until(page, "caches.open('homevisits-pages').then(c => c.match(location.pathname)).then(r => !!r)")

    page.evaluate("Object.defineProperty(Navigator.prototype, 'onLine', {get: () => true}); window.before = 1")
    phone.set_offline(True)
    assert page.evaluate("navigator.onLine")  # so the page posts its form, as with signal
    page.get_by_role("button", name="Arrived").click()
    expect(page.get_by_text("1 waiting to send")).to_be_visible()
    assert page.evaluate("window.before === undefined")  # a new page: the one the service worker kept
    assert not CheckIn.objects.filter(visit=visit, kind=CheckInKind.ARRIVED).exists()

    phone.set_offline(False)
    expect(page.get_by_text("Last check-in reached school at")).to_be_visible(timeout=15000)
    assert CheckIn.objects.filter(visit=visit, kind=CheckInKind.ARRIVED).count() == 1
    phone.close()


def test_signing_out_drops_the_pages_kept_on_the_phone(browser, live_server, cast, log_in):
    start = timezone.now() - datetime.timedelta(minutes=30)
    visit = make_authorised_visit(lead=cast.staff, second=cast.staff2, authoriser=cast.dsl, start=start)
    visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.CHECKED_OUT, now=start)
    phone = browser.new_context(**PHONE)
    page = phone.new_page()
    log_in(page, cast.staff)
    page.goto(f"{live_server.url}/visits/{visit.pk}/field/")
    until(page, "caches.open('homevisits-pages').then(c => c.keys()).then(k => k.length === 2)")  # and the visit's

    page.goto(f"{live_server.url}/")
    page.get_by_role("button", name="Show menu").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log in", exact=True)).to_be_visible()
    until(page, "caches.has('homevisits-pages').then(kept => !kept)")
    # With no signal now, the field page is not there for whoever picks the phone up.
    phone.set_offline(True)
    page.goto(f"{live_server.url}/visits/{visit.pk}/field/")
    expect(page.get_by_text("This page was not saved on this phone")).to_be_visible()
    expect(page.get_by_text(visit.household.address_line1)).to_have_count(0)
    phone.close()
