"""Twilio (the twilio library): texts, their status callbacks, and the texts people send to the school's Twilio
number. Every request Twilio makes to us is signed with the account's auth token (X-Twilio-Signature), which
twilio's RequestValidator checks against the address Twilio called: SITE_URL plus the path and query.
"""

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from ...models import DeliveryStatus, TextProvider
from . import Receipt, ReceivedText, normalise_number

STATUSES = {
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.DELIVERED,
    "undelivered": DeliveryStatus.FAILED,
    "failed": DeliveryStatus.FAILED,
}
# Twilio's error codes seen most on texts that did not arrive (the rest are shown by number).
ERRORS = {
    "21610": "the recipient has texted STOP to this number",
    "30003": "the phone is switched off or out of signal",
    "30005": "the number does not exist",
    "30006": "a landline, or a network that cannot take texts",
    "30007": "the network filtered the message",
    "30008": "the network did not say why",
}
TWILIO_API = "https://api.twilio.com"


class _ApiAt(TwilioHttpClient):
    """Sends Twilio's API calls to TWILIO_API_BASE_URL instead (a provider's test double on 127.0.0.1)."""

    def __init__(self, base_url: str, **kwargs):
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        if url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


def twilio_client() -> Client:
    timeout = settings.PROVIDER_TIMEOUT_SECONDS
    base = settings.TWILIO_API_BASE_URL
    http_client = _ApiAt(base, timeout=timeout) if base else TwilioHttpClient(timeout=timeout)
    return Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client)


def callback_url(name: str, reference: str = "") -> str:
    url = settings.SITE_URL.rstrip("/") + reverse(name)
    return f"{url}?ref={reference}" if reference else url


class TwilioSMSBackend:
    """SMS_BACKEND = "visits.alerts.providers.twilio_sms.TwilioSMSBackend"."""

    def send(self, to: str, body: str, reference: str = "") -> str:
        sender = (
            {"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
            if settings.TWILIO_MESSAGING_SERVICE_SID
            else {"from_": settings.TWILIO_FROM_NUMBER}
        )
        message = twilio_client().messages.create(
            to=to, body=body, status_callback=callback_url("webhook-twilio-status", reference), **sender
        )
        return str(message.sid or "")


def signature_ok(request) -> bool:
    """Twilio signed this request with our auth token, for the address it says it called."""
    token, signature = settings.TWILIO_AUTH_TOKEN, request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    url = settings.SITE_URL.rstrip("/") + request.get_full_path()
    return RequestValidator(token).validate(url, request.POST.dict(), signature)


def parse_receipt(post, *, reference: str) -> Receipt:
    status = post.get("MessageStatus", "")
    code = post.get("ErrorCode", "")
    reason = ""
    if STATUSES.get(status) == DeliveryStatus.FAILED:
        reason = ERRORS.get(code, f"Twilio error {code}" if code else f"Twilio says {status}")
    return Receipt(
        reference=reference, provider_id=post.get("MessageSid", ""), status=STATUSES.get(status, ""), reason=reason
    )


def parse_received_text(post) -> ReceivedText:
    return ReceivedText(
        provider=TextProvider.TWILIO,
        provider_id=post.get("MessageSid", ""),
        sender=normalise_number(post.get("From", "")),
        body=post.get("Body", ""),
        received_at=timezone.now(),  # Twilio's request is the moment it arrived; it sends no time of its own
    )
