"""What a request gathers before anyone sets off: the family told, and the DSL's or the Principal's decision."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from core.models import PermanentRecord
from core.roles import Role

from .visit import Visit


class NotifyMethod(models.TextChoices):
    PHONE = "phone", "Phone call"
    LETTER = "letter", "Letter"
    TEXT = "text", "Text message"
    IN_PERSON = "in_person", "In person"


class ParentResponse(models.TextChoices):
    AWAITING = "awaiting", "No answer yet"
    AGREED = "agreed", "Agreed to the visit"
    DECLINED = "declined", "Declined the visit"


class ParentNotification(models.Model):
    """How and when the family was told about an announced visit, and what they said."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="parent_notifications")
    method = models.CharField(max_length=10, choices=NotifyMethod.choices)
    notified_at = models.DateTimeField()
    response = models.CharField(max_length=10, choices=ParentResponse.choices, default=ParentResponse.AWAITING)
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["visit", "notified_at", "id"]
        constraints = [
            models.CheckConstraint(name="notify_method_valid", condition=Q(method__in=NotifyMethod.values)),
            models.CheckConstraint(name="parent_response_valid", condition=Q(response__in=ParentResponse.values)),
        ]

    def __str__(self):
        return f"{self.get_method_display()} on {self.notified_at:%Y-%m-%d}: {self.get_response_display()}"


class Decision(models.TextChoices):
    APPROVED = "approved", "Approved"
    DECLINED = "declined", "Declined"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"


class AuthorisationDecision(PermanentRecord):
    """A DSL's or the Principal's decision on a visit request: who, when, what, why, on what conditions."""

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="decisions")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_as = models.CharField(max_length=20, choices=Role.choices, help_text="The role the decision was made in.")
    decided_at = models.DateTimeField()
    decision = models.CharField(max_length=20, choices=Decision.choices)
    reason = models.TextField(blank=True, help_text="Why: required to decline or to ask for changes.")
    conditions = models.TextField(blank=True, help_text="Conditions attached to an approval.")
    exceptions = models.JSONField(
        default=list, blank=True, help_text="The Principal-only exceptions this decision covered (codes)."
    )
    unfamiliar_pair_reason = models.TextField(
        blank=True,
        help_text="Why the decider accepted a pair of whom neither works with the child or family (the policies ask "
        "for at least one who does).",
    )

    class Meta:
        ordering = ["visit", "decided_at", "id"]
        constraints = [
            models.CheckConstraint(name="decision_valid", condition=Q(decision__in=Decision.values)),
            models.CheckConstraint(
                name="decline_or_changes_has_reason", condition=Q(decision="approved") | ~Q(reason="")
            ),
        ]

    def __str__(self):
        return f"{self.get_decision_display()} by {self.decided_by} at {self.decided_at:%Y-%m-%d %H:%M}"

    # The codes visits.requests.policy.principal_exceptions() uses, as a reader would say them.
    EXCEPTION_LABELS = {
        "outside_hours": "starting outside visiting hours",
        "over_max_duration": "lasting longer than the policy allows",
        "unannounced": "an unannounced visit",
    }

    @property
    def exception_labels(self) -> list[str]:
        return [self.EXCEPTION_LABELS.get(code, code) for code in self.exceptions]

    def clean(self):
        if self.decision != Decision.APPROVED and not self.reason.strip():
            field = "reason"
            if self.decision == Decision.DECLINED:
                raise ValidationError({field: "Give the reason for declining."})
            raise ValidationError({field: "Say what needs to change."})
