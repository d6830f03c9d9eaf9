"""The import page's forms: the upload, and mapping the file's columns by hand."""

from django import forms

from core.forms import Form
from core.models import School

from .layouts import CHOICES, FIELDS


class UploadForm(Form):
    school = forms.ModelChoiceField(queryset=School.objects.none())
    file = forms.FileField(
        label="MIS export (CSV or Excel)",
        help_text="One row per pupil and carer, as the MIS's 'students with contacts' report exports it. "
        "Saved as 'CSV UTF-8' or .xlsx.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv,.xlsx"}),
    )
    layout = forms.ChoiceField(
        label="Whose export is it?",
        choices=[("", "Work it out from the columns"), ("saved", "As we mapped it last time"), *CHOICES],
        required=False,
    )

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools
        if schools.count() == 1:
            self.fields["school"].initial = schools.first()


class MappingForm(Form):
    """One choice per field of ours: which of the file's columns holds it."""

    def __init__(self, *args, header: list[str], mapping: dict, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "(not in this file)"), *((name, name) for name in header if name)]
        for field, (label, required) in FIELDS.items():
            current = mapping.get(field) or []
            self.fields[field] = forms.ChoiceField(
                label=label + (" (needed)" if required else ""),
                choices=choices,
                required=False,
                initial=current[0] if len(current) == 1 else "",
            )
