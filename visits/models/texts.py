"""Texts the pair send to the school's number (check-in by text message): every one is kept, with who sent it,
what it said, what it did and the reply."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from .alerts import AlertNotification
from .visit import Visit


class TextProvider(models.TextChoices):
    NOTIFY = "notify", "GOV.UK Notify"
    TWILIO = "twilio", "Twilio"


class TextCommand(models.TextChoices):
    OUT = "out", "OUT"
    ARRIVED = "arrived", "ARRIVED"
    LEFT = "left", "LEFT"
    BACK = "back", "BACK"
    LATE = "late", "LATE"
    # The school's duress word: the log shows it as the check-in its reply imitated to everyone but the DSLs
    # and the Principal.
    DURESS = "duress", "Duress word"


class TextOutcome(models.TextChoices):
    RECORDED = "recorded", "Recorded"
    REFUSED = "refused", "Not recorded: it does not fit the visit now"
    NOT_UNDERSTOOD = "not_understood", "Not understood"
    UNKNOWN_SENDER = "unknown_sender", "Not from a registered staff mobile"
    NO_VISIT = "no_visit", "No visit under way for them"
    TWO_VISITS = "two_visits", "More than one visit: asked to use the field page"


class InboundText(models.Model):
    """One text received on the school's number. Unique per provider message id, so a webhook the provider sends
    again (or someone replays) finds the first one and changes nothing. `body` is kept exactly as sent."""

    provider = models.CharField(max_length=10, choices=TextProvider.choices)
    provider_id = models.CharField(max_length=64, help_text="The provider's id for the message.")
    sender = models.CharField(max_length=32, help_text="The number it came from, as the provider gave it.")
    received_at = models.DateTimeField()
    body = models.TextField(blank=True)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    visit = models.ForeignKey(Visit, on_delete=models.SET_NULL, null=True, blank=True, related_name="texts")
    # Whose log it is in: the visit's school, or the sender's school when they work at one only.
    school = models.ForeignKey("core.School", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    command = models.CharField(max_length=10, choices=TextCommand.choices, blank=True)
    minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=TextOutcome.choices)
    note = models.CharField(max_length=300, blank=True, help_text="Why it was not recorded, in the reply's words.")
    # For the duress word: the check-in whose reply it was given, so the office's log shows that and nothing else.
    replied_as = models.CharField(max_length=10, choices=TextCommand.choices, blank=True)
    reply = models.CharField(max_length=320, blank=True)
    reply_notification = models.ForeignKey(
        AlertNotification, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "provider_id"], name="inbound_text_once"),
            models.CheckConstraint(name="inbound_text_command_valid", condition=Q(command__in=["", *TextCommand])),
            models.CheckConstraint(name="inbound_text_outcome_valid", condition=Q(outcome__in=TextOutcome.values)),
        ]
        indexes = [models.Index(fields=["school", "-received_at"], name="inbound_text_log")]

    def __str__(self):
        return f"Text from {self.sender} at {self.received_at:%H:%M}"

    @property
    def is_duress(self) -> bool:
        return self.command == TextCommand.DURESS

    @property
    def as_the_office_sees_it(self) -> tuple[str, str]:
        """(what it said, what it did) for the office: a duress-word text reads as the check-in it imitated."""
        if self.is_duress:
            return TextCommand(self.replied_as).label if self.replied_as else "Check-in", TextOutcome.RECORDED.label
        return self.body, self.get_outcome_display()
