"""The real providers behind the SMS backend interface, against their test double on 127.0.0.1 (the real client
libraries, nothing on the network): what each sends, a provider's refusal, and the delivery receipts that come back
on a verified callback, a failed one sent again by email and named on the board."""

import datetime

import pytest
from django.core import mail

from core.checks import NOTIFY_SMS_BACKEND, TWILIO_SMS_BACKEND, provider_problems
from core.models import AuditEntry
from tests.factories import make_authorised_visit
from tests.fake_providers import (  # noqa: F401 - providers: the fixture
    NOTIFY_TEMPLATE,
    TWILIO_FROM,
    TWILIO_SID,
    notify_post,
    providers,
    twilio_post,
)
from tests.homevisits.test_settings import GOOD_KEY, manage
from tests.visits.alerts.clock import START, at
from visits.alerts import delivery, sweep
from visits.field.services import visit_check_in
from visits.models import AlertNotification, CheckInKind

LEAD_MOBILE = "+442079460456"


@pytest.fixture
def out_visit(contacts):
    """Checked out at 10:00, due back 10:50; the lead has an email too (where a failed text goes instead)."""
    contacts.staff.email = "lead@example.org"
    contacts.staff.save()
    with at(9, 0):
        visit = make_authorised_visit(lead=contacts.staff, second=contacts.staff2, authoriser=contacts.dsl, start=START)
    with at(10, 0):
        visit_check_in(visit=visit, actor=contacts.staff, kind=CheckInKind.CHECKED_OUT)
    return visit


def remind(visit):
    """The lead's reminder text (10 minutes before due back), sent; its outbox row."""
    with at(10, 40):
        sweep.alerts_sweep()
        delivery.notifications_deliver()
    return AlertNotification.objects.get(visit=visit, key__startswith="reminder", channel="sms")


def test_notify_sends_a_text_from_the_schools_template(providers, out_visit, settings):  # noqa: F811
    settings.SMS_BACKEND = NOTIFY_SMS_BACKEND
    row = remind(out_visit)
    (call,) = providers.sent("/v2/notifications/sms")
    assert call.json["phone_number"] == LEAD_MOBILE and call.json["template_id"] == NOTIFY_TEMPLATE
    assert call.json["personalisation"]["message"].startswith("Home visit\nDue back 10:50: extend or check in")
    assert call.json["reference"] == f"notification-{row.pk}"
    assert call.headers["Authorization"].startswith("Bearer ")  # the client's signed token, never the key itself
    assert row.sent_at and row.provider_id and row.delivery_status == "sent"


def test_twilio_sends_a_text_and_asks_for_its_status(providers, out_visit, settings):  # noqa: F811
    settings.SMS_BACKEND = TWILIO_SMS_BACKEND
    row = remind(out_visit)
    (call,) = providers.sent("/Messages.json")
    assert call.path == f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    assert call.form["To"] == [LEAD_MOBILE] and call.form["From"] == [TWILIO_FROM]
    assert call.form["Body"][0].startswith("Home visit\nDue back 10:50")
    callback = f"https://visits.example.org/webhooks/twilio/status/?ref=notification-{row.pk}"
    assert call.form["StatusCallback"] == [callback]
    assert call.headers["Authorization"].startswith("Basic ")
    assert row.provider_id.startswith("SM") and row.delivery_status == "sent"


@pytest.mark.parametrize("backend", [NOTIFY_SMS_BACKEND, TWILIO_SMS_BACKEND])
def test_a_provider_refusing_a_text_is_retried_then_sent_by_email(providers, out_visit, settings, backend):  # noqa: F811
    settings.SMS_BACKEND = backend
    for _ in range(5):
        providers.fail_next("/", 500, {"message": "Internal server error", "code": 20500, "status": 500})
    row = remind(out_visit)
    assert row.sent_at is None and "500" in row.last_error and row.attempts == 1
    for second in (2, 6, 14, 30):  # 2, 4, 8, 16 seconds apart
        with at(10, 40, second):
            delivery.notifications_deliver()
    row.refresh_from_db()
    assert row.attempts == 5 and row.failed_at and not row.delivery_status
    with at(10, 40, 31):
        delivery.notifications_deliver()
    assert [m.to for m in mail.outbox] == [["lead@example.org"]]


def test_a_failed_delivery_receipt_is_named_on_the_board_and_sent_by_email(
    client,
    cast,
    providers,  # noqa: F811
    out_visit,
    settings,
):
    settings.SMS_BACKEND = TWILIO_SMS_BACKEND
    row = remind(out_visit)
    status = {"MessageSid": row.provider_id, "MessageStatus": "undelivered", "ErrorCode": "30003", "To": LEAD_MOBILE}
    with at(10, 41):
        path = f"/webhooks/twilio/status/?ref={row.receipt_reference}"
        assert twilio_post(client, path, {**status, "AccountSid": TWILIO_SID}).status_code == 204
        delivery.notifications_deliver()
    row.refresh_from_db()
    assert (row.delivery_status, row.delivery_reason) == ("failed", "the phone is switched off or out of signal")
    assert row.failed_at and row.delivery_status_at
    # The other channel, once: the same message by email.
    (email,) = mail.outbox
    assert email.to == ["lead@example.org"] and "Due back 10:50" in email.body
    assert AlertNotification.objects.get(key=f"{row.key}:other").channel == "email"
    entry = AuditEntry.objects.get(action="notification.failed")
    assert entry.actor is None and "not delivered: the phone is switched off" in entry.summary
    # The board names it, as it names a send that ran out of retries.
    client.force_login(cast.office)
    with at(10, 42):
        assert f"Text to {cast.staff.get_full_name()} failed" in client.get("/board/").content.decode()


