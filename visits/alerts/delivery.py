"""Sending what the sweep queued: an outbox with one row per recipient, channel and round, sent at least once; a
row counts as sent only once the provider has accepted it (its message id is stored), and is never sent again.
A row that still fails after its retries, or that the provider's delivery receipt says never arrived, is marked
failed (the board names it) and sent once on the other channel."""

import datetime
import logging
import re
import uuid

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from core.audit import audit

from ..changes import board_changed
from ..models import AlertNotification, DeliveryStatus, NotificationChannel
from .sms import send_sms

logger = logging.getLogger(__name__)

# Rows claimed, sent and committed together.
BATCH = 100
# Five tries over about half a minute (2, 4, 8, 16 s apart), then the other channel.
MAX_SEND_ATTEMPTS = 5
FALLBACK_SUFFIX = ":other"


def retry_delay(attempts: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=2**attempts)


def _send_email(row: AlertNotification) -> str:
    message = EmailMessage(row.subject, row.body, settings.DEFAULT_FROM_EMAIL, [row.recipient])
    if message.send() != 1:
        raise RuntimeError("the mail server accepted nothing")
    # A provider through django-anymail gives its own id; plain SMTP's acceptance is the send itself.
    status = getattr(message, "anymail_status", None)
    return getattr(status, "message_id", None) or f"smtp:{uuid.uuid4().hex}"


def _send(row: AlertNotification) -> str:
    """Send one row; the provider's id for the accepted message, or an exception."""
    if row.channel == NotificationChannel.EMAIL:
        return _send_email(row)
    text = "\n".join(part for part in (row.subject, row.body) if part)  # a reply to a text has no subject
    return send_sms(to=row.recipient, body=text[:600], reference=row.receipt_reference)


def _other_channel(row: AlertNotification) -> AlertNotification | None:
    """The same message to the same person by their other contact, if they have one (and this is not already
    the fallback)."""
    if row.key.endswith(FALLBACK_SUFFIX) or row.user is None:
        return None
    if row.channel == NotificationChannel.SMS:
        channel, recipient = NotificationChannel.EMAIL, row.user.email
    else:
        mobile = getattr(getattr(row.user, "profile", None), "mobile", None)
        channel, recipient = NotificationChannel.SMS, mobile.as_e164 if mobile else ""
    if not recipient:
        return None
    return AlertNotification(
        visit_id=row.visit_id,
        alert_id=row.alert_id,
        key=row.key + FALLBACK_SUFFIX,
        user=row.user,
        channel=channel,
        recipient=recipient,
        subject=row.subject,
        body=row.body,
        created_at=row.failed_at,
    )


def _fail(row: AlertNotification, now: datetime.datetime) -> None:
    """It did not reach them: the board names it, and it goes once by their other contact."""
    row.failed_at = row.failed_at or now
    fallback = _other_channel(row)
    if fallback:
        AlertNotification.objects.bulk_create([fallback], ignore_conflicts=True)


def notifications_deliver(*, limit: int | None = None, now: datetime.datetime | None = None) -> int:
    """Send unsent notifications whose retry time has come; each row is claimed under a lock that others skip.

    A crash between sending and the commit leaves the row unsent, so it is sent again (at least once);
    a row once marked sent is never sent again.
    """
    now = now or timezone.now()
    limit = limit or BATCH
    sent, failed = 0, False
    with transaction.atomic():
        rows = list(
            AlertNotification.objects.filter(sent_at__isnull=True, failed_at__isnull=True)
            .exclude(retry_at__gt=now)
            .select_related("user__profile")
            .order_by("created_at", "pk")
            .select_for_update(skip_locked=True, of=("self",))[:limit]
        )
        for row in rows:
            row.attempts += 1
            try:
                provider_id = _send(row)
                if not provider_id:
                    raise RuntimeError("the provider did not accept the message (no message id)")
            except Exception as error:  # noqa: BLE001 - one failing recipient must not stop the rest
                logger.exception("Sending %s failed", row)
                row.last_error = f"{error.__class__.__name__}: {error}"[:300]
                row.retry_at = now + retry_delay(row.attempts)
                if row.attempts >= MAX_SEND_ATTEMPTS:
                    _fail(row, now)
                    failed = True
            else:
                row.sent_at, row.provider_id = timezone.now(), str(provider_id)[:120]
                row.delivery_status, row.delivery_status_at = DeliveryStatus.SENT, row.sent_at
                sent += 1
            row.save(
                update_fields=[
                    "attempts",
                    "sent_at",
                    "provider_id",
                    "retry_at",
                    "failed_at",
                    "last_error",
                    "delivery_status",
                    "delivery_status_at",
                ]
            )
    if failed:
        board_changed()
    return sent


REFERENCE = re.compile(r"notification-(\d+)")


@transaction.atomic
def notification_receipt_record(
    *, reference: str, provider_id: str, status: str, reason: str = "", now=None
) -> AlertNotification | None:
    """A provider's delivery receipt, from its verified webhook (the provider is the actor): delivered, or failed
    with its reason. A failed one is named on the board and sent once on the other channel, as a send that ran
    out of retries is. The first final word stands: a receipt sent again, or a late "sent", changes nothing.

    The row is found by our reference and locked, so a receipt that overtakes the commit of its own send waits
    for it; without a reference (a provider that drops it), by the provider's id."""
    now = now or timezone.now()
    match = REFERENCE.fullmatch(reference or "")
    rows = AlertNotification.objects.select_for_update(of=("self",)).select_related("user", "visit__school")
    row = (
        rows.filter(pk=int(match[1])).first()
        if match
        else rows.filter(provider_id=provider_id).first()
        if provider_id
        else None
    )
    if row is None or (provider_id and row.provider_id != provider_id):
        logger.warning("A delivery receipt named no message of ours (reference %r)", reference)
        return None
    if status not in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED) or row.delivery_status in (
        DeliveryStatus.DELIVERED,
        DeliveryStatus.FAILED,
    ):
        return row
    row.delivery_status, row.delivery_status_at, row.delivery_reason = status, now, reason[:300]
    fields = ["delivery_status", "delivery_status_at", "delivery_reason"]
    label = row.failure_text.removesuffix(" failed")  # "text to Sam Okafor"
    if status == DeliveryStatus.FAILED:
        row.last_error = f"Not delivered: {reason}"[:300] if reason else "Not delivered"
        _fail(row, now)
        fields += ["failed_at", "last_error"]
        summary = f"{label} not delivered: {reason or 'no reason given'}"
    else:
        summary = f"{label} delivered"
    row.save(update_fields=fields)
    audit(
        actor=None,
        action=f"notification.{status}",
        obj=row,
        school=row.visit.school if row.visit_id else None,
        summary=summary[:1].upper() + summary[1:],
        channel=row.channel,
        reason=reason,
    )
    if status == DeliveryStatus.FAILED:
        board_changed()
    return row
