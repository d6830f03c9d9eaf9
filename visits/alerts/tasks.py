"""Celery tasks: thin wrappers that take ids (or nothing) and call the services."""

from celery import shared_task

from . import delivery, sweep


@shared_task(name="visits.alerts_sweep", ignore_result=True)
def alerts_sweep_task() -> int:
    """Run by beat every ALERT_SWEEP_INTERVAL_SECONDS: raise what is due, then send what is queued."""
    raised = sweep.alerts_sweep()
    delivery.notifications_deliver()
    return raised


@shared_task(name="visits.notifications_deliver", ignore_result=True)
def notifications_deliver_task() -> int:
    return delivery.notifications_deliver()
