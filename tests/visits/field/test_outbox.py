"""Check-ins queued on a phone with no signal and sent when it returns: each is recorded once (a replay returns the
first result), with the phone's time beside the server's; the timer stays on the server; the undo runs on the
server's clock; locations are seen by the DSLs and the Principal (and the police prompt) only, then removed."""

import datetime
import json
import uuid

import pytest
from django.db import IntegrityError, transaction

from core.models import AuditEntry, HomeVisitPolicy
from tests.factories import make_authorised_visit, make_reported_visit
from tests.visits.after.test_parent_copy import pdf_text
from tests.visits.alerts.clock import START, at, when
from visits.after.pdf import parent_copy_pdf
from visits.alerts import sweep
from visits.field.services import Location, checkin_locations_remove_expired, checkin_receive, visit_check_in
from visits.models import AlertKind, CheckIn, CheckInKind, Visit, VisitAlert, VisitStatus


@pytest.fixture
def out_visit(cast):
    """Checked out at 10:00, due back 10:50 (overdue after 10:55)."""
    with at(9, 0):
        visit = make_authorised_visit(lead=cast.staff, second=cast.staff2, authoriser=cast.dsl, start=START)
    with at(10, 0):
        visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.CHECKED_OUT)
    visit.refresh_from_db()
    return visit


def send(client, user, visit, **item):
    client.force_login(user)
    return client.post(f"/visits/{visit.pk}/field/send/", json.dumps(item), content_type="application/json")


def queued(kind, phone_at, **more):
    return {"client_id": str(uuid.uuid4()), "kind": kind, "phone_at": phone_at.isoformat(), **more}


def test_a_queued_check_in_is_recorded_once_and_a_replay_returns_the_first_result(client, cast, out_visit):
    item = queued("arrived", when(10, 5))
    with at(10, 19):
        first = send(client, cast.staff, out_visit, **item)
    assert first.status_code == 200 and first.json()["status"] == "recorded"
    about_the_visit = AuditEntry.objects.filter(object_type="visits.visit", object_id=str(out_visit.pk))
    audit_rows = about_the_visit.count()
    with at(10, 25):  # the phone never heard the answer and sends it again; then again, and once more at once
        replays = [send(client, cast.staff, out_visit, **item) for _ in range(3)]
    assert {r.json()["status"] for r in replays} == {"replay"}
    assert {r.json()["at"] for r in replays} == {first.json()["at"]}  # the first result, not a new one
    assert out_visit.checkins.filter(kind=CheckInKind.ARRIVED).count() == 1
    assert about_the_visit.count() == audit_rows
    arrived = out_visit.checkins.get(kind=CheckInKind.ARRIVED)
    assert (arrived.at, arrived.phone_at, str(arrived.client_id)) == (when(10, 19), when(10, 5), item["client_id"])


def test_the_client_id_is_unique_in_the_database(cast, out_visit):
    client_id = uuid.uuid4()
    with at(10, 5):
        checkin_receive(visit=out_visit, actor=cast.staff, kind=CheckInKind.ARRIVED, client_id=client_id)
    with pytest.raises(IntegrityError), transaction.atomic():
        CheckIn.objects.filter(kind=CheckInKind.CHECKED_OUT, visit=out_visit).update(client_id=client_id)


def test_the_same_id_for_another_visit_is_refused_and_changes_nothing(client, cast, out_visit):
    with at(9, 0):
        other = make_authorised_visit(
            lead=cast.staff, second=cast.staff2, authoriser=cast.dsl, start=when(13, 0), child=None
        )
    item = queued("arrived", when(10, 5))
    with at(10, 6):
        assert send(client, cast.staff, out_visit, **item).status_code == 200
        refused = send(client, cast.staff, other, **{**item, "kind": "checked_out"})
    assert refused.status_code == 400 and "another visit" in refused.json()["message"]
    assert Visit.objects.get(pk=other.pk).status == VisitStatus.AUTHORISED


