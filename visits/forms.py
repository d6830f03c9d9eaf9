import datetime

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout, Submit
from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from phonenumber_field.formfields import PhoneNumberField

from safeguarding.selectors import school_ids_for

from .models import Child, Purpose, VisitRole
from .services import Visitor


class ChildChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.first_name} {obj.last_name} ({obj.get_year_group_display()}, {obj.household.name})"


class VisitRequestForm(forms.Form):
    """The request a member of staff fills in on their phone or at a desk: who, why, with whom, when."""

    children = ChildChoiceField(
        queryset=Child.objects.none(),
        error_messages={"invalid_choice": "That child is not on your school's roll."},
        help_text="Children from one household. Hold Ctrl (or Cmd) to choose more than one.",
    )
    purpose = forms.ChoiceField(
        choices=[("", "Choose a purpose")] + Purpose.choices,
        error_messages={"invalid_choice": "Choose one of the listed purposes."},
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="Why this visit, and why now.")
    outcome_wanted = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), help_text="What the school hopes the visit achieves."
    )
    invite_to_school_instead = forms.BooleanField(
        required=False, label="Invite the family into school instead of visiting",
        help_text="The policies ask us to consider this first.",
    )
    announced = forms.TypedChoiceField(
        choices=[("yes", "Announced: the family will be told"), ("no", "Unannounced")],
        coerce=lambda v: v == "yes", initial="yes", widget=forms.RadioSelect,
    )
    unannounced_reason = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Why unannounced?"
    )
    visit_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}))
    expected_duration_minutes = forms.IntegerField(
        label="Expected duration (minutes)", min_value=1, max_value=600,
        error_messages={"min_value": "The duration must be at least one minute."},
    )
    return_time = forms.TimeField(label="Expected back at school", widget=forms.TimeInput(attrs={"type": "time"}))
    second_visitor = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(), required=False,
        help_text="A colleague from school, or fill in the external practitioner below.",
    )
    external_name = forms.CharField(required=False, label="External practitioner's name")
    external_organisation = forms.CharField(required=False, label="Their organisation")
    external_phone = PhoneNumberField(required=False, label="Their phone", region="GB")
    vehicle = forms.CharField(required=False, max_length=120, help_text="Description and registration.")
    lead_mobile = PhoneNumberField(region="GB", label="Your mobile", help_text="The number the office will ring.")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        schools = school_ids_for(user)
        self.fields["children"].queryset = (
            Child.objects.filter(school_id__in=schools).select_related("household").order_by("last_name", "first_name")
        )
        self.fields["second_visitor"].queryset = (
            get_user_model().objects.filter(profile__schools__in=schools, is_active=True)
            .exclude(pk=user.pk).distinct().order_by("first_name", "last_name")
        )
        self.fields["second_visitor"].label_from_instance = lambda u: u.get_full_name() or u.username
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Fieldset("Who", "children", "invite_to_school_instead"),
            Fieldset("Why", "purpose", "reason", "outcome_wanted", "announced", "unannounced_reason"),
            Fieldset(
                "When",
                Div(Div("visit_date", css_class="col-sm-6"), Div("start_time", css_class="col-sm-6"), css_class="row"),
                Div(Div("expected_duration_minutes", css_class="col-sm-6"), Div("return_time", css_class="col-sm-6"),
                    css_class="row"),
            ),
            Fieldset("With whom", "second_visitor", "external_name", "external_organisation", "external_phone"),
            Fieldset("Getting there", "vehicle", "lead_mobile"),
            HTML('<div class="d-flex flex-wrap gap-2 mt-3">'),
            Submit("action", "Submit for authorisation", css_class="btn-primary btn-lg"),
            Submit("action", "Save as draft", css_class="btn-outline-secondary btn-lg"),
            HTML("</div>"),
        )

    def clean(self):
        data = super().clean()
        children = data.get("children")
        if children:
            households = {c.household_id for c in children}
            if len(households) > 1:
                self.add_error("children", "Choose children from one household: each household is its own visit.")
            else:
                data["household"] = children[0].household
                data["school"] = children[0].school
        if data.get("announced") is False and not (data.get("unannounced_reason") or "").strip():
            self.add_error("unannounced_reason", "Say why this visit is unannounced.")
        self._clean_times(data)
        self._clean_people(data)
        return data

    def _clean_times(self, data):
        day, start, back = data.get("visit_date"), data.get("start_time"), data.get("return_time")
        if not (day and start and back):
            return
        zone = timezone.get_current_timezone()
        data["scheduled_start"] = datetime.datetime.combine(day, start, tzinfo=zone)
        data["expected_return"] = datetime.datetime.combine(day, back, tzinfo=zone)
        minutes = data.get("expected_duration_minutes")
        if data["expected_return"] <= data["scheduled_start"]:
            self.add_error("return_time", "The return to school must be after the start.")
        elif minutes and data["expected_return"] < data["scheduled_start"] + datetime.timedelta(minutes=minutes):
            self.add_error("return_time", "The return to school is before the visit would end.")

    def _clean_people(self, data):
        second = data.get("second_visitor")
        name = (data.get("external_name") or "").strip()
        organisation = (data.get("external_organisation") or "").strip()
        people = [Visitor(role=VisitRole.LEAD, user=self.user)]
        if second:
            people.append(Visitor(role=VisitRole.SECOND, user=second))
        if name or organisation:
            if not name:
                self.add_error("external_name", "Give the practitioner's name.")
            if not organisation:
                self.add_error("external_organisation", "Give the practitioner's organisation.")
            people.append(Visitor(role=VisitRole.EXTERNAL, external_name=name, external_organisation=organisation,
                                  external_phone=str(data.get("external_phone") or "")))
        data["people"] = people

    @property
    def submitting(self) -> bool:
        return self.data.get("action", "").startswith("Submit")
