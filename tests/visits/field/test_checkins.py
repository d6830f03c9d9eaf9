"""Field check-ins from a phone, by the pair or by the office on their behalf."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError

from tests.factories import make_authorised_visit, make_visit
from tests.helpers import fresh_case
from tests.visits.field.pages import shown
from visits.departure.services import check_out_blockers
from visits.field.services import visit_check_in
from visits.models import AlertKind, CheckInKind, VisitAlert, VisitStatus

UTC = datetime.UTC
START = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def at(hour, minute, second=0):
    return time_machine.travel(datetime.datetime(2026, 11, 23, hour, minute, second, tzinfo=UTC), tick=False)


@pytest.fixture
def visit(cast):
    with at(9, 0):
        return make_authorised_visit(lead=cast.staff, second=cast.staff2, authoriser=cast.dsl, start=START)


def field_url(visit):
    return f"/visits/{visit.pk}/field/"


def post(client, user, visit, **data):
    client.force_login(user)
    return client.post(field_url(visit), data)


def test_who_may_open_the_field_page(client, cast, visit, subtests):
    for who, status in [
        ("staff", 200),
        ("staff2", 200),
        ("office", 200),
        ("outsider", 404),
        ("dsl", 404),
        ("principal", 404),
        ("trust_admin", 404),
        ("other_dsl", 404),
        ("other_staff", 404),
    ]:
        with subtests.test(who=who, status=status), fresh_case(client):
            client.force_login(getattr(cast, who))
            assert client.get(field_url(visit)).status_code == status


def test_anonymous_is_sent_to_log_in(client, visit):
    response = client.get(field_url(visit))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_the_field_page_is_phone_sized_with_one_tap_buttons(client, cast, visit):
    client.force_login(cast.staff)
    html = shown(client.get(field_url(visit)).content.decode())
    assert 'name="viewport"' in html
    assert "btn-lg" in html and "w-100" in html
    assert "Checked out of school" in html
    assert "Arrived" not in html  # only what makes sense now
    assert visit.reason not in html


def test_the_pair_goes_through_the_whole_visit(client, cast, visit):
    steps = [
        ("checked_out", VisitStatus.OUT, (10, 0)),
        ("arrived", VisitStatus.ON_SITE, (10, 10)),
        ("left", VisitStatus.LEFT, (10, 35)),
        ("returned", VisitStatus.RETURNED, (10, 45)),
    ]
    for kind, status, (hour, minute) in steps:
        with at(hour, minute):
            response = post(client, cast.staff, visit, kind=kind, confirm="yes")
        assert response.status_code == 302
        visit.refresh_from_db()
        assert visit.status == status
    assert visit.checked_out_at == START
    assert visit.arrived_at == datetime.datetime(2026, 11, 23, 10, 10, tzinfo=UTC)
    assert visit.alert_due_at is None
    assert list(visit.checkins.values_list("kind", flat=True)) == ["checked_out", "arrived", "left", "returned"]
    assert not visit.checkins.filter(on_behalf=True).exists()


def test_the_office_records_a_check_in_on_the_pairs_behalf_and_is_named(client, cast, visit):
    with at(10, 0):
        visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.CHECKED_OUT)
    with at(10, 12):
        response = post(client, cast.office, visit, kind="arrived")
    assert response.status_code == 302
    checkin = visit.checkins.get(kind=CheckInKind.ARRIVED)
    assert checkin.recorded_by == cast.office and checkin.on_behalf
    visit.refresh_from_db()
    assert visit.status == VisitStatus.ON_SITE
    assert visit.transitions.last().actor == cast.office


def test_not_returning_finishes_the_visit_safely_from_on_site(client, cast, visit):
    with at(10, 0):
        visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.CHECKED_OUT)
        visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.ARRIVED)
    with at(10, 30):
        post(client, cast.staff2, visit, kind="not_returning", confirm="yes")
    visit.refresh_from_db()
    assert visit.status == VisitStatus.RETURNED and visit.alert_due_at is None
    assert "finished and safe" in visit.transitions.last().note


def test_check_out_is_refused_until_the_visit_is_ready(client, cast):
    with at(9, 0):
        alone = make_visit(lead=cast.staff, start=START)
    with at(10, 0):
        response = post(client, cast.staff, alone, kind="checked_out")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Visit authorised: The visit is draft" in html
    assert "Safe word agreed: not met" in html and "No risk assessment for this household yet" in html
    assert "at least two visitors" in html and "lead&#x27;s mobile" in html
    alone.refresh_from_db()
    assert alone.status == VisitStatus.DRAFT and not alone.checkins.exists()


def test_departure_blockers_pass_for_an_authorised_pair_with_a_mobile(cast, visit):
    assert check_out_blockers(visit, actor=cast.staff) == []


def test_a_check_in_that_does_not_fit_the_status_is_refused(cast, visit):
    with pytest.raises(ValidationError, match="while the visit is authorised"):
        visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.ARRIVED)


def test_running_late_beyond_the_policy_shows_why_beside_the_field(client, cast, visit):
    with at(10, 0):
        visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.CHECKED_OUT)
    with at(10, 30):
        assert post(client, cast.staff, visit, kind="extended", minutes="20").status_code == 302
        response = post(client, cast.staff, visit, kind="extended", minutes="20")
    assert response.status_code == 400
    assert "is-invalid" in response.content.decode()
    visit.refresh_from_db()
    assert visit.due_back == datetime.datetime(2026, 11, 23, 11, 10, tzinfo=UTC)


def test_the_quick_check_in_is_a_discreet_duress_alert(client, cast, visit):
    with at(10, 0):
        visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.CHECKED_OUT)
    with at(10, 20):
        response = post(client, cast.staff2, visit, kind="quick")
        assert response.status_code == 302
        page = client.get(response.url).content.decode()
    assert "Check-in sent." in page and "duress" not in page.lower()
    alert = VisitAlert.objects.get(visit=visit)
    assert alert.kind == AlertKind.DURESS and alert.is_police_prompt
