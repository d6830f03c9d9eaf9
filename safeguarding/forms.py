"""Forms for risk assessments, the prohibited-addresses list, training and concerns."""

import datetime

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils import timezone
from localflavor.gb.forms import GBPostcodeField

from core.forms import CappedFormSet, Form, formset_factory
from core.models import School, StaffProfile
from core.permissions import school_ids_where
from core.roles import SENIOR
from core.selectors import member_ids

from .models import ConcernKind


def _helper(label: str, *, tag=True) -> FormHelper:
    helper = FormHelper()
    helper.form_tag = tag
    if tag:
        helper.add_input(Submit("submit", label, css_class="btn-lg"))
    return helper


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class SchoolScopeField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"Only {obj.name}"


class ProhibitedAddressForm(Form):
    school = SchoolScopeField(
        queryset=School.objects.none(),
        required=False,
        empty_label="Every school in the trust",
        help_text="Which schools the local authority's entry applies to.",
    )
    address_line1 = forms.CharField(label="Address line 1", max_length=200)
    address_line2 = forms.CharField(label="Address line 2", max_length=200, required=False)
    town = forms.CharField(max_length=100, required=False)
    postcode = GBPostcodeField(error_messages={"invalid": "Enter a UK postcode, e.g. LU1 1AA."})
    note = forms.CharField(max_length=300, required=False, help_text="The local authority's reference or reason.")
    expires_on = forms.DateField(required=False, widget=DateInput(), help_text="Leave empty if it does not lapse.")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = School.objects.filter(pk__in=school_ids_where(user, *SENIOR))
        self.helper = _helper("Add to the list")


class ExpireForm(Form):
    reason = forms.CharField(max_length=300, help_text="e.g. the local authority removed it on 3 March.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("Take off the list")


class ImportForm(Form):
    school = SchoolScopeField(queryset=School.objects.none(), required=False, empty_label="Every school in the trust")
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: address_line1, address_line2, town, postcode, note, expires_on. Saved as 'CSV UTF-8'.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = School.objects.filter(pk__in=school_ids_where(user, *SENIOR))
        self.helper = _helper("Check the file")


class JudgementForm(Form):
    entry = forms.IntegerField(widget=forms.HiddenInput)
    same_place = forms.TypedChoiceField(
        label="Is this the listed address?",
        widget=forms.RadioSelect,
        coerce=lambda v: v == "yes",
        choices=[("no", "No: a different place"), ("yes", "Yes: the same place")],
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text="How you decided.")


class RiskAssessmentForm(Form):
    vulnerable_persons = forms.CharField(
        label="Vulnerable persons particularly at risk", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    safeguarding_team_aware = forms.BooleanField(required=False, label="The safeguarding team is aware of visits")
    dangerous_animals = forms.BooleanField(required=False, label="Potentially dangerous animals at the address")
    animals_note = forms.CharField(required=False, max_length=200, label="Which animals")
    animals_kept_apart_agreed = forms.BooleanField(
        required=False, label="The family agreed to keep the animals in another room during visits"
    )
    aggressive_adult = forms.BooleanField(
        required=False, label="A known aggressive adult", help_text="Visits then need a DSL's sign-off."
    )
    invite_to_school_instead = forms.BooleanField(
        required=False, label="Invite the family into school instead of visiting"
    )
    review_on = forms.DateField(label="Review by", widget=DateInput())

    def __init__(self, *args, max_review_days: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_review_days = max_review_days
        self.fields["review_on"].help_text = f"At most {max_review_days} days ahead (the school's policy)."
        self.helper = _helper("", tag=False)

    def clean_review_on(self):
        day = self.cleaned_data["review_on"]
        today = timezone.localdate()
        if day < today:
            raise forms.ValidationError("The review date cannot be in the past.")
        if day > today + datetime.timedelta(days=self.max_review_days):
            raise forms.ValidationError(f"The school's policy asks for a review within {self.max_review_days} days.")
        return day

    def clean(self):
        data = super().clean()
        if data.get("dangerous_animals") and not data.get("animals_note", "").strip():
            self.add_error("animals_note", "Say which animals.")
        return data


class RiskRowForm(Form):
    hazard = forms.CharField(max_length=200)
    people = forms.CharField(label="People at risk", max_length=200)
    severity = forms.ChoiceField(label="Severity of harm")
    likelihood = forms.ChoiceField()
    controls = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, matrix: dict, **kwargs):
        super().__init__(*args, **kwargs)
        # A blank first choice, so the spare row for your own hazard stays empty (and is skipped) if unused.
        self.fields["severity"].choices = [("", "Choose")] + [(k, label) for k, label in matrix["severities"]]
        self.fields["likelihood"].choices = [("", "Choose")] + [(k, label) for k, label in matrix["likelihoods"]]


class BaseRiskRowFormSet(CappedFormSet):
    def clean(self):
        if any(self.errors):
            return
        if not any(f.cleaned_data and not f.cleaned_data.get("DELETE") for f in self.forms):
            raise forms.ValidationError("An assessment needs at least one hazard.")


RiskRowFormSet = formset_factory(RiskRowForm, formset=BaseRiskRowFormSet, extra=1, can_delete=True)


class TrainingRecordForm(Form):
    profile = forms.ModelChoiceField(queryset=StaffProfile.objects.none(), label="Member of staff")
    course = forms.CharField(max_length=200, initial="Safer working practice (home visits)")
    provider = forms.CharField(max_length=200, required=False)
    completed_on = forms.DateField(widget=DateInput())
    expires_on = forms.DateField(widget=DateInput())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["profile"].queryset = (
            StaffProfile.objects.filter(
                user__in=member_ids(school_ids=school_ids_where(user, *SENIOR)), user__is_active=True
            )
            .select_related("user")
            .order_by("user__first_name", "user__last_name")
        )
        self.helper = _helper("Record training")

    def clean(self):
        data = super().clean()
        done, expires = data.get("completed_on"), data.get("expires_on")
        if done and done > timezone.localdate():
            self.add_error("completed_on", "Training cannot be completed in the future.")
        if done and expires and expires <= done:
            self.add_error("expires_on", "The expiry must be after the training date.")
        return data


class ChildChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.first_name} {obj.last_name} ({obj.get_year_group_display()})"


class ConcernForm(Form):
    child = ChildChoice(queryset=None, error_messages={"invalid_choice": "Choose a child on your school's roll."})
    kind = forms.ChoiceField(
        choices=ConcernKind.choices, widget=forms.RadioSelect, initial=ConcernKind.CONCERN, label="What is it?"
    )
    details = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        label="What you saw or heard",
        help_text="Facts, in the words used where you can. Say when and where.",
        error_messages={"required": "Describe the concern."},
    )
    action_taken = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Anything you have already done"
    )

    def __init__(self, *args, children, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["child"].queryset = children


class ConcernCloseForm(Form):
    outcome = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Outcome",
        error_messages={"required": "Record the outcome before closing the concern."},
    )
