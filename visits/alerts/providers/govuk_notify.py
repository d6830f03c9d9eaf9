"""GOV.UK Notify (notifications-python-client): texts, letters by post, their delivery receipts, and the texts
people send to the school's Notify number.

Notify sends texts from a template: the school makes one text template in Notify whose whole content is
((message)) and gives its id as NOTIFY_SMS_TEMPLATE_ID. Notify's callbacks (delivery receipts and received text
messages) carry the bearer token the school typed into Notify's API integration page (NOTIFY_CALLBACK_TOKEN).
"""

import datetime
import hmac
import io

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from notifications_python_client.notifications import NotificationsAPIClient

from ...models import DeliveryStatus, TextProvider
from . import Receipt, ReceivedText, normalise_number

# Notify's statuses (texts, emails and letters) that end a message's story; the rest are steps on the way.
STATUSES = {
    "delivered": DeliveryStatus.DELIVERED,
    "received": DeliveryStatus.DELIVERED,  # a letter: printed and handed to the postal service
    "permanent-failure": DeliveryStatus.FAILED,
    "temporary-failure": DeliveryStatus.FAILED,
    "technical-failure": DeliveryStatus.FAILED,
    "validation-failed": DeliveryStatus.FAILED,
    "virus-scan-failed": DeliveryStatus.FAILED,
    "cancelled": DeliveryStatus.FAILED,
}
REASONS = {
    "permanent-failure": "the number or address does not exist, or the letter came back",
    "temporary-failure": "the phone was off or the inbox full for 72 hours",
    "technical-failure": "Notify had a technical problem",
    "validation-failed": "the letter did not meet Notify's layout rules",
    "virus-scan-failed": "Notify's virus scan refused the letter",
    "cancelled": "the letter was cancelled before printing",
}


def notify_client() -> NotificationsAPIClient:
    return NotificationsAPIClient(
        settings.NOTIFY_API_KEY, base_url=settings.NOTIFY_BASE_URL, timeout=settings.PROVIDER_TIMEOUT_SECONDS
    )


class NotifySMSBackend:
    """SMS_BACKEND = "visits.alerts.providers.govuk_notify.NotifySMSBackend"."""

    def send(self, to: str, body: str, reference: str = "") -> str:
        response = notify_client().send_sms_notification(
            phone_number=to,
            template_id=settings.NOTIFY_SMS_TEMPLATE_ID,
            personalisation={"message": body},
            reference=reference or None,
            sms_sender_id=settings.NOTIFY_SMS_SENDER_ID or None,
        )
        return str(response.get("id", ""))


def letters_by_post_enabled() -> bool:
    """Letters go by post only through Notify, and only once its receipts can come back (a callback token)."""
    return bool(settings.NOTIFY_API_KEY and settings.NOTIFY_CALLBACK_TOKEN)


def send_precompiled_letter(*, reference: str, pdf: bytes, postage: str) -> str:
    """Post a PDF laid out to Notify's letter specification; Notify's id for it."""
    response = notify_client().send_precompiled_letter_notification(
        reference=reference, pdf_file=io.BytesIO(pdf), postage=postage
    )
    return str(response.get("id", ""))


def token_ok(request) -> bool:
    """The callback carries "Authorization: Bearer <NOTIFY_CALLBACK_TOKEN>" (compared in constant time)."""
    expected = settings.NOTIFY_CALLBACK_TOKEN
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(token.strip().encode(), expected.encode())


def _when(value) -> datetime.datetime:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        return timezone.now()
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, datetime.UTC)


def parse_receipt(payload: dict) -> Receipt:
    status = str(payload.get("status", ""))
    return Receipt(
        reference=str(payload.get("reference") or ""),
        provider_id=str(payload.get("id", "")),
        status=STATUSES.get(status, ""),
        reason=REASONS.get(status, ""),
    )


def parse_received_text(payload: dict) -> ReceivedText:
    return ReceivedText(
        provider=TextProvider.NOTIFY,
        provider_id=str(payload.get("id", "")),
        sender=normalise_number(str(payload.get("source_number", ""))),
        body=str(payload.get("message", "")),
        received_at=_when(payload.get("date_received")),
    )
