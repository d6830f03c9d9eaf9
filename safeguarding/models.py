"""Records that exist without a visit: risk assessments, prohibited addresses, training and concerns."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from core.addresses import parse_parts
from core.fields import PostcodeField
from core.models import School, StaffProfile, Trust
from families.models import Child, Household

# --- Risk assessments, prohibited addresses and training ---------------------------------------------------


class RiskLevel(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class RiskAssessment(models.Model):
    """The lone-working risk assessment for a household (Appendix 1): done before the first visit and referred
    to by later ones until its review date, or until an incident at the address makes it stale."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="risk_assessments")
    assessed_on = models.DateField()
    review_on = models.DateField("review by", help_text="After this date the assessment must be redone.")
    vulnerable_persons = models.TextField("vulnerable persons particularly at risk", blank=True)
    safeguarding_team_aware = models.BooleanField(default=False)
    dangerous_animals = models.BooleanField(
        "potentially dangerous animals at the address",
        default=False,
        help_text="They must be kept in another room during the visit, or the visit is cancelled.",
    )
    animals_note = models.CharField(max_length=200, blank=True, help_text="Which animals, and where they will be.")
    animals_kept_apart_agreed = models.BooleanField(
        "the family agreed to keep the animals in another room", default=False
    )
    aggressive_adult = models.BooleanField(
        "a known aggressive adult", default=False, help_text="Visits need a DSL's sign-off."
    )
    invite_to_school_instead = models.BooleanField(
        default=False, help_text="The risks mean the family should be invited into school rather than visited."
    )
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)
    stale_since = models.DateTimeField(null=True, blank=True)
    stale_reason = models.CharField(max_length=300, blank=True)
    review_by_principal = models.BooleanField(
        default=False,
        help_text="Marked for review for a reason only the Principal may know (an accusation against a member of "
        "staff): everyone else reads only that, and only the Principal redoes it.",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["household", "-created_at"])]
        constraints = [
            models.CheckConstraint(name="risk_review_after_assessment", condition=Q(review_on__gte=F("assessed_on"))),
        ]

    def __str__(self):
        return f"Risk assessment for {self.household.name} ({self.assessed_on:%d %b %Y})"

    def get_absolute_url(self):
        return reverse("safeguarding:risk_detail", args=[self.pk])

    def clean(self):
        if self.assessed_on and self.review_on and self.review_on < self.assessed_on:
            raise ValidationError({"review_on": "The review date cannot be before the assessment."})

    @property
    def school(self):
        return self.household.school

    def stale_reason_on(self, day: datetime.date) -> str:
        """Why this assessment cannot be relied on for a visit on `day`; '' when it is current."""
        if self.review_by_principal:
            also = f" Also marked for review: {self.stale_reason}" if self.stale_reason else ""
            return f"Marked for review by the Principal.{also}"
        if self.stale_since:
            return f"Marked for review: {self.stale_reason}"
        if self.review_on < day:
            return f"Review was due by {self.review_on:%d %b %Y}."
        return ""

    def is_current_on(self, day: datetime.date) -> bool:
        return not self.stale_reason_on(day)

    @property
    def highest_level(self) -> str:
        levels = {row.level for row in self.rows.all()}
        return next((lvl for lvl in (RiskLevel.HIGH, RiskLevel.MEDIUM, RiskLevel.LOW) if lvl in levels), "")

    @property
    def needs_sign_off(self) -> bool:
        return self.aggressive_adult or self.highest_level == RiskLevel.HIGH


class RiskRow(models.Model):
    """One hazard: who is at risk, how badly, how likely, the level from the school's matrix, and controls."""

    assessment = models.ForeignKey(RiskAssessment, on_delete=models.CASCADE, related_name="rows")
    order = models.PositiveSmallIntegerField(default=0)
    hazard = models.CharField(max_length=200)
    people = models.CharField("people at risk", max_length=200)
    severity = models.CharField(max_length=30)
    likelihood = models.CharField(max_length=30)
    level = models.CharField(max_length=10, choices=RiskLevel.choices)
    controls = models.TextField()

    class Meta:
        ordering = ["assessment", "order", "id"]
        constraints = [models.CheckConstraint(name="risk_row_level_valid", condition=Q(level__in=RiskLevel.values))]

    def __str__(self):
        return f"{self.hazard}: {self.level}"


