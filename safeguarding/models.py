"""Schools, their home-visit policy as data, staff profiles and the audit trail."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from localflavor.gb.forms import GBPostcodeField
from phonenumber_field.modelfields import PhoneNumberField

from .roles import Role


def normalise_postcode(value: str) -> str:
    """'lu11aa' -> 'LU1 1AA'. Raises ValidationError for something that is not a UK postcode."""
    return GBPostcodeField().clean(value)


class PostcodeField(models.CharField):
    """A UK postcode, validated and stored in its normal form by django-localflavor."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 8)
        kwargs.setdefault("validators", [normalise_postcode])
        super().__init__(*args, **kwargs)

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if value:
            try:
                value = normalise_postcode(value)
            except ValidationError:
                return value  # full_clean reports it; the DB keeps what was typed rather than crash.
            setattr(model_instance, self.attname, value)
        return value


class Trust(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class School(models.Model):
    trust = models.ForeignKey(Trust, on_delete=models.PROTECT, related_name="schools")
    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    address_line1 = models.CharField("address line 1", max_length=200)
    address_line2 = models.CharField("address line 2", max_length=200, blank=True)
    town = models.CharField(max_length=100)
    postcode = PostcodeField()
    phone = PhoneNumberField()
    email = models.EmailField(blank=True)
    logo = models.ImageField(upload_to="school-logos/", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def address(self) -> str:
        parts = [self.address_line1, self.address_line2, self.town, self.postcode]
        return ", ".join(p for p in parts if p)

    def policy(self) -> "EffectivePolicy":
        """The values this school works to: its own overrides on top of its trust's defaults."""
        return EffectivePolicy.for_school(self)


class Authorisers(models.TextChoices):
    DSL_OR_PRINCIPAL = "dsl_or_principal", "a DSL or the Principal"
    PRINCIPAL_ONLY = "principal_only", "the Principal only"


class HomeVisitPolicy(models.Model):
    """One trust-wide default row (school empty) and optional per-school rows that override it.

    On a school's row an empty value means "as the trust". Defaults are the seed policies' numbers.
    """

    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="policies")
    school = models.OneToOneField(
        School, on_delete=models.CASCADE, null=True, blank=True, related_name="policy_override",
        help_text="Leave empty for the trust-wide default.",
    )
    max_visit_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Longest a visit may last without the Principal's exception."
    )
    wait_if_late_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="How long staff wait for a parent who is running late."
    )
    overdue_grace_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Minutes after the expected return before a visit counts as overdue."
    )
    max_extension_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Most that staff may extend a visit by from the field."
    )
    earliest_start = models.TimeField(null=True, blank=True, help_text="Earliest start of a visit.")
    latest_start = models.TimeField(
        null=True, blank=True, help_text="Latest start of a visit; later counts as an evening visit."
    )
    unannounced_needs_principal = models.BooleanField(
        null=True, blank=True, help_text="Whether an unannounced visit needs the Principal's approval."
    )
    authorisers = models.CharField(max_length=20, choices=Authorisers.choices, blank=True)
    report_due_hours = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The Home Visit Form is due this many hours after the return."
    )
    review_date = models.DateField(null=True, blank=True, help_text="When the policy is next reviewed.")

    class Meta:
        verbose_name = "home-visit policy"
        verbose_name_plural = "home-visit policies"
        constraints = [
            models.UniqueConstraint(
                fields=["trust"], condition=Q(school__isnull=True), name="one_default_policy_per_trust"
            ),
            models.CheckConstraint(
                name="trust_default_policy_is_complete",
                condition=Q(school__isnull=False)
                | Q(
                    max_visit_minutes__isnull=False,
                    wait_if_late_minutes__isnull=False,
                    overdue_grace_minutes__isnull=False,
                    max_extension_minutes__isnull=False,
                    earliest_start__isnull=False,
                    latest_start__isnull=False,
                    unannounced_needs_principal__isnull=False,
                    report_due_hours__isnull=False,
                    review_date__isnull=False,
                )
                & ~Q(authorisers=""),
            ),
            models.CheckConstraint(
                name="policy_minutes_positive",
                condition=Q(max_visit_minutes__isnull=True) | Q(max_visit_minutes__gt=0),
            ),
            models.CheckConstraint(
                name="policy_report_hours_positive",
                condition=Q(report_due_hours__isnull=True) | Q(report_due_hours__gt=0),
            ),
        ]

    def __str__(self):
        return f"Policy for {self.school or self.trust}"

    def clean(self):
        if self.school_id and self.school.trust_id != self.trust_id:
            raise ValidationError({"school": "This school belongs to another trust."})
        if self.school_id is None:
            missing = [
                self._meta.get_field(name).verbose_name
                for name in EffectivePolicy.value_fields()
                if getattr(self, name) in (None, "")
            ]
            if missing:
                raise ValidationError(f"The trust-wide default needs every value; missing: {', '.join(missing)}.")
        start, end = self.earliest_start, self.latest_start
        if start and end and start >= end:
            raise ValidationError({"latest_start": "The latest start must be after the earliest start."})


