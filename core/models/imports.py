"""An uploaded file's rows between the upload and its confirmation (the MIS import of pupils and carers, the staff
list). The uploader's own: deleted when they confirm or discard it, and after IMPORT_PREVIEW_HOURS in any case, so
no copy of a school's roll outlives the preview."""

import datetime

from django.conf import settings
from django.db import models


class PendingImportQuerySet(models.QuerySet):
    def expired(self, now: datetime.datetime):
        return self.filter(uploaded_at__lte=now - datetime.timedelta(hours=settings.IMPORT_PREVIEW_HOURS))


class PendingImport(models.Model):
    class Kind(models.TextChoices):
        PUPILS = "pupils", "Pupils, households and carers"
        STAFF = "staff", "Staff"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    school = models.ForeignKey("core.School", on_delete=models.CASCADE, related_name="+")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    uploaded_at = models.DateTimeField()
    filename = models.CharField(max_length=200)
    layout = models.CharField(max_length=20, blank=True, help_text="The column layout the rows were read with.")
    header = models.JSONField(default=list)
    rows = models.JSONField(default=list, help_text="[line, [cells]] as read from the file.")
    mapping = models.JSONField(default=dict, help_text="Our field -> the file's column.")
    preview = models.JSONField(default=dict, help_text="What a confirmation would change, worked out at upload.")
    basis = models.CharField(
        max_length=64, blank=True, help_text="A digest of the records the preview was worked out against."
    )

    objects = PendingImportQuerySet.as_manager()

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        indexes = [models.Index(fields=["uploaded_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} from {self.filename}"

    def expires_at(self) -> datetime.datetime:
        return self.uploaded_at + datetime.timedelta(hours=settings.IMPORT_PREVIEW_HOURS)
