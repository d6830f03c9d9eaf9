"""Forms for asking for a visit, deciding it, calling it off and recording that the family was told."""

import datetime

from crispy_forms.bootstrap import StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout, Submit
from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from phonenumber_field.formfields import PhoneNumberField

from core.forms import Form
from core.permissions import FIELD_ROLES, school_ids_where
from core.selectors import member_ids
from families.models import Child

from ..models import Decision, NotifyMethod, ParentResponse, Purpose, VisitRole
from .services import Visitor


class ChildChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.first_name} {obj.last_name} ({obj.get_year_group_display()}, {obj.household.name})"


class VisitRequestForm(Form):
    """The request a member of staff fills in on their phone or at a desk: who, why, with whom, when."""

    children = ChildChoiceField(
        queryset=Child.objects.none(),
        label="Child or children",
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": "That child is not on your school's roll.",
            "required": "Find and tick at least one child.",
        },
        help_text="Search by name, then tick each child to visit (children from one household).",
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
        required=False,
        label="Invite the family into school instead of visiting",
        help_text="The policies ask us to consider this first.",
    )
    announced = forms.TypedChoiceField(
        choices=[("yes", "Announced: the family will be told"), ("no", "Unannounced")],
        coerce=lambda v: v == "yes",
        initial="yes",
        widget=forms.RadioSelect,
    )
    unannounced_reason = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Why unannounced?"
    )
    visit_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    start_time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}))
    expected_duration_minutes = forms.IntegerField(
        label="Expected duration (minutes)",
        min_value=1,
        max_value=600,
        error_messages={"min_value": "The duration must be at least one minute."},
    )
    return_time = forms.TimeField(label="Expected back at school", widget=forms.TimeInput(attrs={"type": "time"}))
    principal_exception = forms.BooleanField(
        required=False,
        label="Ask for the Principal's exception",
        help_text="Needed to start outside the school's visiting hours or to stay longer than the policy allows.",
    )
    principal_exception_reason = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Why the exception is needed"
    )
    second_visitor = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(),
        required=False,
        help_text="A colleague from school, or fill in the external practitioner below.",
    )
    external_name = forms.CharField(required=False, label="External practitioner's name")
    external_organisation = forms.CharField(required=False, label="Their organisation")
    external_phone = PhoneNumberField(required=False, label="Their phone", region="GB")
    vehicle = forms.CharField(required=False, max_length=120, help_text="Description and registration.")
    lead_mobile = PhoneNumberField(region="GB", label="Your mobile", help_text="The number the office will ring.")

    ACTIONS = {
        "submit": "Submit for authorisation",
        "draft": "Save as draft",
        "save": "Save changes",
        "search": "Find",
    }

    def __init__(self, *args, user, actions=("submit", "draft"), **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        schools = school_ids_where(user, *FIELD_ROLES)
        self.fields["children"].queryset = (
            Child.objects.filter(school_id__in=schools)
            .on_roll()
            .select_related("household")
            .order_by("last_name", "first_name")
        )
        self.fields["second_visitor"].queryset = (
            get_user_model()
            .objects.filter(pk__in=member_ids(school_ids=schools), is_active=True, profile__isnull=False)
            .exclude(pk=user.pk)
            .order_by("first_name", "last_name")
        )
        self.fields["second_visitor"].label_from_instance = lambda u: u.get_full_name() or u.username
        self.helper = FormHelper()
        self.helper.form_tag = False
        # StrictButton, not Submit: crispy's Submit always adds btn-primary, which hides the secondary style.
        buttons = [
            StrictButton(
                self.ACTIONS[a],
                type="submit",
                name="action",
                value=self.ACTIONS[a],
                css_class="btn-lg " + ("btn-primary" if i == 0 else "btn-outline-secondary"),
            )
            for i, a in enumerate(actions)
        ]
        self.helper.layout = Layout(
            Fieldset("Who", HTML('{% include "visits/_child_picker.html" %}'), "invite_to_school_instead"),
            Fieldset("Why", "purpose", "reason", "outcome_wanted", "announced", "unannounced_reason"),
            Fieldset(
                "When",
                Div(Div("visit_date", css_class="col-sm-6"), Div("start_time", css_class="col-sm-6"), css_class="row"),
                Div(
                    Div("expected_duration_minutes", css_class="col-sm-6"),
                    Div("return_time", css_class="col-sm-6"),
                    css_class="row",
                ),
                "principal_exception",
                "principal_exception_reason",
            ),
            Fieldset(
                "With whom",
                HTML(
                    '<p class="small text-body-secondary">You lead the visit. Visits are made '
                    "in pairs: a colleague, or an external practitioner.</p>"
                ),
                "second_visitor",
                "external_name",
                "external_organisation",
                "external_phone",
            ),
            Fieldset("Getting there", "vehicle", "lead_mobile"),
            HTML('<div class="d-flex flex-wrap gap-2 mt-3">'),
            *buttons,
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
        if data.get("principal_exception") and not (data.get("principal_exception_reason") or "").strip():
            self.add_error("principal_exception_reason", "Say why the Principal's exception is needed.")
        if not data.get("principal_exception"):
            data["principal_exception_reason"] = ""
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
            people.append(
                Visitor(
                    role=VisitRole.EXTERNAL,
                    external_name=name,
                    external_organisation=organisation,
                    external_phone=str(data.get("external_phone") or ""),
                )
            )
        data["people"] = people

    @property
    def action(self) -> str:
        label = self.data.get("action", "")
        return next((key for key, text in self.ACTIONS.items() if text == label), "")

    @property
    def submitting(self) -> bool:
        return self.action == "submit"

    def service_fields(self) -> dict:
        """The cleaned data as the visit services take it."""
        data = self.cleaned_data
        return dict(
            household=data["household"],
            children=list(data["children"]),
            people=data["people"],
            purpose=data["purpose"],
            reason=data["reason"],
            outcome_wanted=data["outcome_wanted"],
            scheduled_start=data["scheduled_start"],
            expected_duration_minutes=data["expected_duration_minutes"],
            expected_return=data["expected_return"],
            announced=data["announced"],
            unannounced_reason=data["unannounced_reason"] if not data["announced"] else "",
            invite_to_school_instead=data["invite_to_school_instead"],
            vehicle=data["vehicle"],
            lead_mobile=str(data["lead_mobile"]),
            principal_exception_reason=data["principal_exception_reason"],
        )

    @classmethod
    def initial_for(cls, visit) -> dict:
        start, back = timezone.localtime(visit.scheduled_start), timezone.localtime(visit.expected_return)
        second = next((p for p in visit.people.all() if p.role == VisitRole.SECOND), None)
        external = next((p for p in visit.people.all() if p.role == VisitRole.EXTERNAL), None)
        return {
            "children": [c.pk for c in visit.children.all()],
            "purpose": visit.purpose,
            "reason": visit.reason,
            "outcome_wanted": visit.outcome_wanted,
            "invite_to_school_instead": visit.invite_to_school_instead,
            "announced": "yes" if visit.announced else "no",
            "unannounced_reason": visit.unannounced_reason,
            "visit_date": start.date(),
            "start_time": start.strftime("%H:%M"),
            "expected_duration_minutes": visit.expected_duration_minutes,
            "return_time": back.strftime("%H:%M"),
            "principal_exception": bool(visit.principal_exception_reason),
            "principal_exception_reason": visit.principal_exception_reason,
            "second_visitor": second.user_id if second else None,
            "external_name": external.external_name if external else "",
            "external_organisation": external.external_organisation if external else "",
            "external_phone": external.external_phone if external else "",
            "vehicle": visit.vehicle,
            "lead_mobile": visit.lead_mobile,
        }


class DecisionForm(Form):
    decision = forms.ChoiceField(choices=Decision.choices, widget=forms.RadioSelect, label="Your decision")
    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Reason or comment",
        help_text="Required to decline or to ask for changes.",
    )
    conditions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Conditions (if approving)",
        help_text="e.g. 'Ring the office on arrival'. Optional.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            "decision", "reason", "conditions", Submit("go", "Record decision", css_class="btn-primary btn-lg")
        )

    def clean(self):
        data = super().clean()
        decision, reason = data.get("decision"), (data.get("reason") or "").strip()
        if decision == Decision.DECLINED and not reason:
            self.add_error("reason", "Give the reason for declining.")
        elif decision == Decision.CHANGES_REQUESTED and not reason:
            self.add_error("reason", "Say what needs to change.")
        return data


class CancelForm(Form):
    reason = forms.CharField(
        label="Why is the visit called off?",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept on the visit's history, which the DSL sees.",
    )


class ParentNotificationForm(Form):
    method = forms.ChoiceField(choices=NotifyMethod.choices, label="How the family was told")
    notified_on = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    notified_time = forms.TimeField(label="Time", widget=forms.TimeInput(attrs={"type": "time"}))
    response = forms.ChoiceField(choices=ParentResponse.choices, label="Their answer")
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            "method",
            Div(Div("notified_on", css_class="col-6"), Div("notified_time", css_class="col-6"), css_class="row"),
            "response",
            "note",
            Submit("go", "Record how the family was told", css_class="btn-outline-primary"),
        )

    def clean(self):
        data = super().clean()
        day, time = data.get("notified_on"), data.get("notified_time")
        if day and time:
            data["notified_at"] = datetime.datetime.combine(day, time, tzinfo=timezone.get_current_timezone())
            if data["notified_at"] > timezone.now():
                self.add_error("notified_on", "This is in the future: record it once the family has been told.")
        return data
