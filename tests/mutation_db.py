"""A pytest plugin for scripts/mutation.sh only: every mutant's test run uses the test database the script made
once, as it is, instead of checking its migrations again (seconds per mutant, a thousand mutants)."""

import pytest
from django.conf import settings
from django.db import connections


@pytest.fixture(scope="session")
def django_db_setup(django_db_blocker):
    name = settings.DATABASES["default"]["NAME"]
    name = name if name.startswith("test_") else f"test_{name}"  # a forked mutant run may have it already
    with django_db_blocker.unblock():
        connections["default"].close()
    settings.DATABASES["default"]["NAME"] = connections["default"].settings_dict["NAME"] = name
