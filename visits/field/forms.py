"""Forms for the field check-ins and the office's acknowledgements."""

from django import forms
from django.utils.dateparse import parse_datetime

from core.forms import Form

from .services import Location


class ExtendForm(Form):
    minutes = forms.TypedChoiceField(label="Running late: extend by", coerce=int, choices=())

    def __init__(self, *args, minutes_left: int, **kwargs):
        super().__init__(*args, **kwargs)
        steps = [m for m in (5, 10, 15, 20, 30, 45, 60) if m <= minutes_left]
        if minutes_left and minutes_left not in steps:
            steps.append(minutes_left)
        self.fields["minutes"].choices = [(m, f"{m} minutes") for m in steps]


class SentCheckInForm(Form):
    """What a phone sends with a tap (the field page's script adds it to each form, and the outbox replays it): the
    id it made for the tap, its clock, and its location when its visitor allows that. Without script the tap comes
    with none of them and is recorded as before. A location that makes no sense is dropped, never the check-in."""

    client_id = forms.UUIDField(required=False)
    phone_at = forms.CharField(required=False, max_length=40)
    latitude = forms.DecimalField(required=False, min_value=-90, max_value=90)
    longitude = forms.DecimalField(required=False, min_value=-180, max_value=180)
    accuracy = forms.FloatField(required=False, min_value=0, max_value=1_000_000)

    def clean_phone_at(self):
        try:
            moment = parse_datetime(self.cleaned_data["phone_at"] or "")
        except ValueError:  # shaped like a time but none (a 13th month): no time, as with none sent
            return None
        return moment if moment and moment.tzinfo else None

    def sent(self) -> dict:
        """The verb's keywords (checkin_receive): client_id, phone_at, location."""
        self.is_valid()  # a field that makes no sense is left out of cleaned_data; the rest stands
        data = self.cleaned_data
        latitude, longitude = data.get("latitude"), data.get("longitude")
        location = None
        if latitude is not None and longitude is not None:
            accuracy = data.get("accuracy")
            location = Location(
                latitude=round(latitude, 5),
                longitude=round(longitude, 5),
                accuracy_m=round(accuracy) if accuracy is not None else None,
            )
        return {"client_id": data.get("client_id"), "phone_at": data.get("phone_at"), "location": location}
