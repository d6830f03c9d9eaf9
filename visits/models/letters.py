"""Letters to the family sent by post through GOV.UK Notify: the parent copy and the "sorry we missed you"
letter, each to the address the sender saw and confirmed, with Notify's id and what its receipts said."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from .alerts import DeliveryStatus
from .visit import Visit


class LetterDocument(models.TextChoices):
    PARENT_COPY = "parent-copy", "the parent copy of the Home Visit Form"
    MISSED_YOU = "missed-you", "the “sorry we missed you” letter"


class PostedLetter(models.Model):
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="posted_letters")
    document = models.CharField(max_length=20, choices=LetterDocument.choices)
    address_lines = models.JSONField(help_text="The address block as the sender confirmed it.")
    postage = models.CharField(max_length=10)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField()
    provider_id = models.CharField(max_length=64, blank=True, help_text="Notify's id for the letter.")
    # Notify's receipts: "delivered" for a letter means printed and handed to the postal service.
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.SENT)
    status_at = models.DateTimeField(null=True, blank=True)
    status_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["visit", "sent_at", "id"]
        constraints = [
            models.CheckConstraint(name="letter_document_valid", condition=Q(document__in=LetterDocument.values)),
            models.CheckConstraint(name="letter_status_valid", condition=Q(status__in=DeliveryStatus.values)),
        ]

    def __str__(self):
        return f"{self.get_document_display()} posted {self.sent_at:%d %b %Y}"

    @property
    def receipt_reference(self) -> str:
        """Our reference for it at Notify (no personal data, as Notify asks): its receipts name this row."""
        return f"letter-{self.pk}"

    @property
    def status_text(self) -> str:
        if self.status == DeliveryStatus.DELIVERED:
            return "printed and posted"
        if self.status == DeliveryStatus.FAILED:
            return f"not posted, because {self.status_reason}" if self.status_reason else "not posted"
        return "waiting to be printed"
