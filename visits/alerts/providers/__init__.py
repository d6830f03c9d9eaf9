"""Real text-message (and letter) providers behind the SMS backend interface (visits/alerts/sms.py): GOV.UK Notify
and Twilio, chosen by settings.SMS_BACKEND, their keys read in settings from the environment.

Each provider module has the backend class (`send`), and what its webhooks need: a check that a request really
came from the provider (Twilio's signature, Notify's bearer token), and the parsing of its delivery receipts and
of the texts people send to the school's number into the plain records below, so the views and services never
see a provider's field names.
"""

import datetime
from dataclasses import dataclass

import phonenumbers


def text_only(value) -> str:
    """A provider's field as text PostgreSQL will store: NUL (which it refuses) taken out."""
    return str(value or "").replace("\x00", "")


@dataclass(frozen=True)
class Receipt:
    """A delivery receipt: `status` is a DeliveryStatus value, or "" for a step on the way (queued, sending)."""

    reference: str  # ours, given when sending ("notification-12", "letter-3"); may be empty
    provider_id: str
    status: str
    reason: str = ""

    def __post_init__(self):
        object.__setattr__(self, "reference", text_only(self.reference)[:64])
        object.__setattr__(self, "provider_id", text_only(self.provider_id)[:120])


@dataclass(frozen=True)
class ReceivedText:
    """A text someone sent to the school's number."""

    provider: str  # a TextProvider value
    provider_id: str
    sender: str  # E.164 where it could be read as a number, else as the provider gave it
    body: str
    received_at: datetime.datetime

    def __post_init__(self):
        for name in ("provider_id", "sender", "body"):
            object.__setattr__(self, name, text_only(getattr(self, name)))


def normalise_number(raw: str) -> str:
    """The sender's number in E.164 (+447700900123) as profiles store mobiles. Notify gives "447700900123",
    Twilio "+447700900123"; a national "07700 900123" is read as a UK number."""
    raw = text_only(raw).strip()
    candidate = raw if raw.startswith(("+", "0")) else f"+{raw}"
    try:
        number = phonenumbers.parse(candidate, "GB")
    except phonenumbers.NumberParseException:
        return raw[:32]
    if not phonenumbers.is_possible_number(number):
        return raw[:32]
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
