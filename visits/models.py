"""Visits: who is visited, why, by whom and when, and everything that happens on the way."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from phonenumber_field.modelfields import PhoneNumberField

from core.fields import EncryptedTextField
from core.models import PermanentRecord, School
from core.roles import Role
from core.scoping import SchoolScopedQuerySet
from families.models import Child, Household
from safeguarding.models import Concern, RiskAssessment


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


class VisitStatus(models.TextChoices):
    """The visit's life (DESIGN.md): services move a visit between these, views never set them."""

    DRAFT = "draft", "Draft"
    REQUESTED = "requested", "Awaiting authorisation"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    DECLINED = "declined", "Declined"
    FAMILY_DECLINED = "family_declined", "Declined by the family"
    AUTHORISED = "authorised", "Authorised"
    CANCELLED = "cancelled", "Cancelled"
    OUT = "out", "Out of school"
    ON_SITE = "on_site", "On site"
    LEFT = "left", "Left the property"
    RETURNED = "returned", "Returned"
    REPORTED = "reported", "Report written"
    REVIEWED = "reviewed", "Reviewed"


# While a visit is in one of these, staff are away from school and the office must know when they are back.
AWAY_STATUSES = (VisitStatus.OUT, VisitStatus.ON_SITE, VisitStatus.LEFT)