def test_receipts_are_verified_and_the_first_final_word_stands(client, providers, out_visit, settings):  # noqa: F811
    settings.SMS_BACKEND = NOTIFY_SMS_BACKEND
    row = remind(out_visit)
    receipt = {"id": row.provider_id, "reference": row.receipt_reference, "status": "delivered"}
    failed = {**receipt, "status": "permanent-failure"}
    with at(10, 41):
        assert notify_post(client, "/webhooks/notify/status/", failed, token="not-the-token-123").status_code == 403
        assert client.post("/webhooks/notify/status/", failed, content_type="application/json").status_code == 403
        row.refresh_from_db()
        assert row.delivery_status == "sent"
        assert notify_post(client, "/webhooks/notify/status/", {**receipt, "status": "sending"}).status_code == 204
        row.refresh_from_db()
        assert row.delivery_status == "sent"  # a step on the way changes nothing
        assert notify_post(client, "/webhooks/notify/status/", receipt).status_code == 204
        assert notify_post(client, "/webhooks/notify/status/", receipt).status_code == 204  # Notify again
        assert notify_post(client, "/webhooks/notify/status/", failed).status_code == 204  # too late
    row.refresh_from_db()
    assert row.delivery_status == "delivered" and row.failed_at is None
    assert AuditEntry.objects.filter(action="notification.delivered").count() == 1
    assert not AlertNotification.objects.filter(key__endswith=":other").exists()
    # A receipt for a message that is not ours, or one naming our row with another provider id, changes nothing.
    stranger = {"id": "00000000-0000-0000-0000-000000000000", "reference": row.receipt_reference, "status": "failed"}
    assert notify_post(client, "/webhooks/notify/status/", stranger).status_code == 204
    row.refresh_from_db()
    assert row.delivery_status == "delivered"


def test_a_forged_twilio_receipt_is_refused(client, providers, out_visit, settings, caplog):  # noqa: F811
    settings.SMS_BACKEND = TWILIO_SMS_BACKEND
    row = remind(out_visit)
    status = {"MessageSid": row.provider_id, "MessageStatus": "failed", "ErrorCode": "30005"}
    path = f"/webhooks/twilio/status/?ref={row.receipt_reference}"
    assert twilio_post(client, path, status, token="guessed-token").status_code == 403
    assert "Refused a Twilio status webhook" in caplog.text
    # Signed, but naming another of our messages than the one Twilio's id belongs to: nothing changes.
    with at(10, 55):  # overdue: the pair are texted too
        sweep.alerts_sweep()
        delivery.notifications_deliver()
    other = AlertNotification.objects.exclude(pk=row.pk).filter(channel="sms").first()
    assert twilio_post(client, f"/webhooks/twilio/status/?ref={other.receipt_reference}", status).status_code == 204
    row.refresh_from_db()
    other.refresh_from_db()
    assert row.delivery_status == "sent" and other.delivery_status != "failed"
    assert not AlertNotification.objects.filter(key__endswith=":other").exists()


# --- Settings ---------------------------------------------------------------------------------------------------


def test_a_provider_without_its_secrets_is_named():
    assert [s for s, _ in provider_problems({"SMS_BACKEND": TWILIO_SMS_BACKEND, "SITE_URL": "https://x"})] == [
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_FROM_NUMBER",
    ]
    notify = {"SMS_BACKEND": NOTIFY_SMS_BACKEND, "NOTIFY_API_KEY": "k", "NOTIFY_SMS_TEMPLATE_ID": "t"}
    assert [s for s, _ in provider_problems({**notify, "SITE_URL": "http://x"})] == [
        "NOTIFY_CALLBACK_TOKEN",
        "SITE_URL",
    ]
    letters_only = {"SMS_BACKEND": TWILIO_SMS_BACKEND, "NOTIFY_API_KEY": "k", "SITE_URL": "https://x"}
    letters_only |= {"TWILIO_ACCOUNT_SID": "a", "TWILIO_AUTH_TOKEN": "b", "TWILIO_FROM_NUMBER": "+44"}
    assert [s for s, _ in provider_problems(letters_only)] == ["NOTIFY_CALLBACK_TOKEN"]


def test_production_refuses_a_provider_whose_webhooks_could_not_be_verified():
    result = manage(
        "check",
        DJANGO_SECRET_KEY=GOOD_KEY,
        SMS_BACKEND=TWILIO_SMS_BACKEND,
        SITE_URL="https://visits.example.org",
        TWILIO_ACCOUNT_SID=TWILIO_SID,
        TWILIO_FROM_NUMBER=TWILIO_FROM,
    )
    assert result.returncode != 0 and "TWILIO_AUTH_TOKEN" in result.stderr
    result = manage(
        "check",
        DJANGO_SECRET_KEY=GOOD_KEY,
        SMS_BACKEND=TWILIO_SMS_BACKEND,
        SITE_URL="https://visits.example.org",
        TWILIO_ACCOUNT_SID=TWILIO_SID,
        TWILIO_AUTH_TOKEN="set-in-the-environment",
        TWILIO_FROM_NUMBER=TWILIO_FROM,
    )
    assert result.returncode == 0, result.stderr


def test_a_receipt_without_our_reference_finds_its_row_by_the_providers_id(client, providers, out_visit, settings):  # noqa: F811
    settings.SMS_BACKEND = NOTIFY_SMS_BACKEND
    row = remind(out_visit)
    with at(10, 41):
        notify_post(client, "/webhooks/notify/status/", {"id": row.provider_id, "status": "delivered"})
    row.refresh_from_db()
    assert row.delivery_status == "delivered"
    assert row.delivery_status_at == datetime.datetime(2026, 11, 23, 10, 41, tzinfo=datetime.UTC)
