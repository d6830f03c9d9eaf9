"""Check-in by text message: the pair text the school's number, the webhook is verified, each command goes through
the field's own verbs as the person who texted, and every text is kept with what it did and the reply."""

import datetime
import itertools
import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from twilio.request_validator import RequestValidator

from core.models import AuditEntry, HomeVisitPolicy
from tests.factories import make_authorised_visit
from tests.fake_providers import (  # noqa: F401 - providers: the fixture
    SITE,
    TWILIO_FROM,
    TWILIO_TOKEN,
    notify_post,
    providers,
    twilio_post,
)
from tests.visits.alerts.clock import START, UTC, at
from visits.alerts import delivery, sms
from visits.field.texts import parse
from visits.models import (
    AlertKind,
    AlertNotification,
    CheckInKind,
    InboundText,
    TextCommand,
    TextOutcome,
    VisitAlert,
    VisitStatus,
)

LEAD, SECOND, STRANGER = "+442079460111", "+442079460222", "+442079460999"
INBOUND = "/webhooks/twilio/inbound/"
_sids = itertools.count(1)


@pytest.fixture(autouse=True)
def _replies_in_memory(settings):
    settings.SMS_BACKEND = "visits.alerts.sms.LocmemSMSBackend"
    sms.outbox.clear()


@pytest.fixture
def pair(cast, providers):  # noqa: F811
    """The lead and the second visitor with their own mobiles (the test cast share one by default)."""
    for user, mobile in [
        (cast.staff, "020 7946 0111"),
        (cast.staff2, "020 7946 0222"),
        (cast.outsider, "020 7946 0333"),
    ]:
        user.profile.mobile = mobile
        user.profile.save()
    return cast


@pytest.fixture
def visit(pair):
    """Authorised for 10:00 today (due back 10:50 once out)."""
    with at(9, 0):
        return make_authorised_visit(
            lead=pair.staff, second=pair.staff2, authoriser=pair.dsl, start=START, lead_mobile="020 7946 0111"
        )


def text(client, body, *, sender=LEAD, sid=None) -> InboundText:
    """Text the school's Twilio number; the kept text."""
    sid = sid or f"SM{next(_sids):032d}"
    params = {"MessageSid": sid, "From": sender, "To": TWILIO_FROM, "Body": body, "AccountSid": "AC" + "0" * 32}
    response = twilio_post(client, INBOUND, params)
    assert response.status_code == 200 and response["Content-Type"] == "text/xml"
    return InboundText.objects.get(provider_id=sid)


def replies() -> list[str]:
    """The replies, as the phone receives them (the outbox sends them)."""
    delivery.notifications_deliver()
    return [m["body"] for m in sms.outbox]


# --- What a text says ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "command", "minutes"),
    [
        ("OUT", TextCommand.OUT, None),
        ("  checked out ", TextCommand.OUT, None),
        ("Arrived.", TextCommand.ARRIVED, None),
        ("arrived!!", TextCommand.ARRIVED, None),
        ("left", TextCommand.LEFT, None),
        ("Back", TextCommand.BACK, None),
        ("LATE 15", TextCommand.LATE, 15),
        ("LATE15", TextCommand.LATE, 15),
        ("late 15 mins", TextCommand.LATE, 15),
        ("Late, 20 minutes please", TextCommand.LATE, 20),
        ("late", TextCommand.LATE, None),
        ("ok", "", None),
        ("We are not OUT yet", "", None),  # the command comes first: a sentence that mentions one is not one
        ("15 late", "", None),
        ("", "", None),
    ],
)
def test_texts_are_read_generously(body, command, minutes):
    parsed = parse(body)
    assert (parsed.command, parsed.minutes, parsed.duress) == (command, minutes, False)


def test_the_duress_word_counts_anywhere_as_a_word_of_its_own():
    assert parse("bluebell", duress_words=["Bluebell"]).duress
    assert parse("ARRIVED. Bluebell!", duress_words=["Bluebell"]) == parse(
        "arrived bluebell", duress_words=["BLUEBELL"]
    )
    assert parse("ARRIVED bluebell", duress_words=["Bluebell"]).command == TextCommand.ARRIVED
    assert not parse("bluebells", duress_words=["Bluebell"]).duress
    assert not parse("bluebell", duress_words=[]).duress


# --- Each command --------------------------------------------------------------------------------------------


