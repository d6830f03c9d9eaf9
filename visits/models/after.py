"""After the visit: the Home Visit Form, who was present, follow-up actions, incidents and concerns raised."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from core.models import School
from core.scoping import SchoolScopedQuerySet
from families.models import Child
from safeguarding.models import Concern

from .visit import Visit


class VisitOutcome(models.TextChoices):
    SEEN = "seen", "Seen: the visit took place"
    NO_ACCESS = "no_access", "No access: letter posted"
    DECLINED = "declined", "Declined by the family"
    ABANDONED = "abandoned", "Abandoned on the doorstep"


class EntryInvitation(models.TextChoices):
    """Who let staff into the home. The policies: go in only when invited by a responsible adult, never at the
    invitation of a child on their own, and speak only to an adult with parental responsibility or one they asked
    to be there in their absence."""

    PARENT = "parent", "A parent or carer with parental responsibility"
    DELEGATED = "delegated", "An adult the parent or carer asked to be there in their absence"
    OTHER_WITH_PARENT = "other_with_parent", "Someone else, with a parent or carer at home"
    CHILD_ALONE = "child_alone", "A child, with no adult at home"


class VisitReport(models.Model):
    """The Home Visit Form the lead writes after a visit.

    Until it is submitted, `draft` holds exactly what was typed (saved as the lead types) and the other fields
    are empty; submitting validates the draft into the fields below and moves the visit to "reported".
    """

    visit = models.OneToOneField(Visit, on_delete=models.CASCADE, related_name="report")
    draft = models.JSONField(default=dict, blank=True)
    draft_saved_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(help_text="When the form is due, from the school's policy.")
    arrived_at = models.DateTimeField(null=True, blank=True)
    departed_at = models.DateTimeField(null=True, blank=True)
    staff_went_in = models.BooleanField(null=True, blank=True, help_text="Whether staff went into the home.")
    invited_in_by = models.CharField(
        max_length=100, choices=EntryInvitation.choices, blank=True, help_text="Who let staff into the home."
    )
    outcome = models.CharField(max_length=20, choices=VisitOutcome.choices, blank=True)
    abandoned_reason = models.TextField(blank=True)
    child_seen = models.BooleanField(null=True, blank=True)
    parent_summary = models.TextField(
        blank=True, help_text="What was discussed and agreed, in words the family will read on their copy."
    )
    internal_notes = models.TextField(blank=True, help_text="For school staff only: never on the parent copy.")
    referrals = models.TextField(blank=True, help_text="Referrals to outside agencies.")
    next_visit_on = models.DateField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    debrief_with = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The line manager the visit was debriefed with.",
    )
    debrief_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="report_outcome_valid", condition=Q(outcome="") | Q(outcome__in=VisitOutcome.values)
            ),
            models.CheckConstraint(
                name="submitted_report_has_outcome", condition=Q(submitted_at__isnull=True) | ~Q(outcome="")
            ),
            models.CheckConstraint(
                name="report_departed_after_arrived",
                condition=Q(arrived_at__isnull=True)
                | Q(departed_at__isnull=True)
                | Q(departed_at__gte=F("arrived_at")),
            ),
        ]

    def __str__(self):
        return f"Home Visit Form for {self.visit}"

    def clean(self):
        errors = {}
        if self.arrived_at and self.departed_at and self.departed_at < self.arrived_at:
            errors["departed_at"] = "The departure must be after the arrival."
        if self.outcome == VisitOutcome.ABANDONED and not self.abandoned_reason.strip():
            errors["abandoned_reason"] = "Say why the visit was abandoned."
        if self.staff_went_in and not self.invited_in_by.strip():
            errors["invited_in_by"] = "Say who let you in."
        if errors:
            raise ValidationError(errors)

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None

    def is_late(self, now: datetime.datetime) -> bool:
        """Late if submitted after the due time, or still not submitted once it has passed."""
        return (self.submitted_at or now) > self.due_at


class PresentPerson(models.Model):
    """Someone present at the visit, as the lead recorded them."""

    report = models.ForeignKey(VisitReport, on_delete=models.CASCADE, related_name="present")
    name = models.CharField(max_length=100)
    relationship = models.CharField(max_length=60, help_text="To the child, e.g. mother, uncle, neighbour.")
    parental_responsibility = models.BooleanField(default=False)

    class Meta:
        ordering = ["report", "id"]

    def __str__(self):
        return f"{self.name} ({self.relationship})"


class FollowUpActionQuerySet(SchoolScopedQuerySet):
    def open(self):
        return self.filter(completed_at__isnull=True)

    def overdue(self, today: datetime.date):
        return self.open().filter(due_on__lt=today)


class FollowUpAction(models.Model):
    """Something someone must do after a visit or a concern: what, who, by when; and, once done, how it ended.

    Actions on a concern are as restricted as the concern: only its owner and the DSLs/Principal see them.
    """

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="actions")
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, null=True, blank=True, related_name="actions")
    concern = models.ForeignKey(Concern, on_delete=models.CASCADE, null=True, blank=True, related_name="actions")
    child = models.ForeignKey(Child, on_delete=models.PROTECT, null=True, blank=True, related_name="actions")
    description = models.CharField(max_length=300)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="actions")
    due_on = models.DateField()
    agreed_with_family = models.BooleanField(
        default=False, help_text="Agreed with the family: shown on the parent copy."
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    completion_outcome = models.TextField(blank=True)

    objects = FollowUpActionQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(
                fields=["owner", "due_on"], condition=Q(completed_at__isnull=True), name="open_actions_by_owner"
            ),
            models.Index(
                fields=["school", "due_on"], condition=Q(completed_at__isnull=True), name="open_actions_by_school"
            ),
            # The figures' actions due in a term at a trust's schools, open or done. At 500 schools and 480,000
            # actions, without it: Bitmap Heap Scan over every action of the 9 schools, 7,142 of 7,656 rows
            # thrown away, 7,667 blocks read, 185 ms; with it an Index Only Scan of the term's 514 rows, 0.8 ms.
            models.Index(fields=["school", "due_on"], include=["completed_at"], name="actions_by_school_due"),
        ]
        constraints = [
            models.CheckConstraint(
                name="completed_action_has_outcome",
                condition=Q(completed_at__isnull=True) | ~Q(completion_outcome=""),
            ),
        ]

    def __str__(self):
        return self.description

    def is_overdue(self, today: datetime.date) -> bool:
        return self.completed_at is None and self.due_on < today


class IncidentKind(models.TextChoices):
    THREAT = "threat", "Threat or aggression"
    INJURY = "injury", "Injury or illness"
    ANIMAL = "animal", "Animal"
    ACCUSATION = "accusation", "Accusation against a member of staff"
    OTHER = "other", "Other"


class Incident(models.Model):
    """Something that happened during a visit. An accusation against staff is for the Principal alone;
    other incidents are for the DSLs and the Principal."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="incidents")
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="incidents")
    kind = models.CharField(max_length=20, choices=IncidentKind.choices)
    occurred_at = models.DateTimeField()
    details = models.TextField()
    staff_accused = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="For an accusation: the member of staff it is against.",
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.CheckConstraint(name="incident_kind_valid", condition=Q(kind__in=IncidentKind.values)),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.occurred_at:%d %b %Y %H:%M}"

    def get_absolute_url(self):
        return reverse("incident", args=[self.pk])

    def clean(self):
        if not (self.details or "").strip():
            raise ValidationError({"details": "Describe what happened."})
        if self.kind == IncidentKind.ACCUSATION and not self.staff_accused_id:
            raise ValidationError({"staff_accused": "Say which member of staff the accusation is against."})

    @property
    def principal_only(self) -> bool:
        return self.kind == IncidentKind.ACCUSATION

    @property
    def audit_name(self) -> str:
        """How the audit trail names it: a Principal-only record by its number alone, since a trail entry may be
        read by others (a DPO, the admin) and must not say that an accusation exists."""
        return f"restricted incident {self.pk}" if self.principal_only else str(self)


class VisitConcern(models.Model):
    """A concern raised from a visit. The link lives here, on the visits side: safeguarding's concerns never
    need to know about visits."""

    concern = models.OneToOneField(Concern, on_delete=models.CASCADE, related_name="raised_on")
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="concern_links")
    about_entry = models.BooleanField(
        default=False,
        help_text="Raised because staff went in at a child's invitation or with no adult with parental "
        "responsibility there: the Home Visit Form can then record it.",
    )

    def __str__(self):
        return f"Concern #{self.concern_id} from visit #{self.visit_id}"
