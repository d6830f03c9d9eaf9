"""Walk the audit trail's hash chain; exit non-zero at the first break, naming the entry."""

from django.core.management.base import BaseCommand, CommandError

from core.audit import verify_chain
from core.models import AuditEntry


class Command(BaseCommand):
    help = (
        "Check that no audit entry was edited or removed: recompute each entry's hash and its link to the one before. "
        "Prints the head hash: keep it, and pass it back with --expect-head next time to detect removed latest entries."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--expect-head",
            metavar="HASH",
            help="a head hash printed by an earlier run: that entry must still be in the chain",
        )

    def handle(self, *args, expect_head=None, **options):
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
        self.stdout.write(f"Audit chain verified: {report.entries} entries, head {report.head}")
