"""Helpers for the tests that check one world from many sides (each role, each page)."""

from contextlib import contextmanager

from django.core import mail
from django.core.cache import cache
from django.db import transaction

from core.auth import forget_recent_users
from visits.board.pages import forget_everything


def _forget():
    cache.clear()
    forget_everything()
    forget_recent_users()


@contextmanager
def fresh_case(client=None):
    """One case of a matrix: the world the test built once, as it was before the case (what the case changes is
    rolled back to a savepoint), nobody signed in, no mail sent and nothing cached."""
    if client is not None:
        client.logout()
    mail.outbox.clear()
    _forget()
    with transaction.atomic():
        yield
        transaction.set_rollback(True)
    _forget()
