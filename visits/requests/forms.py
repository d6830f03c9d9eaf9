"""Forms for asking for a visit, deciding it, calling it off and recording that the family was told."""

import datetime

from crispy_forms.bootstrap import StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout, Submit
from django import forms
from django.contrib.auth import get_user_model
from django.forms.utils import pretty_name
from django.utils import timezone
from django.utils.html import escape
from phonenumber_field.formfields import PhoneNumberField

from core.forms import Form
from core.models import EffectivePolicy, School
from core.permissions import FIELD_ROLES, school_ids_where
from families.models import Child

from ..models import Decision, NotifyMethod, ParentResponse, Purpose, Visit, VisitRole
from . import selectors
from .services import Visitor


class ChildChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.first_name} {obj.last_name} ({obj.get_year_group_display()}, {obj.household.name})"


def colleague_label(user, *, visit_day: datetime.date | None, today: datetime.date) -> str:
    """A colleague's name in the second-visitor list, marked when their safer-working-practice training will not be
    valid on the visit's day (static/js/request-form.js says the same when the date changes)."""
    name = user.get_full_name() or user.username
    expires = getattr(getattr(user, "profile", None), "training_expires_on", None)
    if expires is None:
        return f"{name} (no safer-working training recorded)"
    if expires < today:
        return f"{name} (training expired {expires:%-d %b %Y})"
    if visit_day and expires < visit_day:
        return f"{name} (training lapses {expires:%-d %b %Y}, before the visit)"
    return name


class ColleagueSelect(forms.Select):
    """Each option carries the colleague's name and training expiry, for the script that marks them by date."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        user = getattr(value, "instance", None)
        if user is not None:
            expires = getattr(getattr(user, "profile", None), "training_expires_on", None)
            option["attrs"]["data-name"] = user.get_full_name() or user.username
            option["attrs"]["data-training-expires"] = expires.isoformat() if expires else ""
        return option


class ColleagueChoiceField(forms.ModelChoiceField):
    widget = ColleagueSelect
    visit_day: datetime.date | None = None

    def label_from_instance(self, obj):
        return colleague_label(obj, visit_day=self.visit_day, today=timezone.localdate())


def profile_car(user) -> str:
    """The car on a member of staff's profile, as the visit records it; "" when none is recorded."""
    profile = getattr(user, "profile", None)
    parts = [profile.vehicle_description, profile.vehicle_registration] if profile else []
    return " ".join(p for p in parts if p)


TRAVEL_CHOICES = [
    ("", "On foot or by public transport"),
    ("lead", "In my car"),
    ("second", "In the second visitor's car"),
]


def hours_note(policies: list) -> tuple[str, dict]:
    """What the form says beside the time fields about the school's visiting hours and longest visit, and the
    values the script checks as times are typed (only when every school of the user has the same ones)."""
    values = {(p.earliest_start, p.latest_start, p.max_visit_minutes) for p in policies}
    if len(values) != 1:
        return "Each school's visiting hours and longest visit are in its home-visit policy.", {}
    earliest, latest, longest = values.pop()
    note = (
        f"Visits start between {earliest:%H:%M} and {latest:%H:%M} and last at most {longest} minutes; "
        "otherwise ask for the Principal's exception."
    )
    return note, {"earliest": f"{earliest:%H:%M}", "latest": f"{latest:%H:%M}", "longest": str(longest)}


