"""Sending what the sweep queued: an outbox with one row per recipient and channel, sent at least once; a row
marked sent is never sent again."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from ..models import AlertNotification, NotificationChannel, VisitAlert
from .sms import send_sms

logger = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 10


def alert_message(alert: VisitAlert) -> tuple[str, str]:
    """Subject and body. Need to know: who, where, due back, phone, vehicle; never the reason or reports."""
    visit = alert.visit
    names = " and ".join(p.name for p in visit.people.all())
    local_due = timezone.localtime(visit.due_back)
    subject = f"[Home visits] {alert.title}: {names}"
    lines = [
        f"{alert.title}.",
        f"Visitors: {names}.",
        f"Address: {visit.household.address}.",
        f"Due back: {local_due:%H:%M} on {local_due:%d %b}.",
        f"Lead's mobile: {visit.lead_mobile or 'not given'}.",
        f"Vehicle: {visit.vehicle or 'not given'}.",
        "Open the board to acknowledge what you did.",
    ]
    return subject, "\n".join(lines)


def _send(notification: AlertNotification) -> None:
    subject, body = alert_message(notification.alert)
    if notification.channel == NotificationChannel.EMAIL:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [notification.recipient])
    else:
        send_sms(to=notification.recipient, body=f"{subject}\n{body}"[:600])


def notifications_deliver(*, limit: int = 100) -> int:
    """Send unsent notifications; each row is claimed under a lock that others skip, then marked sent.

    A crash between sending and the commit leaves the row unsent, so it is sent again (at least once);
    a row once marked sent is never sent again.
    """
    sent = 0
    with transaction.atomic():
        rows = list(
            AlertNotification.objects.filter(sent_at__isnull=True, attempts__lt=MAX_SEND_ATTEMPTS)
            .select_related("alert__visit__household")
            .prefetch_related("alert__visit__people__user")
            .order_by("created_at")
            .select_for_update(skip_locked=True, of=("self",))[:limit]
        )
        for row in rows:
            row.attempts += 1
            try:
                _send(row)
            except Exception as error:  # noqa: BLE001 - one failing recipient must not stop the rest
                logger.exception("Sending %s failed", row)
                row.last_error = f"{error.__class__.__name__}: {error}"[:300]
            else:
                row.sent_at = timezone.now()
                sent += 1
            row.save(update_fields=["attempts", "sent_at", "last_error"])
    return sent