def test_refusals_are_in_words_and_hostile_input_records_nothing(client, cast, out_visit, subtests):
    cases = [
        ("not JSON", "nonsense{", 400),
        ("a list", json.dumps([1, 2]), 400),
        ("no id", json.dumps({"kind": "arrived"}), 400),
        ("a bad id", json.dumps({"kind": "arrived", "client_id": "x' OR 1=1"}), 400),
        ("a kind we do not know", json.dumps({"kind": "teleported", "client_id": str(uuid.uuid4())}), 400),
        ("out of order", json.dumps({"kind": "left", "client_id": str(uuid.uuid4())}), 400),
    ]
    client.force_login(cast.staff)
    before = CheckIn.objects.count()
    for name, body, status in cases:
        with subtests.test(name), at(10, 6):
            response = client.post(f"/visits/{out_visit.pk}/field/send/", body, content_type="application/json")
            assert response.status_code == status
            assert response.json()["status"] == "refused" and response.json()["message"]
    assert CheckIn.objects.count() == before
    # Nonsense beside a good check-in (a location off the globe, a clock with no such day) is dropped, never the tap.
    with at(10, 7):
        nonsense = {**queued("arrived", when(10, 5)), "phone_at": "2026-13-45T10:05:00+00:00"}
        ok = send(client, cast.staff, out_visit, **nonsense, latitude=200, longitude=1)
    assert ok.status_code == 200
    arrived = out_visit.checkins.get(kind=CheckInKind.ARRIVED)
    assert (arrived.latitude, arrived.phone_at, arrived.at) == (None, None, when(10, 7))


def test_who_may_send_a_check_in(client, cast, out_visit, subtests):
    for who, status in [("staff2", 200), ("outsider", 404), ("dsl", 404), ("other_staff", 404)]:
        with subtests.test(who), at(10, 6):
            response = send(client, getattr(cast, who), out_visit, **queued("here", when(10, 6)))
            assert response.status_code == status
    client.logout()
    response = client.post(f"/visits/{out_visit.pk}/field/send/", "{}", content_type="application/json")
    assert response.status_code == 302  # the phone keeps it and asks to sign in again


def test_the_board_and_the_timeline_show_both_times_when_they_differ_by_more_than_a_minute(client, cast, out_visit):
    with at(10, 19):
        send(client, cast.staff, out_visit, **queued("arrived", when(10, 5)))
    with at(10, 19, 30):
        send(client, cast.staff, out_visit, **queued("left", when(10, 19, 10)))  # 20 s apart: one time only
    client.force_login(cast.office)
    with at(10, 20):
        board = client.get("/board/").content.decode()
    assert "Out 10:00 · Arrived 10:05, reached school 10:19 · Left 10:19" in " ".join(board.split())
    client.force_login(cast.staff)
    with at(10, 20):
        page = " ".join(client.get(f"/visits/{out_visit.pk}/").content.decode().split())
    assert "tapped 10:05 on the phone, reached school 10:19" in page
    assert "tapped 10:19" not in page


def test_an_outbox_that_never_drains_still_ends_in_an_alert(cast, out_visit):
    """The phone queued "Returned" in a dead spot and never found signal again: the server knows nothing of it,
    so the timer it holds raises the overdue alert at the end of the grace, as for any pair not back."""
    phone_outbox = [queued("arrived", when(10, 5)), queued("left", when(10, 40)), queued("returned", when(10, 48))]
    assert phone_outbox  # never sent
    with at(10, 54, 59):
        assert sweep.alerts_sweep() == 0
    with at(10, 55):
        assert sweep.alerts_sweep() == 1
    assert VisitAlert.objects.get(visit=out_visit).kind == AlertKind.OVERDUE
    # When the phone finally drains, its taps are recorded at the server's time and the return answers the alert.
    for item in phone_outbox:
        with at(11, 10):
            checkin_receive(
                visit=out_visit,
                actor=cast.staff,
                kind=item["kind"],
                client_id=uuid.UUID(item["client_id"]),
                phone_at=datetime.datetime.fromisoformat(item["phone_at"]),
            )
    out_visit.refresh_from_db()
    assert out_visit.status == VisitStatus.RETURNED
    assert VisitAlert.objects.get(visit=out_visit).acknowledged_at == when(11, 10)


