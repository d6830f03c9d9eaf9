"""Forms for records pages: parsing only (the services judge)."""

from django import forms
from django.utils import timezone

from core.forms import Form

from ..models import TransferMethod


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class TransferForm(Form):
    left_on = forms.DateField(label="Left the school on", widget=DateInput())
    new_school = forms.CharField(label="New school", max_length=200, help_text="Its name and town.")
    sent_to = forms.CharField(
        label="Sent to", max_length=200, help_text="The new school's DSL: their name and how to reach them."
    )
    method = forms.ChoiceField(label="How it was sent", choices=TransferMethod.choices, widget=forms.RadioSelect)
    sent_on = forms.DateField(label="Sent on", widget=DateInput(), initial=timezone.localdate)


class ReceiptForm(Form):
    receipt_on = forms.DateField(label="Receipt confirmed on", widget=DateInput(), initial=timezone.localdate)
    receipt_from = forms.CharField(
        label="Confirmed by", max_length=200, help_text="Who confirmed it, and how (e.g. their DSL, by email)."
    )


class AccessRequestForm(Form):
    received_on = forms.DateField(label="Request received on", widget=DateInput(), initial=timezone.localdate)
    requested_by = forms.CharField(
        label="Who asked", max_length=200, help_text="Their name, and how you checked who they are."
    )