def test_the_pair_check_in_by_text_through_the_whole_visit(client, pair, visit):
    steps = [
        ((9, 55), "out", VisitStatus.OUT, "Checked out of school at 09:55. Due back 10:45. Text ARRIVED when you get"),
        ((10, 5), " Arrived. ", VisitStatus.ON_SITE, "Arrived at 10:05. Due back 10:45. Text LEFT when you leave"),
        ((10, 30), "late15", VisitStatus.ON_SITE, "Running late: 15 more minutes. Due back 11:00."),
        ((10, 40), "Left", VisitStatus.LEFT, "Left the house at 10:40. Due back 11:00. Text BACK when you are back"),
        ((10, 55), "BACK", VisitStatus.RETURNED, "Back at school at 10:55. Thank you."),
    ]
    for (hour, minute), body, status, reply in steps:
        with at(hour, minute):
            row = text(client, body, sender=LEAD if status != VisitStatus.LEFT else SECOND)
            assert replies()[-1].startswith(reply)
        visit.refresh_from_db()
        assert visit.status == status, body
        assert row.outcome == TextOutcome.RECORDED and row.visit == visit and row.body == body
    kinds = ["checked_out", "arrived", "extended", "left", "returned"]
    assert list(visit.checkins.values_list("kind", flat=True)) == kinds
    assert not visit.checkins.filter(on_behalf=True).exists()  # as the pair, not on anyone's behalf
    assert visit.checkins.get(kind="left").recorded_by == pair.staff2  # the second visitor texted that one
    assert visit.checkins.get(kind="extended").minutes == 15
    assert [m["to"] for m in sms.outbox] == [LEAD, LEAD, LEAD, SECOND, LEAD]
    entry = AuditEntry.objects.filter(action="text.received").latest("id")
    assert entry.actor == pair.staff and "BACK" in entry.summary


def test_a_command_that_makes_no_sense_now_changes_nothing_and_says_why(client, pair, visit):
    with at(9, 55):
        early = text(client, "ARRIVED")  # not out yet
        assert replies()[-1].startswith("You have no visit under way. Text OUT when you leave school")
        text(client, "OUT")
    with at(10, 0):
        refused = text(client, "LEFT")  # out, not yet on site
        late = text(client, "LATE")
    assert early.outcome == TextOutcome.NO_VISIT
    assert refused.outcome == TextOutcome.REFUSED and "while the visit is out of school" in refused.note
    assert late.outcome == TextOutcome.REFUSED and "for example LATE 15" in late.reply
    visit.refresh_from_db()
    assert visit.status == VisitStatus.OUT and list(visit.checkins.values_list("kind", flat=True)) == ["checked_out"]


def test_too_long_an_extension_is_refused_in_the_policys_words(client, pair, visit):
    with at(9, 55):
        text(client, "OUT")
    with at(10, 10):
        row = text(client, "LATE 500")
    assert row.outcome == TextOutcome.REFUSED and "You can extend by at most" in row.reply
    visit.refresh_from_db()
    assert visit.extended_minutes == 0


def test_an_unknown_sender_gets_a_plain_reply_and_nothing_changes(client, pair, visit):
    with at(9, 55):
        row = text(client, "OUT", sender=STRANGER)
        assert replies() == [
            "This number takes check-ins from school staff on a home visit only. Please ring the school."
        ]
    visit.refresh_from_db()
    assert visit.status == VisitStatus.AUTHORISED
    assert (row.outcome, row.staff, row.visit, row.school, row.body) == (
        TextOutcome.UNKNOWN_SENDER,
        None,
        None,
        None,
        "OUT",
    )


def test_an_unknown_number_is_answered_once_a_day_at_most(client, pair):
    """Two machines answering each other would text for ever."""
    with at(9, 0):
        text(client, "Your message could not be delivered", sender=STRANGER)
    with at(9, 1):
        second = text(client, "Your message could not be delivered", sender=STRANGER)
    with at(9, 1, day=24):
        text(client, "Hello?", sender=STRANGER)
        assert len(replies()) == 2
    assert second.reply == "" and "answered in the last day" in second.note


def test_hostile_text_is_kept_without_what_the_database_refuses(client, pair, visit):
    with at(9, 55):
        row = text(client, "OUT\x00\x01 " + "x" * 1500)
    assert row.outcome == TextOutcome.RECORDED and row.body.startswith("OUT\x01 x")


def test_a_staff_mobile_with_no_visit_gets_a_plain_reply(client, pair, visit):
    with at(9, 55):
        row = text(client, "OUT", sender="+442079460333")  # the outsider: on no visit
        assert replies()[-1].startswith("No visit is authorised for you to check out today")
    assert row.outcome == TextOutcome.NO_VISIT and row.staff == pair.outsider and row.school == pair.school
    visit.refresh_from_db()
    assert visit.status == VisitStatus.AUTHORISED


def test_something_not_understood_gets_the_list_of_commands(client, pair, visit):
    with at(9, 55):
        row = text(client, "Running a bit behind, sorry")
        assert "Text OUT when you leave school, ARRIVED" in replies()[-1]
    assert row.outcome == TextOutcome.NOT_UNDERSTOOD and row.body == "Running a bit behind, sorry"