def test_the_undo_runs_on_the_servers_clock_not_the_phones(client, cast, out_visit):
    with at(10, 20):
        send(client, cast.staff, out_visit, **queued("returned", when(10, 6)))
    # Tapped a minute after the return on the phone, but it reached school three minutes after the return did:
    # for those minutes the office took them to be back.
    with at(10, 23):
        late = send(client, cast.staff, out_visit, **queued("return_undone", when(10, 7)))
    assert late.status_code == 400 and "two minutes only" in late.json()["message"]
    out_visit.refresh_from_db()
    assert out_visit.status == VisitStatus.RETURNED


def test_a_return_and_its_undo_queued_together_reach_school_together(client, cast, out_visit):
    """Both sat in the outbox for half an hour: the phone's clock (which could say anything) does not count, the
    server received them a second apart, so the undo is in time and the office watches for the pair again."""
    with at(10, 40):
        send(client, cast.staff, out_visit, **queued("returned", when(10, 6)))
    with at(10, 40, 1):
        undone = send(client, cast.staff, out_visit, **queued("return_undone", when(9, 0)))
    assert undone.status_code == 200
    out_visit.refresh_from_db()
    assert out_visit.status == VisitStatus.OUT


# --- Location, with the visitor's consent ---------------------------------------------------------------------

WHERE = {"latitude": 51.50135, "longitude": -0.14189, "accuracy": 12.4}


def test_a_location_is_shown_to_the_dsl_and_principal_but_not_the_office_or_the_pair(client, cast, out_visit):
    with at(10, 5):
        send(client, cast.staff, out_visit, **queued("arrived", when(10, 5)), **WHERE)
    arrived = out_visit.checkins.get(kind=CheckInKind.ARRIVED)
    assert (str(arrived.latitude), str(arrived.longitude), arrived.accuracy_m) == ("51.50135", "-0.14189", 12)
    for who, sees in [("dsl", True), ("principal", True), ("staff", False), ("staff2", False)]:
        client.force_login(getattr(cast, who))
        with at(10, 10):
            page = client.get(f"/visits/{out_visit.pk}/").content.decode()
        assert ("51.50135" in page) is sees, who
    client.force_login(cast.office)
    with at(10, 10):
        board = client.get("/board/").content.decode()
        field = client.get(f"/visits/{out_visit.pk}/field/").content.decode()
    assert "51.50135" not in board and "51.50135" not in field


def test_at_duress_the_location_reaches_the_police_prompt(client, cast, out_visit):
    with at(10, 30):
        response = send(client, cast.staff, out_visit, **queued("quick", when(10, 30)), **WHERE)
    assert response.status_code == 200
    assert VisitAlert.objects.get(visit=out_visit).kind == AlertKind.DURESS
    client.force_login(cast.office)
    with at(10, 31):
        board = " ".join(client.get("/board/").content.decode().split())
    prompt = board[board.index("police-prompt") :]
    assert 'Last known location</dt><dd class="col-sm-9 last-location">51.50135, -0.14189 (within 12 m)' in prompt
    assert board.count("51.50135") == 1  # in the prompt, and nowhere else on the board


def test_a_location_never_reaches_the_parent_copy(cast):
    visit = make_reported_visit(lead=cast.staff)
    visit.checkins.update(latitude=WHERE["latitude"], longitude=WHERE["longitude"], accuracy_m=12)
    text = pdf_text(parent_copy_pdf(visit))
    assert "51.5" not in text and "0.141" not in text and "location" not in text.lower()


