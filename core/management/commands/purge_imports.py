"""Delete every import preview older than IMPORT_PREVIEW_HOURS, with the rows of the file it holds."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from core.models import PendingImport


class Command(BaseCommand):
    help = (
        "Delete import previews (MIS exports and staff lists) nobody confirmed or discarded within "
        "IMPORT_PREVIEW_HOURS. Each upload deletes them too; run this hourly from cron so none outlives its day."
    )

    def handle(self, *args, **options):
        deleted, _ = PendingImport.objects.expired(timezone.now()).delete()
        self.stdout.write(f"Deleted {deleted} expired import preview(s).")
