"""Run by test_first_run.py in a process of its own, on a fresh SQLite file, as `run.sh` runs: members of staff sign
in with the real password hasher (slow on purpose) while the alert sweep writes every few milliseconds from its
thread. Prints the status code of each sign-in, one a line. Needs DATABASE_URL set to a sqlite:/// file."""

import os
import sys
import threading

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "homevisits.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from core.roles import Role  # noqa: E402
from tests.factories import SchoolFactory, make_member  # noqa: E402
from visits.alerts import sweeper  # noqa: E402
from visits.models import SweepHeartbeat  # noqa: E402

SIGN_INS, AT_ONCE = 20, 4


def sign_in(username: str, codes: list) -> None:
    client = Client(raise_request_exception=False)
    for _ in range(SIGN_INS // AT_ONCE):
        response = client.post("/accounts/login/", {"login": username, "password": "test-password"})
        codes.append(response.status_code)
        client.logout()


def main() -> None:
    call_command("migrate", verbosity=0)
    school = SchoolFactory()
    users = [make_member(f"staff{n}", school, Role.STAFF).username for n in range(AT_ONCE)]
    sweeps = sweeper.start()
    codes: list[int] = []
    threads = [threading.Thread(target=sign_in, args=(user, codes)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sweeps.is_alive()
    print("sweeps", SweepHeartbeat.objects.get().runs, file=sys.stderr)
    print("\n".join(map(str, codes)))


main()
