"""Each school's home-visit policy as data: a trust-wide default, per-school overrides, the escalation chain."""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from ..standards import (
    STANDARD_CHECKLIST_OVERRIDES,
    STANDARD_DEBRIEF_BEFORE_SIGN_OFF,
    STANDARD_DURESS_WORD,
    STANDARD_EARLIEST_CHECKOUT_MINUTES,
    STANDARD_HAZARDS,
    STANDARD_LOCATION_KEEP_DAYS,
    STANDARD_REMIND_BEFORE_MINUTES,
    STANDARD_REPEAT_AFTER_MINUTES,
    STANDARD_RISK_MATRIX,
    STANDARD_RISK_REVIEW_DAYS,
    STANDARD_TRAINING_WARNING_DAYS,
    validate_checklist_overrides,
    validate_duress_word,
    validate_risk_matrix,
)


class Authorisers(models.TextChoices):
    DSL_OR_PRINCIPAL = "dsl_or_principal", "a DSL or the Principal"
    PRINCIPAL_ONLY = "principal_only", "the Principal only"


class HomeVisitPolicy(models.Model):
    """One trust-wide default row (school empty) and optional per-school rows that override it.

    On a school's row an empty value means "as the trust". Defaults are the seed policies' numbers.
    """

    trust = models.ForeignKey("core.Trust", on_delete=models.CASCADE, related_name="policies")
    school = models.OneToOneField(
        "core.School",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="policy_override",
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
    earliest_checkout_minutes = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        verbose_name="earliest check-out before the planned start",
        help_text=f"Minutes before the planned start that the pair may check out. Empty: "
        f"{STANDARD_EARLIEST_CHECKOUT_MINUTES}.",
    )
    repeat_after_minutes = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        verbose_name="repeat an unanswered alert after",
        help_text=f"Minutes an alert may go unacknowledged before it is sent again, then to the next step's "
        f"people. Empty: {STANDARD_REPEAT_AFTER_MINUTES}.",
    )
    remind_before_minutes = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        verbose_name="remind the lead before due back",
        help_text=f"Minutes before due back that the lead is texted a reminder (0: no reminder). Empty: "
        f"{STANDARD_REMIND_BEFORE_MINUTES}.",
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
    debrief_before_sign_off = models.BooleanField(
        null=True,
        blank=True,
        verbose_name="debrief before sign-off",
        help_text="Whether the lead's debrief (with their line manager) must be recorded before the Home Visit Form "
        "is signed off. Empty: not required.",
    )
    # Shown to trust admins in the admin only: never on the field page, in a log or in the audit trail.
    duress_word = models.CharField(
        max_length=30,
        blank=True,
        validators=[validate_duress_word],
        help_text="A word the pair text to the school's number when they are in danger: it raises a duress alert "
        "silently and is answered like an ordinary check-in. One word nobody would text by accident, agreed with "
        "staff in training. Empty on the trust default: no duress word (texts are check-ins only); empty on a "
        "school: as the trust.",
    )
    location_keep_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Days a check-in's location (sent only when the visitor allows it) is kept, then removed. Empty: 30.",
    )
    # Risk assessment, training and checklist values. Empty on the trust default means the standard of
    # Appendix 1 (safeguarding/risk.py); empty on a school's row means "as the trust".
    risk_matrix = models.JSONField(
        null=True,
        blank=True,
        validators=[validate_risk_matrix],
        help_text="Severities, likelihoods and the level for each pair. Empty: the standard matrix.",
    )
    standard_hazards = models.JSONField(
        null=True, blank=True, help_text="The rows a new risk assessment starts from. Empty: Appendix 1's hazards."
    )
    risk_review_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="A risk assessment is due for review this many days after it is done."
    )
    training_warning_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Warn DSLs this many days before someone's training expires."
    )
    checklist_override_roles = models.JSONField(
        null=True,
        blank=True,
        validators=[validate_checklist_overrides],
        help_text="Which roles may override each pre-departure checklist item. Empty: the standard.",
    )

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
                name="policy_repeat_after_positive",
                condition=Q(repeat_after_minutes__isnull=True) | Q(repeat_after_minutes__gt=0),
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


# The policy's review date is flagged this long before it falls, and from then on until someone moves it.
REVIEW_WARNING_DAYS = 30


