"""Alerts the office must act on, the messages sent about them, and the sweep's heartbeat."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import EscalationAction

from .field import CheckInKind
from .visit import Visit


class AlertKind(models.TextChoices):
    OVERDUE = "overdue", "Overdue"
    ON_SITE_TOO_LONG = "on_site_too_long", "On site too long: check on them"
    DURESS = "duress", "Duress: code word"
    # Raised from the doorstep (visits/field/services.py): the office rings the family; the DSLs are needed now.
    NO_ANSWER = "no_answer", "Nobody answers: ring the family now"
    CHILD_DANGER = "child_danger", "Safeguarding: the visitors need a DSL now"


class AlertOutcome(models.TextChoices):
    RANG_ALL_FINE = "rang_all_fine", "Rang: all fine, new return time"
    RANG_NO_ANSWER = "rang_no_answer", "Rang: no answer"
    POLICE_CALLED = "police_called", "Police called"
    CHECKED_FINE = "checked_fine", "Checked on them: all fine"
    RESOLVED_BY_CHECKIN = "resolved_by_checkin", "Resolved by a check-in"
    # The only ways a duress alert closes: a DSL or the Principal confirms the pair are safe, and says how they know.
    SAFE_SPOKE = "safe_spoke", "Confirmed safe: spoke to them"
    SAFE_SAW = "safe_saw", "Confirmed safe: saw them"
    SAFE_POLICE = "safe_police", "Confirmed safe: the police confirmed it"
    # The office's answer to "nobody answers", which the pair read on the field page.
    FAMILY_COMING = "family_coming", "Rang the family: they are coming"
    FAMILY_NO_ANSWER = "family_no_answer", "Rang the family: no answer"
    DSL_SPOKE = "dsl_spoke", "A DSL has spoken to the visitors"


CONFIRMED_SAFE = (AlertOutcome.SAFE_SPOKE, AlertOutcome.SAFE_SAW, AlertOutcome.SAFE_POLICE)
# Alerts that only a person's answer closes: no check-in, extension or return by the pair does (a return can be
# coerced; a child in danger still needs the DSL once the pair are back).
CLOSED_BY_A_PERSON = (AlertKind.DURESS, AlertKind.CHILD_DANGER)


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
    # For duress, calling the police is a step that leaves the alert up (it closes only when a DSL or the
    # Principal confirms the pair are safe): when the office, a DSL or the Principal said they called them.
    police_called_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    # Unanswered alerts are sent again, then to the next step's people: how many rounds are queued so far and
    # when the next falls due (empty once answered, or when a later step has taken over).
    rounds_sent = models.PositiveSmallIntegerField(default=1)
    next_repeat_at = models.DateTimeField(null=True, blank=True)

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
            models.CheckConstraint(
                name="duress_closes_only_when_confirmed_safe",
                condition=~Q(kind="duress") | Q(acknowledged_at__isnull=True) | Q(outcome__in=CONFIRMED_SAFE),
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
            return f"Overdue: {EscalationAction(self.action).label}"
        return self.get_kind_display()

    @property
    def is_police_prompt(self) -> bool:
        return self.kind == AlertKind.DURESS or self.action == "police_prompt"

    @property
    def is_duress(self) -> bool:
        return self.kind == AlertKind.DURESS

    @property
    def is_doorstep(self) -> bool:
        """Raised from the doorstep: answered by what the office did, never with a new return time."""
        return self.kind in (AlertKind.NO_ANSWER, AlertKind.CHILD_DANGER)

    def checkins_after(self, checkins) -> list:
        """Of the visit's check-ins, those after this alert was raised (the code word itself left out): shown
        beside a duress alert, since someone can be made to press "Returned"; none of them closes it."""
        code_word = (CheckInKind.DURESS, CheckInKind.OFFICE_CODE_WORD)
        return [c for c in checkins if c.at >= self.raised_at and c.kind not in code_word]


class NotificationChannel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"


class DeliveryStatus(models.TextChoices):
    """What the provider last said about a message it accepted (a text, an email or a letter by post)."""

    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Not delivered"


class AlertNotification(models.Model):
    """The outbox: one message for one recipient on one channel, about an alert (each round of it), a visit (the
    lead's reminder) or a text someone sent us (the reply; no visit when the sender was not matched to one).
    Unique per visit, key, channel and recipient, so a retry never sends twice; it counts as sent only once the
    provider accepted it (`provider_id`). The provider's delivery receipt then says whether it reached the phone
    or inbox (`delivery_status`)."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications")
    alert = models.ForeignKey(VisitAlert, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications")
    key = models.CharField(max_length=60, default="", help_text="e.g. alert:12:0 (alert 12, first round), reminder:0")
    channel = models.CharField(max_length=10, choices=NotificationChannel.choices)
    recipient = models.CharField(max_length=254)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    subject = models.CharField(max_length=200, default="")
    body = models.TextField(default="")
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=120, blank=True, help_text="The provider's id for the accepted message.")
    attempts = models.PositiveSmallIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(
        null=True, blank=True, help_text="Gave up after its retries, or the provider said it was not delivered."
    )
    last_error = models.CharField(max_length=300, blank=True)
    # Set when the provider accepts the message (sent), then only by its verified delivery receipt.
    delivery_status = models.CharField(max_length=10, choices=DeliveryStatus.choices, blank=True)
    delivery_status_at = models.DateTimeField(null=True, blank=True)
    delivery_reason = models.CharField(max_length=300, blank=True, help_text="The provider's reason for a failure.")

    class Meta:
        ordering = ["visit", "key", "channel", "recipient"]
        constraints = [
            models.UniqueConstraint(fields=["visit", "key", "channel", "recipient"], name="notify_once_per_recipient"),
            models.CheckConstraint(name="sent_means_accepted", condition=Q(sent_at__isnull=True) | ~Q(provider_id="")),
            models.CheckConstraint(
                name="notification_delivery_status_valid",
                condition=Q(delivery_status="") | Q(delivery_status__in=DeliveryStatus.values),
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="notification_unsent",
                condition=Q(sent_at__isnull=True, failed_at__isnull=True),
            ),
            models.Index(fields=["visit"], name="notification_failed", condition=Q(failed_at__isnull=False)),
        ]

    def __str__(self):
        return f"{self.channel} to {self.recipient}"

    @property
    def receipt_reference(self) -> str:
        """Our reference for it at the provider: its delivery receipt names this row."""
        return f"notification-{self.pk}"

    @property
    def failure_text(self) -> str:
        """What the board says: "text to Sam Okafor failed"."""
        what = "text" if self.channel == NotificationChannel.SMS else "email"
        who = (self.user.get_full_name() or self.user.username) if self.user_id else self.recipient
        return f"{what} to {who} failed"


class SweepHeartbeat(models.Model):
    """The alert sweep's last run, so the board and /healthz can say plainly when alerting is degraded."""

    name = models.CharField(max_length=40, primary_key=True)
    last_run_at = models.DateTimeField()
    runs = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return f"{self.name} at {self.last_run_at:%H:%M:%S}"