# --- Which visit ---------------------------------------------------------------------------------------------


def test_a_second_visit_the_same_day(client, pair, visit):
    """The morning visit is back; OUT is the afternoon's, and ARRIVED the one under way."""
    with at(9, 55):
        text(client, "OUT")
    with at(10, 50):
        text(client, "BACK")
    afternoon_start = datetime.datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    with at(11, 0):
        afternoon = make_authorised_visit(
            lead=pair.staff, second=pair.staff2, authoriser=pair.dsl, start=afternoon_start
        )
    with at(13, 50):
        out = text(client, "OUT")
    with at(14, 5):
        arrived = text(client, "arrived")
    afternoon.refresh_from_db()
    visit.refresh_from_db()
    assert out.visit == afternoon and arrived.visit == afternoon and afternoon.status == VisitStatus.ON_SITE
    assert visit.status == VisitStatus.RETURNED


def test_two_visits_that_could_both_check_out_ask_for_the_field_page(client, pair):
    with at(8, 0):
        first = make_authorised_visit(
            lead=pair.staff,
            second=pair.staff2,
            authoriser=pair.dsl,
            start=datetime.datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
        )
        second = make_authorised_visit(
            lead=pair.staff,
            second=pair.staff2,
            authoriser=pair.dsl,
            start=datetime.datetime(2026, 11, 23, 11, 0, tzinfo=UTC),
        )
    with at(8, 45):  # only the 9:30 may check out yet: it is clearly the one
        assert text(client, "OUT").visit == first
    with at(9, 0):
        text(client, "BACK")
    with at(9, 10):
        third = make_authorised_visit(
            lead=pair.staff,
            second=pair.staff2,
            authoriser=pair.dsl,
            start=datetime.datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
        )
    with at(10, 5):  # 10:00 and 11:00 may both check out now
        row = text(client, "OUT")
        assert replies()[-1].startswith("You have more than one visit today")
    assert row.outcome == TextOutcome.TWO_VISITS and row.visit is None
    for each in (second, third):
        each.refresh_from_db()
        assert each.status == VisitStatus.AUTHORISED


# --- The duress word -----------------------------------------------------------------------------------------


@pytest.fixture
def duress_word(pair):
    HomeVisitPolicy.objects.filter(trust=pair.trust, school=None).update(duress_word="Bluebell")
    return "Bluebell"


def test_the_duress_word_raises_duress_silently_and_answers_like_a_check_in(client, pair, visit, duress_word, caplog):
    caplog.set_level(logging.DEBUG)
    with at(9, 55):
        text(client, "OUT")
    with at(10, 5):
        row = text(client, "bluebell")
        reply = replies()[-1]
    # Exactly what texting ARRIVED would have answered, and nothing happened but the alert.
    assert reply == "Arrived at 10:05. Due back 10:45. Text LEFT when you leave the house."
    visit.refresh_from_db()
    assert visit.status == VisitStatus.OUT
    alert = VisitAlert.objects.get(visit=visit)
    assert alert.kind == AlertKind.DURESS and alert.is_open
    assert visit.checkins.filter(kind=CheckInKind.DURESS, recorded_by=pair.staff).exists()
    assert (row.command, row.replied_as, row.outcome) == (TextCommand.DURESS, TextCommand.ARRIVED, "recorded")
    assert row.body == "bluebell"
    # The word is in no log line and no audit entry.
    assert "bluebell" not in caplog.text.lower()
    for entry in AuditEntry.objects.all():
        assert "bluebell" not in f"{entry.summary} {entry.details}".lower(), entry.action


def test_the_duress_word_with_a_command_answers_as_that_command(client, pair, visit, duress_word):
    with at(9, 55):
        text(client, "OUT")
    with at(10, 5):
        text(client, "arrived")
    with at(10, 20):
        text(client, "LATE 10 Bluebell")
        assert replies()[-1] == "Running late: 10 more minutes. Due back 10:55."
    visit.refresh_from_db()
    assert visit.extended_minutes == 0 and visit.alerts.filter(kind=AlertKind.DURESS).exists()


def test_a_check_in_after_the_duress_word_does_not_close_it(client, pair, visit, duress_word):
    with at(9, 55):
        text(client, "OUT")
    with at(10, 5):
        text(client, "Bluebell")
    with at(10, 6):
        text(client, "BACK")
    assert VisitAlert.objects.get(visit=visit, kind=AlertKind.DURESS).is_open


