"""Print the demo users' current second-factor code (demo data only: the secret is published in the README)."""

import time

from allauth.mfa import app_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.management.base import BaseCommand

from visits.demo.cast import DEMO_TOTP_SECRET


class Command(BaseCommand):
    help = "Print the six-digit code the demo DSLs, Principals, office staff and trust admin sign in with now."

    def handle(self, *args, **options):
        counter = int(time.time()) // app_settings.TOTP_PERIOD
        self.stdout.write(format_hotp_value(hotp_value(DEMO_TOTP_SECRET, counter)))
