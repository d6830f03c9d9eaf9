"""`manage.py seed_demo`: load the fictional demo data (visits/demo/), or say it is already there."""

import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from core.models import Trust
from visits.demo.cast import DEMO_TOTP_SECRET, PASSWORD, TRUST_ADMIN, TRUST_NAME, TRUST_SLUG
from visits.demo.seed import Seeder, login_rows


class Command(BaseCommand):
    help = (
        "Load fictional demo data: the Brookvale Learning Trust with Oakfield Primary School and Riverside "
        f"Academy, their policies, staff (every password is {PASSWORD!r}), families, and a term of visits "
        "ending today. Running it again changes nothing: if the trust is already there it only prints the "
        "log-ins. Today's visits are laid out around the time it runs, so the board matches the clock. "
        "Refuses to run when settings.PRODUCTION is true."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--new-day",
            action="store_true",
            help="If the demo data was laid out on an earlier day, empty the database and lay it out again for "
            "now (run.sh does this). A database holding any trust but the demo one is left alone.",
        )

    def handle(self, *args, new_day=False, **options):
        if getattr(settings, "PRODUCTION", False):
            raise CommandError("seed_demo loads fictional demo data and must never run in production.")
        if new_day:
            self._start_afresh_on_a_new_day()
        started = time.monotonic()
        # Demo history is not news: nobody is emailed about the requests, decisions and concerns it creates
        # (the services send their emails when the transaction commits, so the override wraps it).
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"), transaction.atomic():
            if Trust.objects.filter(slug=TRUST_SLUG).exists():
                self.stdout.write(f"Demo data is already present ({TRUST_NAME}); nothing changed.")
            else:
                summary = Seeder().run()
                self.stdout.write(
                    self.style.SUCCESS(f"Demo data loaded in {time.monotonic() - started:.1f} s: {summary}.")
                )
        self._print_logins()

    def _start_afresh_on_a_new_day(self):
        """Yesterday's board would show pairs still out from yesterday, overdue by a night: lay it all out again."""
        # The demo's users joined when it was laid out.
        joined = get_user_model().objects.filter(username=TRUST_ADMIN.key).values_list("date_joined", flat=True)
        if not joined or timezone.localdate(joined[0]) >= timezone.localdate():
            return
        if Trust.objects.exclude(slug=TRUST_SLUG).exists():
            self.stdout.write("This database holds more than the demo, so its demo data is kept as it is.")
            return
        self.stdout.write(f"Demo data was laid out on {timezone.localdate(joined[0]):%A %-d %B}; laying it out again.")
        call_command("flush", interactive=False, verbosity=0)

    def _print_logins(self):
        rows = [("username", "role", "school", "password"), *((*row, PASSWORD) for row in login_rows())]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        self.stdout.write("\nDemo log-ins:")
        for row in rows:
            self.stdout.write("  " + "  ".join(f"{cell:<{w}}" for cell, w in zip(row, widths, strict=True)).rstrip())
        self.stdout.write(
            f"\nDSLs, Principals, office staff and the trust admin also type a code from an authenticator app set up "
            f"with the demo secret {DEMO_TOTP_SECRET} (demo data only), or from `manage.py demo_totp_code`."
        )
