"""Celery tasks for records: thin wrappers around the services."""

from celery import shared_task

from . import retention


@shared_task(name="visits.retention_list_due", ignore_result=True)
def retention_list_due_task() -> int:
    """Nightly: list what the retention schedule says is due, for the DSLs to review. Disposes of nothing."""
    return retention.retention_list_due()
