"""Forms for the records kept after a visit: incidents."""

from django import forms
from django.utils import timezone

from ..models import IncidentKind


def _datetime_local():
    return forms.DateTimeInput({"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class IncidentForm(forms.Form):
    kind = forms.ChoiceField(choices=IncidentKind.choices, widget=forms.RadioSelect, label="What happened?")
    occurred_at = forms.DateTimeField(label="When", widget=_datetime_local())
    details = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Everything you remember, as soon as you can.",
        error_messages={"required": "Describe what happened."},
    )
    staff_accused = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="For an accusation: against whom",
        help_text="This goes to the Principal alone.",
    )

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff_accused"].queryset = staff
        self.fields["staff_accused"].label_from_instance = lambda u: u.get_full_name() or u.username
        self.fields["occurred_at"].initial = timezone.localtime().strftime("%Y-%m-%dT%H:%M")

    def clean(self):
        data = super().clean()
        if data.get("kind") == IncidentKind.ACCUSATION and not data.get("staff_accused"):
            self.add_error("staff_accused", "Say which member of staff the accusation is against.")
        return data
