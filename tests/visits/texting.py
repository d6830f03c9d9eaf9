"""Fixtures for the tests that send texts (alerts, field): each conftest there imports them."""

import pytest

from visits.alerts import sms


@pytest.fixture(autouse=True)
def _sms_outbox(settings):
    """Texts go to the in-memory outbox, empty at the start and end of each test."""
    settings.SMS_BACKEND = "visits.alerts.sms.LocmemSMSBackend"
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def contacts(cast):
    """The office, the DSL and the Principal each with an email and a mobile."""
    for n, (user, address) in enumerate(
        [(cast.office, "office@example.org"), (cast.dsl, "dsl@example.org"), (cast.principal, "head@example.org")]
    ):
        user.email = address
        user.save()
        user.profile.mobile = f"020 7946 05{n}0"
        user.profile.save()
    return cast
