"""Every Celery worker runs the alert sweep itself, in a thread of each of its pool processes, every
ALERT_SWEEP_INTERVAL_SECONDS: no beat, and no broker, stands between a due visit and its alert.

The sweep is safe in any number of processes at once (row locks that skip locked rows, a compare-and-swap, a key
unique per visit and step), so with two workers a dead one is covered by the other at its next tick. Delivery
follows each sweep from the PostgreSQL outbox, so a broker that is down delays nothing and loses nothing. A
sweep that fails (the database restarting) is logged and tried again at the next tick on a fresh connection."""

import logging
import threading
import time

from django.conf import settings
from django.db import connection

from core.audit import audit_seal_or_log

from . import delivery, sweep

logger = logging.getLogger(__name__)

_thread: threading.Thread | None = None


def sweep_and_deliver() -> int:
    """One tick: raise what is due, then send what is queued. Returns alerts raised.

    Sends batch after batch while whole batches go and the tick has time left (an interval from its start), so a
    burst's messages go out at once, yet the loop's next sweep still starts on time."""
    until = time.monotonic() + settings.ALERT_SWEEP_INTERVAL_SECONDS
    raised = sweep.alerts_sweep()
    while delivery.notifications_deliver() >= delivery.BATCH and time.monotonic() < until:
        continue
    return raised


def run(stop: threading.Event, interval: float) -> None:
    while not stop.is_set():
        started = time.monotonic()
        try:
            sweep_and_deliver()
        except Exception:  # noqa: BLE001 - the loop must outlive a database or mail server that is down
            logger.exception("The alert sweep failed; trying again in %.1fs", interval)
            try:
                connection.close()  # reconnect at the next tick (a restarted database drops every connection)
            except Exception:  # noqa: BLE001
                logger.debug("Closing the broken connection failed", exc_info=True)
        # The audit trail's seal rides on the same tick (one indexed query when nothing waits): it chains entries
        # whose own transaction's seal was skipped or failed. It never raises.
        audit_seal_or_log(wait=True)
        stop.wait(max(0.0, interval - (time.monotonic() - started)))
    connection.close()


def start() -> threading.Thread | None:
    """Start this process's sweeper thread (once). Called in each worker pool process as it starts."""
    global _thread
    if not settings.ALERT_SWEEP_IN_WORKERS or (_thread is not None and _thread.is_alive()):
        return None
    _thread = threading.Thread(
        target=run, args=(threading.Event(), settings.ALERT_SWEEP_INTERVAL_SECONDS), name="alert-sweeper", daemon=True
    )
    _thread.start()
    return _thread
