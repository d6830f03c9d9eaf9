"""The visit itself: who is visited, why, by whom and when; its people, their access and its timeline."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from phonenumber_field.modelfields import PhoneNumberField

from core.models import SafetyChain, School
from core.scoping import SchoolScopedQuerySet
from families.models import Child, Household

from ..lifecycle import AWAY, BACK, BEFORE_DEPARTURE, CLEARED_TO_GO, IN_PROGRESS, REPORT_WRITTEN, VisitStatus


class Purpose(models.TextChoices):
    """Why staff visit: the reasons the seed policies list."""

    TRANSITION = "transition", "Transition / new starter"
    ATTENDANCE = "attendance", "Attendance"
    SEND_SUPPORT = "send_support", "SEND support"
    FAMILY_SUPPORT = "family_support", "Family support"
    WELFARE_CHECK = "welfare_check", "Safeguarding or welfare check"
    WORK_DROP_OFF = "work_drop_off", "Drop off or collect work"
    MEDICAL_ABSENCE = "medical_absence", "Medical absence"
    SUSPECTED_HOLIDAY = "suspected_holiday", "Suspected unauthorised holiday"
    COLLECT_OR_DROP_CHILD = "collect_or_drop_child", "Collect or drop off a child"
    REFUSING_TO_ATTEND = "refusing_to_attend", "Refusing to attend"
    ELECTIVE_HOME_EDUCATION = "elective_home_education", "Elective home education"
    OTHER = "other", "Other"


class VisitQuerySet(SchoolScopedQuerySet):
    def away(self):
        return self.filter(status__in=AWAY)

    def locked(self, visit):
        """The visit's row, locked until the transaction ends, so two clicks (or a click and the sweep) cannot
        interleave; with its school, whose policy every verb reads. Only the visit's own row is locked (`of`): a
        lock on the joined school row would make every check-in at the school wait for every other."""
        return self.select_for_update(of=("self",)).select_related("school").get(pk=visit.pk)


class Visit(models.Model):
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="visits")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="visits")
    children = models.ManyToManyField(Child, related_name="visits")
    purpose = models.CharField(max_length=30, choices=Purpose.choices)
    reason = models.TextField(help_text="Why this visit, and why now.")
    outcome_wanted = models.TextField(help_text="What the school hopes the visit achieves.")
    announced = models.BooleanField(default=True, help_text="The family has been told about the visit.")
    unannounced_reason = models.TextField(blank=True, help_text="Required for an unannounced visit.")
    invite_to_school_instead = models.BooleanField(
        default=False, help_text="The family is invited into school instead of a home visit."
    )
    scheduled_start = models.DateTimeField()
    expected_duration_minutes = models.PositiveSmallIntegerField()
    expected_return = models.DateTimeField(help_text="When the pair are due back at school.")
    vehicle = models.CharField(max_length=120, blank=True, help_text="Description and registration.")
    # Who drives the car (one of the visitors): their business insurance is checked (the policies ask for it).
    driver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The visitor who drives the car; empty when nobody drives.",
    )
    lead_mobile = PhoneNumberField(blank=True, help_text="The number the office rings.")
    principal_exception_reason = models.TextField(
        blank=True, help_text="Why the visit needs the Principal's exception (evening, longer than the policy allows)."
    )
    status = models.CharField(max_length=20, choices=VisitStatus.choices, default=VisitStatus.DRAFT)
    submitted_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was last sent for authorisation: the approvals queue's order."
    )
    # Field check-ins (visits/field/services.py): when the pair left school and reached the door, and the return time
    # they are now working to (the planned one plus any extension, or what the office agreed on a call).
    checked_out_at = models.DateTimeField(null=True, blank=True, editable=False)
    arrived_at = models.DateTimeField(null=True, blank=True, editable=False)
    due_back_at = models.DateTimeField(null=True, blank=True, editable=False)
    extended_minutes = models.PositiveSmallIntegerField(default=0, editable=False)
    # The alert timer, after healthchecks' Check.alert_after: when the sweep must next look at this visit.
    # Recomputed by every service that changes the status or the return time; empty when nothing can fire.
    alert_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    # How many overdue escalation steps have been raised in the current round, and which round: an office
    # "rang, all fine, new time" starts a new round so the chain can run again if they are late a second time.
    escalation_level = models.PositiveSmallIntegerField(default=0, editable=False)
    overdue_round = models.PositiveSmallIntegerField(default=0, editable=False)
    on_site_alert_raised = models.BooleanField(default=False, editable=False)
    # Whether the lead's "due back soon" text is queued for the current round (a new return time starts a new one).
    reminder_queued = models.BooleanField(default=False, editable=False)
    # The escalation chain, grace and limits as they were at check-out (core.models.SafetyChain as JSON): the
    # sweep reads only this, so a policy edit while the pair are out changes nothing for them.
    safety_chain = models.JSONField(null=True, blank=True, editable=False)
    # Set by the sweep when raising this visit's alerts raised an error (it is set aside and retried a little
    # later, the rest are still alerted); the board tells the office to ring the pair. Cleared by a good sweep.
    alerting_failed_at = models.DateTimeField(null=True, blank=True, editable=False)
    alerting_error = models.CharField(max_length=300, blank=True, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="requested_visits"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VisitQuerySet.as_manager()

    class Meta:
        ordering = ["-scheduled_start"]
        permissions = [("view_visit_details", "Can see the visit's full details")]
        indexes = [
            models.Index(fields=["school", "scheduled_start"]),
            # The sweep's only query: visits whose timer has passed (away, or back with duress unanswered). Small
            # however many visits exist: the timer is cleared once nothing is left to raise or repeat.
            models.Index(fields=["alert_due_at"], name="visit_alert_due", condition=Q(alert_due_at__isnull=False)),
            # The board's "still out" half (beside today's visits by school and start).
            models.Index(fields=["school"], name="visit_away_by_school", condition=Q(status__in=AWAY)),
            # The dashboard's panels read visits still in progress; finished ones are the vast majority.
            models.Index(
                fields=["school", "status"],
                name="visits_in_progress",
                condition=Q(status__in=IN_PROGRESS),
            ),
        ]
        constraints = [
            models.CheckConstraint(name="visit_status_valid", condition=Q(status__in=VisitStatus.values)),
            models.CheckConstraint(name="visit_purpose_valid", condition=Q(purpose__in=Purpose.values)),
            models.CheckConstraint(name="visit_duration_positive", condition=Q(expected_duration_minutes__gt=0)),
            models.CheckConstraint(
                name="visit_returns_after_start", condition=Q(expected_return__gt=F("scheduled_start"))
            ),
            models.CheckConstraint(
                name="unannounced_visit_has_reason", condition=Q(announced=True) | ~Q(unannounced_reason="")
            ),
        ]

    def __str__(self):
        return f"{self.get_purpose_display()} visit to {self.household.name} on {self.local_start:%d %b %Y}"

    def get_absolute_url(self):
        return reverse("visits:detail", args=[self.pk])

    def clean(self):
        errors = {}
        if self.expected_duration_minutes is not None and self.expected_duration_minutes <= 0:
            errors["expected_duration_minutes"] = "The duration must be at least one minute."
        if self.scheduled_start and self.expected_return and self.expected_return <= self.scheduled_start:
            errors["expected_return"] = "The expected return must be after the start."
        elif (
            self.scheduled_start
            and self.expected_return
            and self.expected_duration_minutes
            and self.expected_duration_minutes > 0
            and self.expected_return < self.scheduled_start + datetime.timedelta(minutes=self.expected_duration_minutes)
        ):
            errors["expected_return"] = "The expected return is before the visit would end."
        if not self.announced and not self.unannounced_reason.strip():
            errors["unannounced_reason"] = "Say why this visit is unannounced."
        if self.household_id and self.school_id and self.household.school_id != self.school_id:
            errors["household"] = "This household belongs to another school."
        if self.driver_id and not self.vehicle.strip():
            errors["vehicle"] = "Describe the car and give its registration."
        if errors:
            raise ValidationError(errors)

    @property
    def local_start(self) -> datetime.datetime:
        return timezone.localtime(self.scheduled_start)

    # Where the visit is in its life, for templates and views (the groups are named in visits/lifecycle.py).

    @property
    def is_away(self) -> bool:
        return self.status in AWAY

    def is_out_on(self, day: datetime.date) -> bool:
        """Checked out of school on this (school-time) day and not yet back."""
        return self.is_away and self.checked_out_at is not None and timezone.localdate(self.checked_out_at) == day

    @property
    def before_departure(self) -> bool:
        """Still being planned: the pre-departure checklist is the thing to work through."""
        return self.status in BEFORE_DEPARTURE

    @property
    def awaiting_decision(self) -> bool:
        return self.status == VisitStatus.REQUESTED

    @property
    def is_authorised(self) -> bool:
        return self.status == VisitStatus.AUTHORISED

    @property
    def is_cleared_to_go(self) -> bool:
        """Authorised, and still so once the pair have set off."""
        return self.status in CLEARED_TO_GO

    @property
    def is_cancelled(self) -> bool:
        return self.status == VisitStatus.CANCELLED

    @property
    def is_back(self) -> bool:
        return self.status in BACK

    @property
    def report_to_write(self) -> bool:
        return self.status == VisitStatus.RETURNED

    @property
    def report_written(self) -> bool:
        return self.status in REPORT_WRITTEN

    @property
    def missed_you_applies(self) -> bool:
        """The "sorry we missed you" letter is for a visit where nobody answered: the Home Visit Form's outcome
        is no access, as submitted or as the lead has chosen it so far (the letter is posted while writing it)."""
        from .after import VisitOutcome

        report = getattr(self, "report", None) if self.is_back else None
        if report is None:
            return False
        if report.submitted_at:
            return report.outcome == VisitOutcome.NO_ACCESS
        chosen = report.draft.get("outcome")
        return (chosen[0] if isinstance(chosen, list) and chosen else chosen) == VisitOutcome.NO_ACCESS

    @property
    def due_back(self) -> datetime.datetime:
        """The return time the pair are working to now."""
        return self.due_back_at or self.expected_return

    @property
    def planned_length(self) -> datetime.timedelta:
        """Planned start to planned return: what due back is re-based on at check-out."""
        return self.expected_return - self.scheduled_start

    def chain(self, policy=None) -> SafetyChain:
        """The chain this visit works to: the copy frozen at check-out; before that, the school's live one."""
        if self.safety_chain:
            return SafetyChain.from_json(self.safety_chain)
        return (policy or self.school.policy()).frozen_chain()

    def overdue_at(self, policy=None) -> datetime.datetime:
        return self.due_back + datetime.timedelta(minutes=self.chain(policy).grace_minutes)

    def is_overdue(self, policy, now: datetime.datetime) -> bool:
        return self.is_away and now >= self.overdue_at(policy)

    def on_site_too_long_at(self, policy=None) -> datetime.datetime | None:
        if self.status != VisitStatus.ON_SITE or not self.arrived_at:
            return None
        return self.arrived_at + datetime.timedelta(minutes=self.chain(policy).max_visit_minutes)

    def remind_at(self, policy=None) -> datetime.datetime | None:
        """When the lead is texted "due back soon", unless already done this round (or the policy says never)."""
        minutes = self.chain(policy).remind_before_minutes
        if not self.is_away or self.reminder_queued or not minutes:
            return None
        return self.due_back - datetime.timedelta(minutes=minutes)

    def next_alert_due(self, policy=None, *, repeat_at: datetime.datetime | None = None) -> datetime.datetime | None:
        """When the sweep must next look at this visit, from its own fields and frozen chain (pure). `repeat_at`
        is the earliest repeat of an alert still unanswered (VisitAlert.next_repeat_at)."""
        if not self.is_away:
            # Back, yet a duress alert may still be unanswered (a return can be coerced): it repeats until a
            # DSL or the Principal confirms the pair are safe. Every other alert was answered by the return.
            return repeat_at
        chain = self.chain(policy)
        candidates = [at for at in (repeat_at, self.remind_at(chain)) if at]
        if self.escalation_level < len(chain.steps):
            step = chain.steps[self.escalation_level]
            candidates.append(self.overdue_at(chain) + datetime.timedelta(minutes=step.delay_minutes))
        on_site_at = self.on_site_too_long_at(chain)
        if on_site_at and not self.on_site_alert_raised:
            candidates.append(on_site_at)
        return min(candidates) if candidates else None

    def alert_due(self, policy=None) -> datetime.datetime | None:
        """next_alert_due with the visit's unanswered alerts' repeats read from the database (one query)."""
        repeat_at = self.alerts.filter(acknowledged_at__isnull=True).aggregate(at=models.Min("next_repeat_at"))["at"]
        return self.next_alert_due(policy, repeat_at=repeat_at)


