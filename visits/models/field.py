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

    class Meta:
        ordering = ["visit", "at", "id"]
        constraints = [models.CheckConstraint(name="checkin_kind_valid", condition=Q(kind__in=CheckInKind.values))]

    def __str__(self):
        return f"{self.get_kind_display()} at {self.at:%H:%M}"
