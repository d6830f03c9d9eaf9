"""Celery tasks for the field check-ins: thin wrappers over the services."""

from celery import shared_task

from . import services


@shared_task(name="visits.checkin_locations_remove_expired", ignore_result=True)
def checkin_locations_remove_expired_task() -> int:
    """Daily (settings.CELERY_BEAT_SCHEDULE): a check-in's location goes after the school's policy's days."""
    return services.checkin_locations_remove_expired()