class ProhibitedAddressImport(models.Model):
    """A CSV upload waiting for the DSL's confirmation: nothing joins the list until they confirm."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for confirmation"
        CONFIRMED = "confirmed", "Imported"
        DISCARDED = "discarded", "Discarded"

    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey(School, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    filename = models.CharField(max_length=200)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    accepted = models.JSONField(default=list, blank=True, help_text="The rows that will be imported on confirmation.")
    report = models.JSONField(default=list, blank=True, help_text="Row by row: taken or rejected, and why.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self):
        return f"Import of {self.filename} ({self.get_status_display()})"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def rejected_count(self) -> int:
        return sum(1 for row in self.report if row["status"] == "rejected")


class ProhibitedAddress(models.Model):
    """An address on the local authority's list where staff must not visit: for one school or the whole trust."""

    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="prohibited_addresses")
    school = models.ForeignKey(
        School,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="prohibited_addresses",
        help_text="Leave empty for every school in the trust.",
    )
    address_line1 = models.CharField("address line 1", max_length=200)
    address_line2 = models.CharField("address line 2", max_length=200, blank=True)
    town = models.CharField(max_length=100, blank=True)
    postcode = PostcodeField()
    premises_key = models.CharField(max_length=400, db_index=True, editable=False)
    note = models.CharField(max_length=300, blank=True, help_text="The local authority's reference or reason.")
    expires_on = models.DateField(null=True, blank=True, help_text="The list entry lapses after this day.")
    expired_at = models.DateTimeField(null=True, blank=True)
    expired_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    expired_reason = models.CharField(max_length=300, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)
    imported_from = models.ForeignKey(
        ProhibitedAddressImport, on_delete=models.SET_NULL, null=True, blank=True, related_name="entries"
    )

    class Meta:
        ordering = ["postcode", "address_line1"]
        verbose_name_plural = "prohibited addresses"
        indexes = [models.Index(fields=["trust", "postcode"])]

    def __str__(self):
        return self.address

    def save(self, *args, **kwargs):
        self.premises_key = parse_parts(line1=self.address_line1, line2=self.address_line2).key
        super().save(*args, **kwargs)

    def clean(self):
        if self.school_id and self.trust_id and self.school.trust_id != self.trust_id:
            raise ValidationError({"school": "This school belongs to another trust."})

    @property
    def address(self) -> str:
        parts = [self.address_line1, self.address_line2, self.town, self.postcode]
        return ", ".join(p for p in parts if p)

    def is_active_on(self, day: datetime.date) -> bool:
        return self.expired_at is None and (self.expires_on is None or self.expires_on >= day)


class AddressJudgement(models.Model):
    """A DSL's decision on a near match: the household is (or is not) the listed address."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="address_judgements")
    entry = models.ForeignKey(ProhibitedAddress, on_delete=models.CASCADE, related_name="judgements")
    household_address = models.CharField(
        max_length=400, help_text="The address judged; a later change of address needs a new judgement."
    )
    same_place = models.BooleanField()
    note = models.TextField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["-decided_at", "-id"]

    def __str__(self):
        verdict = "same place" if self.same_place else "a different place"
        return f"{self.household_address} judged {verdict} as {self.entry}"


class TrainingRecord(models.Model):
    """Safer-working-practice training a member of staff completed; the latest expiry is copied to the profile."""

    profile = models.ForeignKey(StaffProfile, on_delete=models.CASCADE, related_name="training_records")
    course = models.CharField(max_length=200, default="Safer working practice (home visits)")
    provider = models.CharField(max_length=200, blank=True)
    completed_on = models.DateField()
    expires_on = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["profile", "-expires_on"]
        constraints = [
            models.CheckConstraint(
                name="training_record_expires_after_completion", condition=Q(expires_on__gt=F("completed_on"))
            ),
        ]

    def __str__(self):
        return f"{self.course}, {self.completed_on:%d %b %Y}"

    def clean(self):
        if self.completed_on and self.expires_on and self.expires_on <= self.completed_on:
            raise ValidationError({"expires_on": "The expiry must be after the training date."})
        if self.completed_on and self.completed_on > datetime.date.today():
            raise ValidationError({"completed_on": "Training cannot be completed in the future."})


class ConcernKind(models.TextChoices):
    CONCERN = "concern", "Child-protection concern"
    DISCLOSURE = "disclosure", "Disclosure by a child or adult"


class Concern(models.Model):
    """A child-protection concern or disclosure. Visible to the school's DSLs and Principal only.

    Raised from a visit's form or on its own; the DSLs hear at once. It has its own actions and outcome.
    """

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="concerns")
    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="concerns")
    kind = models.CharField(max_length=20, choices=ConcernKind.choices, default=ConcernKind.CONCERN)
    details = models.TextField(help_text="What you saw or heard, in the words used where you can.")
    action_taken = models.TextField(blank=True, help_text="Anything you have already done.")
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField()
    outcome = models.TextField(blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        indexes = [models.Index(fields=["school", "raised_at"])]
        constraints = [
            models.CheckConstraint(name="concern_kind_valid", condition=Q(kind__in=ConcernKind.values)),
            models.CheckConstraint(
                name="closed_concern_has_outcome", condition=Q(closed_at__isnull=True) | ~Q(outcome="")
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} about {self.child} ({self.raised_at:%d %b %Y})"

    def get_absolute_url(self):
        # A project-wide page name: which app serves the page is the URLconf's business.
        return reverse("concern", args=[self.pk])

    def clean(self):
        if self.child_id and self.school_id and self.child.school_id != self.school_id:
            raise ValidationError({"child": "This child is not on this school's roll."})
        if not (self.details or "").strip():
            raise ValidationError({"details": "Describe the concern."})

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class SetupConfirmation(models.Model):
    """A school's set-up step that nothing else records: its policy values were reviewed, or its prohibited-addresses
    list is empty by decision (safeguarding/setup)."""

    class Item(models.TextChoices):
        POLICY_REVIEWED = "policy_reviewed", "Policy values reviewed"
        NO_PROHIBITED = "no_prohibited", "No prohibited addresses (confirmed)"

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="setup_confirmations")
    item = models.CharField(max_length=20, choices=Item.choices)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["school", "item"], name="one_setup_confirmation_per_item")]

    def __str__(self):
        return f"{self.get_item_display()} at {self.school}"
