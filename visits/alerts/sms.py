"""Text messages through a pluggable backend (settings.SMS_BACKEND), like Django's email backends.

Console in development; a locmem outbox for tests; a file backend for the integration test and benchmarks;
GOV.UK Notify and Twilio for real texts (providers/). A backend is a class with `send(to, body, reference=...)`
that returns the provider's id for the message it accepted and raises on failure; a message counts as sent only
with that id. `reference` is ours (the outbox row's): the provider's delivery receipt names it, so the receipt
finds its row even when it arrives before the send's own transaction has committed. The local backends return
a local id (production refuses them).
"""

import itertools
import json
import logging
import os
import sys
import uuid

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

outbox: list[dict] = []
_locmem_ids = itertools.count(1)


class ConsoleSMSBackend:
    def send(self, to: str, body: str, reference: str = "") -> str:
        sys.stdout.write(f"SMS to {to}: {body}\n")
        sys.stdout.flush()
        return f"console:{uuid.uuid4().hex}"


class LocmemSMSBackend:
    def send(self, to: str, body: str, reference: str = "") -> str:
        message_id = f"locmem:{next(_locmem_ids)}"
        outbox.append({"to": to, "body": body, "id": message_id})
        return message_id


class FileSMSBackend:
    """One JSON line per message in settings.SMS_FILE_PATH: lets another process count what was sent."""

    def send(self, to: str, body: str, reference: str = "") -> str:
        message_id = f"file:{uuid.uuid4().hex}"
        line = json.dumps({"to": to, "body": body, "at": timezone.now().isoformat(), "id": message_id})
        with open(settings.SMS_FILE_PATH, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return message_id


def send_sms(*, to: str, body: str, reference: str = "") -> str:
    """Send one text; the provider's id for it."""
    return import_string(settings.SMS_BACKEND)().send(to, body, reference=reference)
