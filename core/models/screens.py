"""Reception board screens: a browser that may show one school's board and nothing else, with no user behind it.

An identity rather than a board setting: the screen is who is asking (like a member of staff), recognised by
middleware from a device cookie on every request, so it lives beside the other identities in core and any layer
can tell a screen's request from a person's. Only hashes of its enrolment code and device token are kept.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class BoardScreen(models.Model):
    school = models.ForeignKey("core.School", on_delete=models.PROTECT, related_name="board_screens")
    name = models.CharField(max_length=100, help_text="Where it is, e.g. “Reception, main entrance”.")
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The one-time enrolment code (SHA-256, hex): blank once used.
    enrolment_code_hash = models.CharField(max_length=64, blank=True, db_index=True)
    enrolment_expires_at = models.DateTimeField(null=True, blank=True)
    enrolled_at = models.DateTimeField(null=True, blank=True)
    # The device cookie (SHA-256, hex) of the browser it was enrolled in.
    device_token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["school__name", "name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "name"], condition=Q(revoked_at__isnull=True), name="board_screen_name_per_school"
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.school})"

    def status(self, now) -> str:
        if self.revoked_at:
            return "Switched off"
        if self.enrolled_at:
            return "On"
        if self.enrolment_expires_at and self.enrolment_expires_at <= now:
            return "Enrolment link expired"
        return "Waiting to be enrolled"
