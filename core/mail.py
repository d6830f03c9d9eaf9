"""Email sent once the change it is about has committed."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction


def notify_by_email(recipients, subject: str, body: str) -> None:
    """Email these users after the commit, so nobody is told about a record that was rolled back.

    The email says only that there is something to read and where: the details stay in the restricted record.
    """
    addresses = [u.email for u in recipients if u.email]
    if addresses:
        transaction.on_commit(
            lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, addresses, fail_silently=False)
        )
