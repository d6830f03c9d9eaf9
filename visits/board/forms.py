"""Forms for the board's reception screens: parsing input only (core.screens does the work)."""

from django import forms

from core.forms import Form
from core.models import School


class ScreenRegisterForm(Form):
    school = forms.ModelChoiceField(queryset=School.objects.none(), empty_label=None)
    name = forms.CharField(
        max_length=100, help_text="Where the screen is, so you can tell it apart, e.g. “Reception, main entrance”."
    )

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools


class ScreenEnrolForm(Form):
    code = forms.CharField(max_length=100, label="Enrolment code", strip=True)
