"""Text messages through a pluggable backend (settings.SMS_BACKEND), like Django's email backends.

Console in development; a locmem outbox for tests; a file backend for the integration test and benchmarks.
A provider's backend is a class with `send(to, body)` that raises on failure.
"""

import json
import logging
import os
import sys

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

outbox: list[dict] = []


class ConsoleSMSBackend:
    def send(self, to: str, body: str) -> None:
        sys.stdout.write(f"SMS to {to}: {body}\n")
        sys.stdout.flush()


class LocmemSMSBackend:
    def send(self, to: str, body: str) -> None:
        outbox.append({"to": to, "body": body})


class FileSMSBackend:
    """One JSON line per message in settings.SMS_FILE_PATH: lets another process count what was sent."""

    def send(self, to: str, body: str) -> None:
        line = json.dumps({"to": to, "body": body, "at": timezone.now().isoformat()})
        with open(settings.SMS_FILE_PATH, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def send_sms(*, to: str, body: str) -> None:
    import_string(settings.SMS_BACKEND)().send(to, body)
