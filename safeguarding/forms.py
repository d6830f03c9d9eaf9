"""Forms for concerns and incidents (issue 6)."""

from django import forms
from django.utils import timezone

from .models import ConcernKind, IncidentKind


def _datetime_local():
    return forms.DateTimeInput({"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ChildChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.first_name} {obj.last_name} ({obj.get_year_group_display()})"


class ConcernForm(forms.Form):
    child = ChildChoice(queryset=None, error_messages={"invalid_choice": "Choose a child on your school's roll."})
    kind = forms.ChoiceField(choices=ConcernKind.choices, widget=forms.RadioSelect, initial=ConcernKind.CONCERN,
                             label="What is it?")
    details = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}), label="What you saw or heard",
        help_text="Facts, in the words used where you can. Say when and where.",
        error_messages={"required": "Describe the concern."},
    )
    action_taken = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Anything you have already done"
    )

    def __init__(self, *args, children, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["child"].queryset = children


class IncidentForm(forms.Form):
    kind = forms.ChoiceField(choices=IncidentKind.choices, widget=forms.RadioSelect, label="What happened?")
    occurred_at = forms.DateTimeField(label="When", widget=_datetime_local())
    details = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}), help_text="Everything you remember, as soon as you can.",
        error_messages={"required": "Describe what happened."},
    )
    staff_accused = forms.ModelChoiceField(
        queryset=None, required=False, label="For an accusation: against whom",
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


class ConcernCloseForm(forms.Form):
    outcome = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), label="Outcome",
        error_messages={"required": "Record the outcome before closing the concern."},
    )
