"""Celery tasks for records: thin wrappers around the services."""

from celery import shared_task

from . import retention, transfers


@shared_task(name="visits.retention_list_due", ignore_result=True)
def retention_list_due_task() -> int:
    """Nightly: list what the retention schedule says is due, for the DSLs to review. Disposes of nothing."""
    return retention.retention_list_due()


@shared_task(name="visits.transfer_reminders_send", ignore_result=True)
def transfer_reminders_send_task() -> int:
    """Nightly: remind each school's DSLs of leavers' files still without a receipt."""
    return transfers.transfer_reminders_send()