class EscalationAction(models.TextChoices):
    RING_LEAD = "ring_lead", "Office rings the lead's mobile"
    ALERT_SENIOR = "alert_senior", "Alert the DSL and Principal"
    POLICE_PROMPT = "police_prompt", "Prompt the office to call the police"


class EscalationStep(models.Model):
    """One step of a policy's overdue chain, `delay_minutes` after the visit became overdue."""

    policy = models.ForeignKey(HomeVisitPolicy, on_delete=models.CASCADE, related_name="escalation_steps")
    order = models.PositiveSmallIntegerField()
    action = models.CharField(max_length=20, choices=EscalationAction.choices)
    delay_minutes = models.PositiveSmallIntegerField(help_text="Minutes after the visit became overdue.")

    class Meta:
        ordering = ["policy", "order"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "order"], name="escalation_step_order_unique"),
        ]

    def __str__(self):
        return f"{self.get_action_display()} after {self.delay_minutes} min"


@dataclass(frozen=True)
class EffectivePolicy:
    """A school's policy values after applying its overrides to the trust default."""

    school_id: int
    max_visit_minutes: int
    wait_if_late_minutes: int
    overdue_grace_minutes: int
    max_extension_minutes: int
    earliest_start: datetime.time
    latest_start: datetime.time
    unannounced_needs_principal: bool
    authorisers: str
    report_due_hours: int
    review_date: datetime.date
    escalation_steps: tuple[EscalationStep, ...]

    @staticmethod
    def value_fields() -> list[str]:
        return [
            "max_visit_minutes", "wait_if_late_minutes", "overdue_grace_minutes", "max_extension_minutes",
            "earliest_start", "latest_start", "unannounced_needs_principal", "authorisers",
            "report_due_hours", "review_date",
        ]

    @classmethod
    def for_school(cls, school: School) -> "EffectivePolicy":
        rows = {
            p.school_id: p
            for p in HomeVisitPolicy.objects.filter(Q(trust_id=school.trust_id, school__isnull=True) | Q(school=school))
            .prefetch_related("escalation_steps")
        }
        default = rows.get(None)
        if default is None:
            raise HomeVisitPolicy.DoesNotExist(f"{school.trust} has no trust-wide home-visit policy.")
        override = rows.get(school.pk)
        values = {}
        for name in cls.value_fields():
            own = getattr(override, name, None) if override else None
            values[name] = own if own not in (None, "") else getattr(default, name)
        own_steps = tuple(override.escalation_steps.all()) if override else ()
        return cls(school_id=school.pk, escalation_steps=own_steps or tuple(default.escalation_steps.all()), **values)


