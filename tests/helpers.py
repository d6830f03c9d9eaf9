"""Helpers for the tests that check one world from many sides (each role, each page)."""

import os
import time
from contextlib import contextmanager

import pytest

# allauth's own session keys and TOTP helpers: a test signs in "with a code" the way allauth records one.
from allauth.account.internal.flows.login import (
    _AUTHENTICATION_METHODS_USER_SESSION_KEY,
    AUTHENTICATION_METHODS_SESSION_KEY,
)
from allauth.mfa import app_settings
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.core import mail
from django.core.cache import cache
from django.db import connection, transaction

from visits.board.pages import forget_everything


def service_unavailable(reason: str):
    """Skip a test whose real service is missing; in CI (or when told services are required) fail it instead."""
    if os.environ.get("CI") == "true" or os.environ.get("TEST_REQUIRE_SERVICES") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def forget_cached():
    """Empty the cache and what this process keeps in memory (board renders)."""
    cache.clear()
    forget_everything()


@contextmanager
def fresh_case(client=None):
    """One case of a matrix: the world the test built once, as it was before the case (what the case changes is
    rolled back to a savepoint), nobody signed in, no mail sent and nothing cached."""
    if client is not None:
        client.logout()
    mail.outbox.clear()
    forget_cached()
    with transaction.atomic():
        yield
        transaction.set_rollback(True)
    forget_cached()


def mark_second_factor_passed(client, user) -> None:
    """Record in a test client's session that its user passed a second factor, as allauth does after a code."""
    session = client.session
    records = list(session.get(AUTHENTICATION_METHODS_SESSION_KEY) or [])
    records.append({"method": "mfa", "type": "totp", "at": time.time(), "test": "force_login"})
    session[AUTHENTICATION_METHODS_SESSION_KEY] = records
    session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
    session.save()


def totp_code(secret: str, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now (or a step of 30 s later) for this secret."""
    counter = int(time.time()) // app_settings.TOTP_PERIOD + steps_ahead
    return format_hotp_value(hotp_value(secret, counter))


def give_totp(user, secret: str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"):
    """Set an authenticator app up for a user, as the setup page does once its code was right."""
    TOTP.activate(user, secret)
    return secret


def wrong_code(secret: str) -> str:
    """A six-digit code that no step in the accepted window gives for this secret."""
    valid = {totp_code(secret, steps_ahead=step) for step in (-1, 0, 1, 2)}
    return next(code for code in (f"{n:06d}" for n in range(10**6)) if code not in valid)


@contextmanager
def as_database_owner():
    """Act as the session's superuser for a while: what the owner does (restores, or an edit behind the audit
    trigger's back). In CI the suite otherwise acts as the app role (tests/conftest.py), which may do neither."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        [role] = cursor.fetchone()
        cursor.execute("SET ROLE NONE")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"SET ROLE {connection.ops.quote_name(role)}")