def _conditional(*fields, when: str, values: str, **attrs):
    """A group of fields shown only while the answer named by `when` is one of `values` (static/js/request-form.js).
    Without the script every group shows, and the server ignores what does not apply."""
    return Div(*fields, data_show_when=when, data_show_values=values, css_class="conditional-group", **attrs)


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
        help_text="Tick each child to visit (children from one household).",
    )
    purpose = forms.ChoiceField(
        choices=[("", "Choose a purpose")] + Purpose.choices,
        error_messages={"invalid_choice": "Choose one of the listed purposes."},
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text="Why this visit, and why now.")
    outcome_wanted = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), help_text="What the school hopes the visit achieves."
    )
    invite_to_school_instead = forms.BooleanField(
        required=False,
        label="Invite the family into school instead of visiting",
        help_text="Consider this first. Nobody then goes to the home.",
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
        label="How long (minutes)",
        min_value=1,
        max_value=600,
        error_messages={"min_value": "The duration must be at least one minute."},
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    return_time = forms.TimeField(
        required=False,
        label="Back at school by",
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text="Start plus how long; add travel time.",
    )
    principal_exception = forms.BooleanField(
        required=False,
        label="Ask for the Principal's exception",
        help_text="Needed to start outside the school's visiting hours or to stay longer than the policy allows.",
    )
    principal_exception_reason = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Why the exception is needed"
    )
    second_visitor = ColleagueChoiceField(
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label="No colleague (an external practitioner instead)",
    )
    external_name = forms.CharField(required=False, label="External practitioner's name")
    external_organisation = forms.CharField(required=False, label="Their organisation")
    external_phone = PhoneNumberField(required=False, label="Their phone", region="GB")
    travel = forms.ChoiceField(
        choices=TRAVEL_CHOICES,
        required=False,
        initial="",
        widget=forms.RadioSelect,
        label="How you get there",
    )
    vehicle = forms.CharField(
        required=False,
        max_length=120,
        label="The car",
        help_text="Make, colour and registration; empty: the driver's car on their profile.",
    )
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
        second = self.fields["second_visitor"]
        second.queryset = selectors.second_visitor_choices(school_ids=schools).exclude(pk=user.pk)
        second.visit_day = self._visit_day()
        if car := profile_car(user):
            self.fields["vehicle"].widget.attrs["placeholder"] = car
        note, limits = hours_note(list(EffectivePolicy.for_schools(School.objects.filter(pk__in=schools)).values()))
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
        limit_attrs = {f"data_{key}": value for key, value in limits.items()}
        self.helper.layout = Layout(
            Fieldset(
                "Who",
                HTML('{% include "visits/_child_picker.html" %}'),
                # The family's needs, once a child is ticked (htmx asks again whenever a box changes).
                HTML(
                    '<div id="household-needs" aria-live="polite" hx-get="{% url \'visits:household_needs\' %}" '
                    'hx-trigger="change from:#child-options" hx-include="#child-options [name=children]:checked">'
                    '{% include "visits/_request_needs.html" %}</div>'
                ),
                "invite_to_school_instead",
            ),
            Fieldset(
                "Why",
                "purpose",
                "reason",
                "outcome_wanted",
                "announced",
                _conditional("unannounced_reason", when="announced", values="no"),
            ),
            Fieldset(
                "When",
                HTML(f'<p class="small mb-2" id="visiting-hours">{escape(note)}</p>'),
                Div(Div("visit_date", css_class="col-6"), Div("start_time", css_class="col-6"), css_class="row g-2"),
                Div(
                    Div("expected_duration_minutes", css_class="col-6"),
                    Div("return_time", css_class="col-6"),
                    css_class="row g-2",
                ),
                Div(
                    "principal_exception",
                    _conditional("principal_exception_reason", when="principal_exception", values="on"),
                    id="principal-exception",
                    **limit_attrs,
                ),
            ),
            Fieldset(
                "With whom",
                HTML('<p class="small text-body-secondary mb-2">You lead; visits are made in pairs.</p>'),
                "second_visitor",
                HTML(
                    '<details class="mb-3" id="external-practitioner"{% if form.external_name.value or '
                    "form.external_organisation.value or form.external_phone.value or form.external_name.errors or "
                    "form.external_organisation.errors or form.external_phone.errors %} open{% endif %}>"
                    '<summary class="mb-2">An external practitioner comes (instead of a colleague, or as well)'
                    "</summary>"
                ),
                "external_name",
                "external_organisation",
                "external_phone",
                HTML("</details>"),
            ),
            Fieldset(
                "Getting there",
                "travel",
                _conditional("vehicle", when="travel", values="lead second"),
                "lead_mobile",
            ),
            HTML('<div class="d-flex flex-wrap gap-2 mt-3">'),
            *buttons,
            HTML("</div>"),
        )

    def _visit_day(self) -> datetime.date | None:
        """The day typed (or the visit's, when changing it), to mark colleagues whose training lapses before it."""
        raw = self.data.get("visit_date") if self.is_bound else self.initial.get("visit_date")
        if isinstance(raw, datetime.date):
            return raw
        try:
            return datetime.date.fromisoformat(str(raw or ""))
        except ValueError:
            return None

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
        self._clean_travel(data)
        return data

    def _clean_times(self, data):
        day, start = data.get("visit_date"), data.get("start_time")
        if not (day and start):
            return
        zone = timezone.get_current_timezone()
        data["scheduled_start"] = datetime.datetime.combine(day, start, tzinfo=zone)
        minutes = data.get("expected_duration_minutes")
        back = data.get("return_time")
        if back is None:
            if "return_time" in self.errors:
                return
            if not minutes:
                self.add_error("return_time", "Give the time you expect to be back at school.")
                return
            # "Back by" worked out from the duration, as the script shows it while typing.
            data["expected_return"] = data["scheduled_start"] + datetime.timedelta(minutes=minutes)
            data["return_time"] = timezone.localtime(data["expected_return"]).time()
            return
        data["expected_return"] = datetime.datetime.combine(day, back, tzinfo=zone)
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

    def _clean_travel(self, data):
        """Who drives, and the car: what is typed, or else the driver's car on their staff profile."""
        travel = data.get("travel") or ""
        data["driver"] = None
        if not travel:
            data["vehicle"] = ""  # on foot: a car left in the hidden field is not this visit's
            return
        driver = self.user if travel == "lead" else data.get("second_visitor")
        if driver is None:
            if "second_visitor" not in self.errors:
                self.add_error("travel", "Choose the colleague who drives as the second visitor, or another way.")
            return
        data["driver"] = driver
        if not (data.get("vehicle") or "").strip():
            if car := profile_car(driver):
                data["vehicle"] = car
            else:
                self.add_error("vehicle", "Describe the car and its registration: none is on the driver's profile.")

    # Where each field's message in the summary links to: the field's first control.
    ANCHORS = {"children": "child-search", "announced": "id_announced_0", "travel": "id_travel_0"}

    def error_summary(self) -> list[tuple[str, str]]:
        """(anchor, message) for every problem, in the form's order, for the summary at its top."""
        rows = [("", message) for message in self.non_field_errors()]
        for name, field in self.fields.items():
            for message in self.errors.get(name, []):
                rows.append((self.ANCHORS.get(name, f"id_{name}"), f"{field.label or pretty_name(name)}: {message}"))
        return rows

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
            driver=data["driver"],
            lead_mobile=str(data["lead_mobile"]),
            principal_exception_reason=data["principal_exception_reason"],
        )

    def partial_visit(self, *, visit=None) -> tuple[Visit, list, list] | None:
        """What could be read of the request, as an unsaved visit with its people and children, so the school's
        policy checks run with the form's own in one round (views.py). None until a child is chosen."""
        data = getattr(self, "cleaned_data", {})
        household = data.get("household")
        if household is None:
            return None
        values = {
            name: data[name]
            for name in (
                "purpose",
                "reason",
                "outcome_wanted",
                "scheduled_start",
                "expected_duration_minutes",
                "expected_return",
                "announced",
                "invite_to_school_instead",
                "vehicle",
                "driver",
                "principal_exception_reason",
            )
            if data.get(name) is not None
        }
        candidate = Visit(school=household.school, household=household, requested_by=self.user, **values)
        if visit is not None:
            candidate.pk = visit.pk  # its own checklist overrides count, and it never clashes with itself
            candidate.requested_by = visit.requested_by
        return candidate, data.get("people", []), list(data.get("children") or [])

    @classmethod
    def initial_for(cls, visit) -> dict:
        start, back = timezone.localtime(visit.scheduled_start), timezone.localtime(visit.expected_return)
        second = next((p for p in visit.people.all() if p.role == VisitRole.SECOND), None)
        external = next((p for p in visit.people.all() if p.role == VisitRole.EXTERNAL), None)
        lead = next((p for p in visit.people.all() if p.role == VisitRole.LEAD), None)
        travel = ""
        if visit.driver_id:
            travel = "lead" if lead and visit.driver_id == lead.user_id else "second"
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
            "travel": travel,
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
    unfamiliar_pair_reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why you accept this pair (if approving)",
        help_text="Nobody on this visit works with the child or family. Say why this pair is right, or ask for "
        "changes.",
    )

    def __init__(self, *args, unfamiliar_pair: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not unfamiliar_pair:
            del self.fields["unfamiliar_pair_reason"]  # asked only when the pair needs accepting
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            "decision",
            "reason",
            "conditions",
            *(["unfamiliar_pair_reason"] if unfamiliar_pair else []),
            Submit("go", "Record decision", css_class="btn-primary btn-lg"),
        )

    def clean(self):
        data = super().clean()
        decision, reason = data.get("decision"), (data.get("reason") or "").strip()
        if decision == Decision.DECLINED and not reason:
            self.add_error("reason", "Give the reason for declining.")
        elif decision == Decision.CHANGES_REQUESTED and not reason:
            self.add_error("reason", "Say what needs to change.")
        elif (
            decision == Decision.APPROVED
            and "unfamiliar_pair_reason" in self.fields
            and not (data.get("unfamiliar_pair_reason") or "").strip()
        ):
            self.add_error("unfamiliar_pair_reason", "Say why you accept this pair, or ask for changes.")
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
