"""The office's answer to an alert, and a DSL's or the Principal's confirmation that the pair are safe."""

import datetime

from django import forms
from django.utils import timezone

from core.forms import Form

from ..models import CONFIRMED_SAFE, AlertKind, AlertOutcome, VisitAlert
from .services import SAFE_NOTE_MISSING


class AcknowledgeForm(Form):
    outcome = forms.ChoiceField(label="What did you do?", widget=forms.RadioSelect(attrs={"class": "form-check-input"}))
    new_return = forms.TimeField(
        label="New return time (if all fine)",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    police_reference = forms.CharField(label="Police reference (if called)", max_length=60, required=False)
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, alert: VisitAlert, **kwargs):
        kwargs.setdefault("prefix", f"ack-{alert.pk}")
        super().__init__(*args, **kwargs)
        self.alert = alert
        choices = [AlertOutcome.RANG_ALL_FINE, AlertOutcome.RANG_NO_ANSWER, AlertOutcome.POLICE_CALLED]
        if alert.kind == AlertKind.ON_SITE_TOO_LONG:
            choices.insert(0, AlertOutcome.CHECKED_FINE)
        if alert.kind == AlertKind.NO_ANSWER:
            choices = [AlertOutcome.FAMILY_COMING, AlertOutcome.FAMILY_NO_ANSWER]
            self.fields["outcome"].label = "Ring the family, then say what they said: the visitors read it at the door."
        if alert.kind == AlertKind.CHILD_DANGER:
            choices = [AlertOutcome.DSL_SPOKE]
            self.fields["outcome"].label = "Once a DSL has spoken to the visitors:"
        if alert.kind == AlertKind.DURESS:
            # Calling the police is the one thing recorded here: the alert stays up until a DSL or the Principal
            # confirms the pair are safe (ConfirmSafeForm, on its own page).
            choices = [AlertOutcome.POLICE_CALLED]
            self.fields["outcome"].label = "What have you done?"
        self.fields["outcome"].choices = [(c.value, c.label) for c in choices]

    def clean(self):
        data = super().clean()
        if data.get("outcome") == AlertOutcome.RANG_ALL_FINE and not data.get("new_return"):
            self.add_error("new_return", "Give the new return time they agreed.")
        if data.get("outcome") == AlertOutcome.POLICE_CALLED and not data.get("police_reference", "").strip():
            self.add_error("police_reference", "Give the police reference number.")
        return data

    def new_return_at(self) -> datetime.datetime | None:
        """Today's date in the school's zone with the time given; a time already past means tomorrow's."""
        value = self.cleaned_data.get("new_return")
        if not value:
            return None
        now = timezone.localtime()
        zone = timezone.get_current_timezone()
        candidate = datetime.datetime.combine(now.date(), value, tzinfo=zone)
        if candidate <= now - datetime.timedelta(hours=12):
            candidate += datetime.timedelta(days=1)
        return candidate


class ConfirmSafeForm(Form):
    """How a DSL or the Principal knows the pair are safe: both parts are required."""

    how = forms.ChoiceField(
        label="How do you know they are safe?",
        choices=[(c.value, c.label.removeprefix("Confirmed safe: ").capitalize()) for c in CONFIRMED_SAFE],
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={"required": "Choose how you know they are safe."},
    )
    note = forms.CharField(
        label="Who, where and when",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example: “Rang Sam's mobile at 14:20, spoke to Sam and Jo, both back in their car.”",
        error_messages={"required": SAFE_NOTE_MISSING},
    )