class VisitQuerySet(SchoolScopedQuerySet):
    def away(self):
        return self.filter(status__in=AWAY_STATUSES)


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
    lead_mobile = PhoneNumberField(blank=True, help_text="The number the office rings.")
    principal_exception_reason = models.TextField(
        blank=True, help_text="Why the visit needs the Principal's exception (evening, longer than the policy allows)."
    )
    status = models.CharField(max_length=20, choices=VisitStatus.choices, default=VisitStatus.DRAFT)
    submitted_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was last sent for authorisation: the approvals queue's order."
    )
    # Field check-ins (visits.checkins): when the pair left school and reached the door, and the return time
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
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="requested_visits"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VisitQuerySet.as_manager()

    class Meta:
        ordering = ["-scheduled_start"]
        permissions = [("view_visit_details", "Can see the visit's full details")]
        indexes = [
            models.Index(fields=["school", "scheduled_start"]),
            # The sweep's only query: open (away) visits whose timer has passed. Small however many visits exist.
            models.Index(
                fields=["alert_due_at"],
                name="visit_alert_due_away",
                condition=Q(status__in=["out", "on_site", "left"], alert_due_at__isnull=False),
            ),
            # The board's "still out" half (beside today's visits by school and start).
            models.Index(
                fields=["school"], name="visit_away_by_school", condition=Q(status__in=["out", "on_site", "left"])
            ),
            # The dashboard's panels read visits still in progress; finished ones are the vast majority.
            models.Index(
                fields=["school", "status"],
                name="visits_in_progress",
                condition=Q(
                    status__in=[
                        "requested",
                        "changes_requested",
                        "authorised",
                        "out",
                        "on_site",
                        "left",
                        "returned",
                        "reported",
                    ]
                ),
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
        if errors:
            raise ValidationError(errors)

    @property
    def local_start(self) -> datetime.datetime:
        from django.utils import timezone

        return timezone.localtime(self.scheduled_start)

    @property
    def is_away(self) -> bool:
        return self.status in AWAY_STATUSES

    @property
    def before_departure(self) -> bool:
        """Still being planned: the pre-departure checklist is the thing to work through."""
        return self.status in {
            VisitStatus.DRAFT,
            VisitStatus.REQUESTED,
            VisitStatus.CHANGES_REQUESTED,
            VisitStatus.AUTHORISED,
        }

    @property
    def due_back(self) -> datetime.datetime:
        """The return time the pair are working to now."""
        return self.due_back_at or self.expected_return

    def overdue_at(self, policy) -> datetime.datetime:
        return self.due_back + datetime.timedelta(minutes=policy.overdue_grace_minutes)

    def is_overdue(self, policy, now: datetime.datetime) -> bool:
        return self.is_away and now >= self.overdue_at(policy)

    def on_site_too_long_at(self, policy) -> datetime.datetime | None:
        if self.status != VisitStatus.ON_SITE or not self.arrived_at:
            return None
        return self.arrived_at + datetime.timedelta(minutes=policy.max_visit_minutes)

    def next_alert_due(self, policy) -> datetime.datetime | None:
        """When the next alert for this visit falls due, from its own fields and the school's policy (pure)."""
        if not self.is_away:
            return None
        candidates = []
        steps = policy.escalation_steps
        if self.escalation_level < len(steps):
            step = steps[self.escalation_level]
            candidates.append(self.overdue_at(policy) + datetime.timedelta(minutes=step.delay_minutes))
        on_site_at = self.on_site_too_long_at(policy)
        if on_site_at and not self.on_site_alert_raised:
            candidates.append(on_site_at)
        return min(candidates) if candidates else None


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


# --- After the visit: the Home Visit Form, the people present, follow-up actions (issue 6) -------------------


class VisitOutcome(models.TextChoices):
    SEEN = "seen", "Seen: the visit took place"
    NO_ACCESS = "no_access", "No access: letter posted"
    DECLINED = "declined", "Declined by the family"
    ABANDONED = "abandoned", "Abandoned on the doorstep"


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
    invited_in_by = models.CharField(max_length=100, blank=True, help_text="Who invited staff in.")
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
            errors["invited_in_by"] = "Say who invited you in."
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
    created_at = models.DateTimeField(auto_now_add=True)
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


class CheckInKind(models.TextChoices):
    CHECKED_OUT = "checked_out", "Checked out of school"
    ARRIVED = "arrived", "Arrived"
    LEFT = "left", "Left the property safely"
    RETURNED = "returned", "Returned to school"
    NOT_RETURNING = "not_returning", "Not returning to school: finished and safe"
    EXTENDED = "extended", "Running late: extended"
    DURESS = "duress", "Duress"
    OFFICE_CODE_WORD = "office_code_word", "Code word received on a call"


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


class AlertKind(models.TextChoices):
    OVERDUE = "overdue", "Overdue"
    ON_SITE_TOO_LONG = "on_site_too_long", "On site too long: check on them"
    DURESS = "duress", "Duress: code word"


class AlertOutcome(models.TextChoices):
    RANG_ALL_FINE = "rang_all_fine", "Rang: all fine, new return time"
    RANG_NO_ANSWER = "rang_no_answer", "Rang: no answer"
    POLICE_CALLED = "police_called", "Police called"
    CHECKED_FINE = "checked_fine", "Checked on them: all fine"
    RESOLVED_BY_CHECKIN = "resolved_by_checkin", "Resolved by a check-in"


class VisitAlert(models.Model):
    """An alert the office must act on. `key` is unique per visit: a sweep that runs twice cannot raise it twice."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="alerts")
    key = models.CharField(max_length=40, help_text="e.g. overdue:0:1 (round 0, step 1), on_site, duress:3")
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    action = models.CharField(max_length=20, blank=True, help_text="The escalation step's action, if any.")
    step_order = models.PositiveSmallIntegerField(null=True, blank=True)
    due_at = models.DateTimeField(help_text="When the alert fell due.")
    raised_at = models.DateTimeField(help_text="When the system stored it.")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(max_length=20, choices=AlertOutcome.choices, blank=True)
    police_reference = models.CharField(max_length=60, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["visit", "raised_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["visit", "key"], name="alert_once_per_visit_and_key"),
            models.CheckConstraint(name="alert_kind_valid", condition=Q(kind__in=AlertKind.values)),
            models.CheckConstraint(
                name="alert_outcome_valid", condition=Q(outcome="") | Q(outcome__in=AlertOutcome.values)
            ),
            models.CheckConstraint(
                name="police_called_has_reference",
                condition=~Q(outcome="police_called") | ~Q(police_reference=""),
            ),
        ]
        indexes = [
            models.Index(fields=["visit"], name="alert_open", condition=Q(acknowledged_at__isnull=True)),
        ]

    def __str__(self):
        return f"{self.title} ({self.visit_id})"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None

    @property
    def title(self) -> str:
        if self.kind == AlertKind.OVERDUE and self.action:
            from core.models import EscalationAction

            return f"Overdue: {EscalationAction(self.action).label}"
        return self.get_kind_display()

    @property
    def is_police_prompt(self) -> bool:
        return self.kind == AlertKind.DURESS or self.action == "police_prompt"


class NotificationChannel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"


class AlertNotification(models.Model):
    """One message for one recipient on one channel: an outbox row, unique, so a retry never sends twice."""

    alert = models.ForeignKey(VisitAlert, on_delete=models.CASCADE, related_name="notifications")
    channel = models.CharField(max_length=10, choices=NotificationChannel.choices)
    recipient = models.CharField(max_length=254)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["alert", "channel", "recipient"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "channel", "recipient"], name="notify_once_per_recipient"),
        ]
        indexes = [models.Index(fields=["created_at"], name="notification_unsent", condition=Q(sent_at__isnull=True))]

    def __str__(self):
        return f"{self.channel} to {self.recipient}"


class SweepHeartbeat(models.Model):
    """The alert sweep's last run, so the board and /healthz can say plainly when alerting is degraded."""

    name = models.CharField(max_length=40, primary_key=True)
    last_run_at = models.DateTimeField()
    runs = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return f"{self.name} at {self.last_run_at:%H:%M:%S}"


# --- Moved from safeguarding: the decision, the safe word, preparation, overrides, incidents ---


class SafeWord(models.Model):
    """The code word the pair agree for a visit, recorded with the risk assessment and encrypted at rest."""

    visit = models.OneToOneField(Visit, on_delete=models.CASCADE, related_name="safe_word")
    risk_assessment = models.ForeignKey(RiskAssessment, on_delete=models.PROTECT, related_name="safe_words")
    word = EncryptedTextField()
    agreed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agreed_at = models.DateTimeField()

    def __str__(self):
        return f"Safe word for visit #{self.visit_id}"  # never the word itself: __str__ reaches logs and admin

    @property
    def school(self):
        return self.risk_assessment.household.school


class VisitPreparation(models.Model):
    """What was done before the visit that the checklist asks about: parents, Headteacher, social worker."""

    visit = models.OneToOneField(Visit, on_delete=models.CASCADE, related_name="preparation")
    headteacher_informed_at = models.DateTimeField(null=True, blank=True)
    headteacher_informed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    social_worker_informed_at = models.DateTimeField(null=True, blank=True)
    social_worker_informed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    social_worker_told_after = models.BooleanField(
        default=False, help_text="The social worker will be told straight after the visit."
    )
    social_worker_note = models.CharField(max_length=300, blank=True)

    def __str__(self):
        return f"Preparation for visit #{self.visit_id}"


class ChecklistOverride(models.Model):
    """A pre-departure checklist item set aside by the role the school's policy names, with the reason."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="checklist_overrides")
    item = models.CharField(max_length=30)
    reason = models.TextField()
    role = models.CharField(max_length=20, choices=Role.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["visit", "item"]
        constraints = [models.UniqueConstraint(fields=["visit", "item"], name="one_override_per_checklist_item")]

    def __str__(self):
        return f"{self.item} overridden on visit #{self.visit_id}"


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

    # The codes visits.policy.principal_exceptions() uses, as a reader would say them.
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


class VisitConcern(models.Model):
    """A concern raised from a visit. The link lives here, on the visits side: safeguarding's concerns never
    need to know about visits."""

    concern = models.OneToOneField(Concern, on_delete=models.CASCADE, related_name="raised_on")
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="concern_links")

    def __str__(self):
        return f"Concern #{self.concern_id} from visit #{self.visit_id}"
