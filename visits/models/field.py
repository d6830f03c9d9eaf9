"""Check-ins from the field: by the pair from a phone, or by the office on their behalf."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from .visit import Visit


class CheckInKind(models.TextChoices):
    CHECKED_OUT = "checked_out", "Checked out of school"
    ARRIVED = "arrived", "Arrived"
    LEFT = "left", "Left the property safely"
    RETURNED = "returned", "Returned to school"
    NOT_RETURNING = "not_returning", "Not returning to school: finished and safe"
    EXTENDED = "extended", "Running late: extended"
    DURESS = "duress", "Duress"
    OFFICE_CODE_WORD = "office_code_word", "Code word received on a call"
    # At the door (the seeds' "during the visit"): visits/field/services.py, shown by visits/field/doorstep.py.
    HERE = "here", "Here: waiting for my colleague"
    PARENT_LATE = "parent_late", "Parent running late: waiting"
    NO_ANSWER = "no_answer", "Nobody answers: the office rings the family"
    FAMILY_COMING = "family_coming", "The office rang the family: they are coming"
    FAMILY_NO_ANSWER = "family_no_answer", "The office rang the family: no answer"
    LETTER_POSTED = "letter_posted", "Letter posted: nobody in"
    CHILD_DANGER = "child_danger", "Child alone or in danger: DSL alerted"
    RETURN_UNDONE = "return_undone", "Return undone: not back yet"


class CheckIn(models.Model):
    """One field check-in, by the pair from a phone or by the office on their behalf (recorded_by says who)."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="checkins")
    kind = models.CharField(max_length=20, choices=CheckInKind.choices)
    at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    on_behalf = models.BooleanField(default=False, help_text="Recorded by someone other than the pair.")
    minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    # A tap queued on a phone with no signal is sent again until school answers: the id the phone made for it
    # (unique, so a replay finds the first result), and the phone's clock when it was tapped. `at` stays the
    # server's time of receipt: every timer, and the undo's two minutes, run on the server's clock.
    client_id = models.UUIDField(null=True, blank=True, editable=False)
    phone_at = models.DateTimeField(null=True, blank=True, help_text="The phone's clock when it was tapped.")
    # Where the phone was, when its visitor allowed it: for the police prompt, the DSLs and the Principal only,
    # and removed after the policy's location_keep_days (visits/field/tasks.py).
    latitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    longitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    accuracy_m = models.PositiveIntegerField(null=True, blank=True, help_text="The phone's own estimate, metres.")

    class Meta:
        ordering = ["visit", "at", "id"]
        constraints = [
            models.CheckConstraint(name="checkin_kind_valid", condition=Q(kind__in=CheckInKind.values)),
            models.UniqueConstraint(fields=["client_id"], name="checkin_client_id_once"),
            models.CheckConstraint(
                name="checkin_location_whole",
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=["at"], name="checkin_located", condition=Q(latitude__isnull=False)),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} at {self.at:%H:%M}"

    @property
    def reached_late(self) -> bool:
        """Tapped on the phone more than a minute before school had it (queued with no signal, or a slow clock):
        then both times are shown."""
        return self.phone_at is not None and abs((self.at - self.phone_at).total_seconds()) > 60

    @property
    def location(self) -> str:
        if self.latitude is None:
            return ""
        near = f" (within {self.accuracy_m} m)" if self.accuracy_m else ""
        return f"{self.latitude}, {self.longitude}{near}"