def test_the_log_shows_the_office_an_ordinary_check_in_and_the_dsl_the_word(client, pair, visit, duress_word):
    with at(9, 55):
        text(client, "OUT")
    with at(10, 5):
        text(client, "bluebell")
    client.force_login(pair.office)
    page = client.get("/visits/texts/").content.decode()
    assert "bluebell" not in page.lower() and "Duress" not in page
    assert "“ARRIVED”" in page and "“OUT”" in page
    client.force_login(pair.dsl)
    page = client.get("/visits/texts/").content.decode()
    assert "“bluebell”" in page and "Duress word: duress raised." in page
    assert AuditEntry.objects.filter(action="text.list", actor=pair.dsl).exists()


def test_the_field_page_never_shows_the_duress_word(client, pair, visit, duress_word):
    client.force_login(pair.staff)
    with at(9, 55):
        assert "bluebell" not in client.get(f"/visits/{visit.pk}/field/").content.decode().lower()


# --- The webhook ---------------------------------------------------------------------------------------------


def test_a_replayed_webhook_returns_the_first_result_and_does_nothing(client, pair, visit):
    with at(9, 55):
        first = text(client, "OUT", sid="SM" + "7" * 32)
    with at(10, 5):
        again = text(client, "OUT", sid="SM" + "7" * 32)
        assert len(replies()) == 1
    assert again.pk == first.pk and InboundText.objects.count() == 1
    assert visit.checkins.count() == 1 and AlertNotification.objects.filter(key__startswith="reply:").count() == 1


def test_a_forged_or_tampered_request_is_refused_and_logged(client, pair, visit, caplog):
    params = {"MessageSid": "SM" + "8" * 32, "From": LEAD, "To": TWILIO_FROM, "Body": "OUT"}
    signed_for_out = RequestValidator(TWILIO_TOKEN).compute_signature(SITE + INBOUND, params)
    with at(9, 55):
        assert twilio_post(client, INBOUND, params, signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
        assert client.post(INBOUND, params).status_code == 403  # no signature at all
        assert twilio_post(client, INBOUND, params, token="someone-elses-token").status_code == 403
        tampered = {**params, "Body": "BACK"}  # signed for one body, sent with another
        assert client.post(INBOUND, tampered, HTTP_X_TWILIO_SIGNATURE=signed_for_out).status_code == 403
    assert not InboundText.objects.exists()
    visit.refresh_from_db()
    assert visit.status == VisitStatus.AUTHORISED
    assert caplog.text.count("Refused a Twilio incoming text webhook") == 4


def test_texts_through_notify(client, pair, visit):
    payload = {
        "id": "b1b3e4c6-1111-4c4c-9f9f-000000000001",
        "source_number": "442079460111",  # Notify gives it without the +
        "destination_number": "07700900000",
        "message": "OUT",
        "date_received": "2026-11-23T09:55:00.000000Z",
    }
    with at(9, 55):
        assert notify_post(client, "/webhooks/notify/inbound/", payload).status_code == 204
        assert notify_post(client, "/webhooks/notify/inbound/", payload).status_code == 204  # Notify retrying
        assert notify_post(client, "/webhooks/notify/inbound/", payload, token="wrong-token-000").status_code == 403
        assert client.post("/webhooks/notify/inbound/", payload, content_type="application/json").status_code == 403
    row = InboundText.objects.get()
    assert row.provider == "notify" and row.sender == LEAD and row.outcome == TextOutcome.RECORDED
    assert row.received_at == datetime.datetime(2026, 11, 23, 9, 55, tzinfo=UTC)
    visit.refresh_from_db()
    assert visit.status == VisitStatus.OUT


# --- The log page ---------------------------------------------------------------------------------------------


def test_who_sees_the_log_of_texts(client, pair, visit, subtests):
    with at(9, 55):
        text(client, "OUT")
    for who, status, sees in [
        ("dsl", 200, True),
        ("principal", 200, True),
        ("office", 200, True),
        ("other_dsl", 200, False),  # another school's: their own log, without this text
        ("staff", 403, False),
        ("trust_admin", 403, False),
    ]:
        with subtests.test(who=who):
            client.force_login(getattr(pair, who))
            response = client.get("/visits/texts/")
            assert response.status_code == status
            assert ("“OUT”" in response.content.decode()) == sees


def test_the_log_takes_the_same_queries_however_many_texts(client, pair, visit):
    client.force_login(pair.dsl)
    with at(9, 55):
        text(client, "OUT")
        client.get("/visits/texts/")  # warm the signed-in user's cache
        with CaptureQueriesContext(connection) as one:
            client.get("/visits/texts/")
        for n in range(12):
            text(client, f"hello {n}", sender=LEAD if n % 2 else STRANGER)
        for n in range(5):
            text(client, "LATE 1")
        with CaptureQueriesContext(connection) as many:
            page = client.get("/visits/texts/").content.decode()
    assert page.count('class="list-group-item') == 12  # OUT, six of the lead's, five LATE (not the stranger's)
    assert len(many) == len(one)
