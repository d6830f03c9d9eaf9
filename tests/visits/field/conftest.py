from tests.visits.texting import _sms_outbox, contacts  # noqa: F401 - fixtures for the tests here
