"""Forms for after the visit: the Home Visit Form with the people present and the actions, the debrief, the
sign-off, completing an action, and incidents."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from core.forms import CappedFormSet, Form, formset_factory
from core.selectors import staff_users

from ..models import EntryInvitation, IncidentKind, VisitOutcome


def _datetime_local():
    return forms.DateTimeInput({"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class IncidentForm(Form):
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


YES_NO = [("yes", "Yes"), ("no", "No")]


def _yes_no(label, **kwargs):
    return forms.TypedChoiceField(
        label=label, choices=YES_NO, coerce=lambda v: v == "yes", widget=forms.RadioSelect, **kwargs
    )


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username


class ReportForm(Form):
    """The Home Visit Form's single fields. The people present and the actions are formsets beside it."""

    arrived_at = forms.DateTimeField(label="Arrived", widget=_datetime_local())
    departed_at = forms.DateTimeField(label="Left", widget=_datetime_local())
    outcome = forms.ChoiceField(
        choices=VisitOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the outcome of the visit."},
    )
    abandoned_reason = forms.CharField(
        required=False, label="Why was it abandoned?", widget=forms.Textarea(attrs={"rows": 2})
    )
    child_seen = _yes_no("Was the child seen?")
    staff_went_in = _yes_no("Did you go into the home?")
    invited_in_by = forms.ChoiceField(
        required=False, choices=EntryInvitation.choices, widget=forms.RadioSelect, label="Who let you in?"
    )
    parent_summary = forms.CharField(
        label="What was discussed and agreed (for the family)",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="This goes on the parent/carer copy. Write it for the family to read.",
    )
    internal_notes = forms.CharField(
        required=False,
        label="Internal notes (school only)",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Never shown on the parent copy. A child-protection concern goes in a concern, not here.",
    )
    referrals = forms.CharField(
        required=False, label="Referrals to outside agencies", widget=forms.Textarea(attrs={"rows": 2})
    )
    next_visit_on = forms.DateField(required=False, label="Next visit", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        arrived, departed = data.get("arrived_at"), data.get("departed_at")
        if arrived and departed and departed < arrived:
            self.add_error("departed_at", "The time you left must be after you arrived.")
        if data.get("outcome") == VisitOutcome.ABANDONED and not data.get("abandoned_reason", "").strip():
            self.add_error("abandoned_reason", "Say why the visit was abandoned.")
        if data.get("staff_went_in") and not data.get("invited_in_by", "").strip():
            self.add_error("invited_in_by", "Say who let you in.")
        return data


class OptionalRowForm(Form):
    """A formset row that may be left empty; once anything is typed in it, `needed` fields are required."""

    needed: dict[str, str] = {}  # field name -> the message when it is missing from a row in use

    def clean(self):
        data = super().clean()
        if any(data.get(name) for name in self.fields):
            for name, message in self.needed.items():
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, message)
        return data


class PresentForm(OptionalRowForm):
    needed = {"name": "Give this person's name.", "relationship": "Give their relationship to the child."}

    name = forms.CharField(max_length=100, required=False, label="Name")
    relationship = forms.CharField(max_length=60, required=False, label="Relationship", help_text="To the child")
    parental_responsibility = forms.BooleanField(required=False, label="Has parental responsibility")


class ActionForm(OptionalRowForm):
    needed = {
        "description": "Say what the action is.",
        "owner": "Choose who will do it.",
        "due_on": "Give the date it is due by.",
    }

    description = forms.CharField(max_length=300, required=False, label="Action")
    owner = StaffChoiceField(queryset=get_user_model().objects.none(), required=False, label="Who")
    due_on = forms.DateField(required=False, label="By when", widget=forms.DateInput(attrs={"type": "date"}))
    agreed_with_family = forms.BooleanField(required=False, label="Agreed with the family (on their copy)")

    def __init__(self, *args, school=None, required=False, **kwargs):
        super().__init__(*args, **kwargs)
        if required:  # a single action added on its own (to a concern), not a spare row of a formset
            for name in self.needed:
                self.fields[name].required = True
            del self.fields["agreed_with_family"]  # a concern's actions never reach the family's copy
        if school is not None:
            self.fields["owner"].queryset = staff_users(school=school)


class GrowingFormSet(CappedFormSet):
    """Every row optional (blank rows are ignored), with room for the rows restored from a draft plus spares."""

    spare_rows = 2

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.extra = len(self.initial or []) + self.spare_rows

    def initial_form_count(self):
        return super().initial_form_count() if self.is_bound else 0


PresentFormSet = formset_factory(PresentForm, formset=GrowingFormSet, extra=2)


ActionFormSet = formset_factory(ActionForm, formset=GrowingFormSet, extra=2)


class DebriefForm(Form):
    debrief_with = StaffChoiceField(queryset=get_user_model().objects.none(), label="Debriefed with")
    debrief_at = forms.DateTimeField(label="When", widget=_datetime_local())

    def __init__(self, *args, school, exclude_user=None, **kwargs):
        super().__init__(*args, **kwargs)
        qs = staff_users(school=school)
        self.fields["debrief_with"].queryset = qs.exclude(pk=exclude_user.pk) if exclude_user else qs


class ReviewForm(Form):
    review_comment = forms.CharField(
        required=False,
        label="Comment",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Anything the lead or the file should know. Signing off closes the visit.",
    )


class ActionCompleteForm(Form):
    completion_outcome = forms.CharField(
        label="What was done",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say what was done."},
    )
