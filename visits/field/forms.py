"""Forms for the field check-ins and the office's acknowledgements."""

from django import forms

from core.forms import Form


class ExtendForm(Form):
    minutes = forms.TypedChoiceField(label="Running late: extend by", coerce=int, choices=())

    def __init__(self, *args, minutes_left: int, **kwargs):
        super().__init__(*args, **kwargs)
        steps = [m for m in (5, 10, 15, 20, 30, 45, 60) if m <= minutes_left]
        if minutes_left and minutes_left not in steps:
            steps.append(minutes_left)
        self.fields["minutes"].choices = [(m, f"{m} minutes") for m in steps]
