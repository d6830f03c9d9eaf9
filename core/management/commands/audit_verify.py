"""Seal what is waiting, then walk the audit trail's hash chain; exit non-zero at the first break, naming the entry."""

from django.core.management.base import BaseCommand, CommandError

from core.audit import SEAL_LATE_AFTER, audit_seal, unsealed_late, verify_chain
from core.models import AuditEntry


class Command(BaseCommand):
    help = (
        "Check that no audit entry was edited or removed: seal the entries written since the last seal, then "
        "recompute each entry's hash, its link to the one before and its number in the chain. Prints the head "
        "hash: keep it, and pass it back with --expect-head next time to detect removed latest entries."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--expect-head",
            metavar="HASH",
            help="a head hash printed by an earlier run: that entry must still be in the chain",
        )

    def handle(self, *args, expect_head=None, **options):
        late = list(unsealed_late().values_list("id", "created_at")[:1])
        if late:
            count = unsealed_late().count()
            [(first_id, first_at)] = late
            minutes = int(SEAL_LATE_AFTER.total_seconds() // 60)
            self.stderr.write(
                f"Warning: {count} audit entries were still unsealed more than {minutes} minute(s) after they were "
                f"written (the oldest, #{first_id}, at {first_at:%Y-%m-%d %H:%M:%S} UTC): the sealer is not running. "
                "Check that the Celery workers (their sweeper thread seals every second) are up."
            )
        sealed = audit_seal()
        report = verify_chain()
        if report.broken:
            raise CommandError(
                f"Audit chain broken at entry #{report.broken.entry_id}: {report.broken.reason}. "
                f"{report.entries} entries before it verified."
            )
        if expect_head and not AuditEntry.objects.filter(entry_hash=expect_head).exists():
            raise CommandError(
                f"Audit chain verified ({report.entries} entries), but no entry has the expected head {expect_head}: "
                "entries at the end of the trail were removed."
            )
        self.stdout.write(
            f"Audit chain verified: {report.entries} entries ({sealed} sealed just now), head {report.head}"
        )