class StaffProfile(models.Model):
    """A member of staff: the schools they work at, contact details, training and vehicle.

    Roles are Django groups (safeguarding.roles.Role); `roles` lists them for display.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    schools = models.ManyToManyField(School, related_name="staff")
    job_title = models.CharField(max_length=100, blank=True)
    mobile = PhoneNumberField(blank=True)
    training_completed_on = models.DateField(
        "safer-working-practice training completed", null=True, blank=True
    )
    training_expires_on = models.DateField("safer-working-practice training expires", null=True, blank=True)
    vehicle_description = models.CharField(max_length=100, blank=True, help_text="Make, model and colour.")
    vehicle_registration = models.CharField(max_length=10, blank=True)
    business_insurance_confirmed = models.BooleanField(
        default=False, help_text="The car is insured for business use (needed to drive to visits)."
    )

    class Meta:
        ordering = ["user__last_name", "user__first_name"]
        constraints = [
            models.CheckConstraint(
                name="training_expires_after_completed",
                condition=Q(training_completed_on__isnull=True)
                | Q(training_expires_on__isnull=True)
                | Q(training_expires_on__gt=models.F("training_completed_on")),
            ),
        ]

    def __str__(self):
        return self.user.get_full_name() or self.user.username

    def get_absolute_url(self):
        return reverse("admin:safeguarding_staffprofile_change", args=[self.pk])

    def clean(self):
        done, expires = self.training_completed_on, self.training_expires_on
        if done and expires and expires <= done:
            raise ValidationError({"training_expires_on": "The expiry must be after the training date."})
        self.vehicle_registration = self.vehicle_registration.upper().replace(" ", "")

    @property
    def roles(self) -> list[str]:
        return [g.name for g in self.user.groups.all() if g.name in Role.values]

    def training_valid_on(self, day: datetime.date) -> bool:
        return bool(self.training_expires_on and self.training_expires_on >= day)


class AuditEntry(models.Model):
    """Who did what, to which record, when: written beside every state change and sensitive view."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    school = models.ForeignKey(School, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=60, db_index=True)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=40)
    summary = models.CharField(max_length=300)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"


# --- Concerns and incidents: restricted safeguarding records (issue 6) ---------------------------------------


class ConcernKind(models.TextChoices):
    CONCERN = "concern", "Child-protection concern"
    DISCLOSURE = "disclosure", "Disclosure by a child or adult"


class Concern(models.Model):
    """A child-protection concern or disclosure. Visible to the school's DSLs and Principal only.

    Raised from a visit's form or on its own; the DSLs hear at once. It has its own actions and outcome.
    """

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="concerns")
    child = models.ForeignKey("visits.Child", on_delete=models.PROTECT, related_name="concerns")
    visit = models.ForeignKey(
        "visits.Visit", on_delete=models.SET_NULL, null=True, blank=True, related_name="concerns"
    )
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
            models.CheckConstraint(
                name="concern_kind_valid", condition=Q(kind__in=ConcernKind.values)
            ),
            models.CheckConstraint(
                name="closed_concern_has_outcome", condition=Q(closed_at__isnull=True) | ~Q(outcome="")
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} about {self.child} ({self.raised_at:%d %b %Y})"

    def get_absolute_url(self):
        return reverse("safeguarding:concern", args=[self.pk])

    def clean(self):
        if self.child_id and self.school_id and self.child.school_id != self.school_id:
            raise ValidationError({"child": "This child is not on this school's roll."})
        if not (self.details or "").strip():
            raise ValidationError({"details": "Describe the concern."})

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


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
    visit = models.ForeignKey("visits.Visit", on_delete=models.PROTECT, related_name="incidents")
    kind = models.CharField(max_length=20, choices=IncidentKind.choices)
    occurred_at = models.DateTimeField()
    details = models.TextField()
    staff_accused = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
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
        return reverse("safeguarding:incident", args=[self.pk])

    def clean(self):
        if not (self.details or "").strip():
            raise ValidationError({"details": "Describe what happened."})
        if self.kind == IncidentKind.ACCUSATION and not self.staff_accused_id:
            raise ValidationError({"staff_accused": "Say which member of staff the accusation is against."})

    @property
    def principal_only(self) -> bool:
        return self.kind == IncidentKind.ACCUSATION
