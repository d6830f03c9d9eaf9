"""Forms for getting a visit ready to leave: the safe word, checklist overrides, the social worker."""

from django import forms

from core.forms import Form


class SafeWordForm(Form):
    word = forms.CharField(
        label="Safe word or phrase", min_length=3, max_length=60, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )


class OverrideForm(Form):
    item = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class SocialWorkerForm(Form):
    told_after = forms.BooleanField(required=False, label="They will be told straight after the visit")
    note = forms.CharField(
        required=False,
        max_length=300,
        label="Note",
        help_text="Needed if they are told after: who tells them, and when.",
    )