def review_warning(review_date: datetime.date | None, *, today: datetime.date) -> str:
    """What to say about a policy's review date on `today` ("" while it is more than a month away)."""
    if review_date is None:
        return ""
    days = (review_date - today).days
    when = f"{review_date.day} {review_date:%B %Y}"
    if days < 0:
        return f"The review date, {when}, has passed ({-days} day{'s' if days != -1 else ''} ago): review the policy."
    if days == 0:
        return f"The policy is due for review today, {when}."
    if days <= REVIEW_WARNING_DAYS:
        return f"The policy is due for review on {when}, in {days} day{'s' if days != 1 else ''}."
    return ""


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
    # No defaults here (for_school always supplies them), so fields added later need none either.
    risk_matrix: dict
    standard_hazards: list
    risk_review_days: int
    training_warning_days: int
    checklist_override_roles: dict
    earliest_checkout_minutes: int
    repeat_after_minutes: int
    remind_before_minutes: int
    debrief_before_sign_off: bool
    location_keep_days: int
    duress_word: str = field(repr=False)  # never in a log line that prints the policy

    # Values a trust default may leave empty (then the standard in safeguarding/risk.py applies).
    OPTIONAL_VALUES = {
        "risk_matrix": STANDARD_RISK_MATRIX,
        "standard_hazards": STANDARD_HAZARDS,
        "risk_review_days": STANDARD_RISK_REVIEW_DAYS,
        "training_warning_days": STANDARD_TRAINING_WARNING_DAYS,
        "checklist_override_roles": STANDARD_CHECKLIST_OVERRIDES,
        "earliest_checkout_minutes": STANDARD_EARLIEST_CHECKOUT_MINUTES,
        "repeat_after_minutes": STANDARD_REPEAT_AFTER_MINUTES,
        "remind_before_minutes": STANDARD_REMIND_BEFORE_MINUTES,
        "debrief_before_sign_off": STANDARD_DEBRIEF_BEFORE_SIGN_OFF,
        "duress_word": STANDARD_DURESS_WORD,
        "location_keep_days": STANDARD_LOCATION_KEEP_DAYS,
    }

    @staticmethod
    def value_fields() -> list[str]:
        return [
            "max_visit_minutes",
            "wait_if_late_minutes",
            "overdue_grace_minutes",
            "max_extension_minutes",
            "earliest_start",
            "latest_start",
            "unannounced_needs_principal",
            "authorisers",
            "report_due_hours",
            "review_date",
        ]

    @classmethod
    def for_school(cls, school) -> "EffectivePolicy":
        return cls.for_schools([school])[school.pk]

    @classmethod
    def for_schools(cls, schools) -> dict[int, "EffectivePolicy"]:
        """Each school's policy (by school id), read together: two queries however many schools."""
        trust_ids = {school.trust_id for school in schools}
        rows = HomeVisitPolicy.objects.filter(
            Q(trust_id__in=trust_ids, school__isnull=True) | Q(school__in=[school.pk for school in schools])
        ).prefetch_related("escalation_steps")
        defaults, overrides = {}, {}
        for row in rows:
            if row.school_id is None:
                defaults[row.trust_id] = row
            else:
                overrides[row.school_id] = row
        policies = {}
        for school in schools:
            default = defaults.get(school.trust_id)
            if default is None:
                raise HomeVisitPolicy.DoesNotExist(f"{school.trust} has no trust-wide home-visit policy.")
            policies[school.pk] = cls._combined(school.pk, default, overrides.get(school.pk))
        return policies

    @classmethod
    def _combined(cls, school_id, default, override) -> "EffectivePolicy":
        values = {}
        for name in cls.value_fields():
            own = getattr(override, name, None) if override else None
            values[name] = own if own not in (None, "") else getattr(default, name)
        for name, standard in cls.OPTIONAL_VALUES.items():
            chosen = [getattr(row, name, None) for row in (override, default) if row is not None]
            values[name] = next((v for v in chosen if v not in (None, "", [], {})), standard)
        if values["checklist_override_roles"] is not STANDARD_CHECKLIST_OVERRIDES:
            # A policy naming only some items keeps the standard for the rest.
            values["checklist_override_roles"] = {**STANDARD_CHECKLIST_OVERRIDES, **values["checklist_override_roles"]}
        own_steps = tuple(override.escalation_steps.all()) if override else ()
        return cls(school_id=school_id, escalation_steps=own_steps or tuple(default.escalation_steps.all()), **values)

    def frozen_chain(self) -> "SafetyChain":
        """What a visit checking out now works to, copied onto it so later edits change nothing mid-visit."""
        return SafetyChain(
            grace_minutes=self.overdue_grace_minutes,
            max_extension_minutes=self.max_extension_minutes,
            max_visit_minutes=self.max_visit_minutes,
            repeat_after_minutes=self.repeat_after_minutes,
            remind_before_minutes=self.remind_before_minutes,
            steps=tuple(ChainStep(action=s.action, delay_minutes=s.delay_minutes) for s in self.escalation_steps),
        )


@dataclass(frozen=True)
class ChainStep:
    action: str
    delay_minutes: int


@dataclass(frozen=True)
class SafetyChain:
    """The escalation chain and timer values a visit works to from its check-out (after grafana/oncall's
    escalation snapshot). Stored on the visit as JSON; the sweep reads only this copy."""

    grace_minutes: int
    max_extension_minutes: int
    max_visit_minutes: int
    repeat_after_minutes: int
    remind_before_minutes: int
    steps: tuple[ChainStep, ...]

    def to_json(self) -> dict:
        return {
            "grace_minutes": self.grace_minutes,
            "max_extension_minutes": self.max_extension_minutes,
            "max_visit_minutes": self.max_visit_minutes,
            "repeat_after_minutes": self.repeat_after_minutes,
            "remind_before_minutes": self.remind_before_minutes,
            "steps": [{"action": s.action, "delay_minutes": s.delay_minutes} for s in self.steps],
        }

    @classmethod
    def from_json(cls, data: dict) -> "SafetyChain":
        return cls(
            grace_minutes=data["grace_minutes"],
            max_extension_minutes=data["max_extension_minutes"],
            max_visit_minutes=data["max_visit_minutes"],
            repeat_after_minutes=data["repeat_after_minutes"],
            remind_before_minutes=data["remind_before_minutes"],
            steps=tuple(ChainStep(**step) for step in data["steps"]),
        )

    def frozen_chain(self) -> "SafetyChain":
        return self

    # The names EffectivePolicy uses, so code that is handed either reads the same values.
    @property
    def overdue_grace_minutes(self) -> int:
        return self.grace_minutes

    @property
    def escalation_steps(self) -> tuple[ChainStep, ...]:
        return self.steps