class VisitRole(models.TextChoices):
    LEAD = "lead", "Lead"
    SECOND = "second", "Second visitor"
    EXTERNAL = "external", "External practitioner"


class VisitPerson(models.Model):
    """One of the visit's pair (or more): school staff by account, an external practitioner by name."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="people")
    role = models.CharField(max_length=10, choices=VisitRole.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="visit_roles"
    )
    external_name = models.CharField(max_length=100, blank=True)
    external_organisation = models.CharField(max_length=100, blank=True)
    external_phone = PhoneNumberField(blank=True)

    class Meta:
        ordering = ["visit", "role"]
        verbose_name = "visitor"
        constraints = [
            models.UniqueConstraint(fields=["visit"], condition=Q(role="lead"), name="one_lead_per_visit"),
            models.UniqueConstraint(fields=["visit", "user"], name="visitor_once_per_visit"),
            models.CheckConstraint(name="visitor_role_valid", condition=Q(role__in=VisitRole.values)),
            # Staff are linked by account; an external practitioner by name and organisation.
            models.CheckConstraint(
                name="visitor_is_staff_or_named_external",
                condition=(Q(role="external", user__isnull=True) & ~Q(external_name="") & ~Q(external_organisation=""))
                | (~Q(role="external") & Q(user__isnull=False)),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_role_display()})"

    def clean(self):
        if self.role == VisitRole.EXTERNAL:
            if self.user_id:
                self.user = None
            errors = {}
            if not self.external_name.strip():
                errors["external_name"] = "Give the external practitioner's name."
            if not self.external_organisation.strip():
                errors["external_organisation"] = "Give the practitioner's organisation."
            if errors:
                raise ValidationError(errors)
        elif not self.user_id:
            raise ValidationError({"user": "Choose the member of staff."})

    @property
    def name(self) -> str:
        if self.user_id:
            return self.user.get_full_name() or self.user.username
        return self.external_name


# Per-visit object permissions in their own tables with real foreign keys (django-guardian's "direct"
# permissions): deleting a visit deletes its grants, and lists can join on them.
class VisitUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Visit, on_delete=models.CASCADE)


class VisitGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Visit, on_delete=models.CASCADE)


class VisitTransition(models.Model):
    """A step in the visit's life: who moved it, from what, to what, when and why. Shown as its timeline."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=20, choices=VisitStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=VisitStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["visit", "at", "id"]

    def __str__(self):
        return f"{self.from_status or 'new'} -> {self.to_status}"