def test_locations_are_removed_after_the_policys_days(client, cast, out_visit):
    with at(10, 5):
        send(client, cast.staff, out_visit, **queued("arrived", when(10, 5)), **WHERE)
    HomeVisitPolicy.objects.filter(trust=cast.trust, school__isnull=True).update(location_keep_days=3)
    with at(10, 4, day=26):
        assert checkin_locations_remove_expired() == 0  # three days less a minute
    with at(10, 6, day=26):
        assert checkin_locations_remove_expired() == 1
        assert checkin_locations_remove_expired() == 0  # twice changes nothing
    arrived = out_visit.checkins.get(kind=CheckInKind.ARRIVED)
    assert arrived.latitude is None and arrived.longitude is None and arrived.accuracy_m is None
    assert arrived.at == when(10, 5)  # the check-in itself stays
    assert AuditEntry.objects.filter(action="checkin.locations_removed").count() == 1


def test_the_standard_keeps_a_location_thirty_days(cast, out_visit):
    with at(10, 5):
        checkin_receive(
            visit=out_visit,
            actor=cast.staff,
            kind=CheckInKind.ARRIVED,
            location=Location(latitude=WHERE["latitude"], longitude=WHERE["longitude"]),
        )
    assert cast.school.policy().location_keep_days == 30
    assert checkin_locations_remove_expired(now=when(10, 4) + datetime.timedelta(days=30)) == 0
    assert checkin_locations_remove_expired(now=when(10, 6) + datetime.timedelta(days=30)) == 1


# --- What the phone keeps ---------------------------------------------------------------------------------------


def test_the_service_worker_covers_the_visit_pages_and_keeps_no_token(client, cast):
    response = client.get("/visits/field-sw.js")
    body = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/visits/" and response["Cache-Control"] == "no-store"
    assert "/static/js/outbox.js" in body and "/static/css/app.css" in body
    assert client.post("/visits/field-sw.js").status_code == 405
    # Nothing of anyone's in it (no token, no page): the same script for everybody.
    client.force_login(cast.staff)
    assert client.get("/visits/field-sw.js").content.decode() == body


def test_the_outbox_asks_for_a_fresh_token_each_time_and_learns_who_is_signed_in(client, cast):
    assert client.get("/visits/field/token/").status_code == 302  # signed out: the phone keeps its taps
    client.force_login(cast.staff)
    first = client.get("/visits/field/token/")
    assert first["Cache-Control"] == "no-store"
    assert first.json()["user"] == cast.staff.pk and len(first.json()["token"]) == 64


def test_the_field_page_is_installable_and_hands_its_script_the_steps(client, cast, out_visit):
    client.force_login(cast.staff)
    with at(10, 5):
        page = client.get(f"/visits/{out_visit.pk}/field/").content.decode()
    assert 'rel="manifest"' in page and 'id="field-offline-data" type="application/json"' in page
    data = json.loads(page.split('id="field-offline-data" type="application/json">', 1)[1].split("</script>")[0])
    assert data["routes"]["arrived"] == {"out": "on_site"} and data["routes"]["returned"]["on_site"] == "returned"
    assert [s["kind"] for s in data["steps"]["on_site"]] == ["left", "returned", "not_returning"]
    assert data["keep"] == [f"/visits/{out_visit.pk}/field/", f"/visits/{out_visit.pk}/"]
    assert data["user"] == cast.staff.pk and data["send_url"] == f"/visits/{out_visit.pk}/field/send/"
    # The office, recording for the pair, may not open the visit's page: it is not kept for them.
    client.force_login(cast.office)
    with at(10, 5):
        page = client.get(f"/visits/{out_visit.pk}/field/").content.decode()
    data = json.loads(page.split('id="field-offline-data" type="application/json">', 1)[1].split("</script>")[0])
    assert data["keep"] == [f"/visits/{out_visit.pk}/field/"]
    assert "share-location" not in page  # the office's tap sends no location
