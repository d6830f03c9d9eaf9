"""Celery tasks: thin wrappers that take ids (or nothing) and call the services. The workers run the sweep
themselves every second (sweeper.py); these stay for running a sweep or a delivery by hand."""

from celery import shared_task

from . import delivery, sweeper


@shared_task(name="visits.alerts_sweep", ignore_result=True)
def alerts_sweep_task() -> int:
    """Raise what is due, then send what is queued."""
    return sweeper.sweep_and_deliver()


@shared_task(name="visits.notifications_deliver", ignore_result=True)
def notifications_deliver_task() -> int:
    return delivery.notifications_deliver()
