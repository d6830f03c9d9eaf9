"""The visit list's filters (django-filter): the same FilterSet drives the page and its CSV export."""

import django_filters
from django import forms
from django.contrib.auth import get_user_model

from core.dates import local_day_bounds
from core.forms import QuickSelect
from core.scoping import school_ids_for
from core.selectors import member_ids
from families.models import Child, YearGroup

from ..models import Purpose, VisitOutcome, VisitStatus


class DateInput(forms.DateInput):
    input_type = "date"


class VisitFilter(django_filters.FilterSet):
    # Dates are the school's (Europe/London) calendar days, compared as the instants they start and end so the
    # index on (school, scheduled_start) serves them (a __date lookup converts every row's time first).
    date_from = django_filters.DateFilter(label="From", widget=DateInput, method="filter_from")
    date_to = django_filters.DateFilter(label="To", widget=DateInput, method="filter_to")
    purpose = django_filters.ChoiceFilter(choices=Purpose.choices, empty_label="Any purpose")
    outcome = django_filters.ChoiceFilter(
        field_name="report__outcome",
        choices=VisitOutcome.choices,
        empty_label="Any outcome",
        label="Outcome",
        method="filter_outcome",
    )
    status = django_filters.ChoiceFilter(choices=VisitStatus.choices, empty_label="Any status")
    staff = django_filters.ModelChoiceFilter(
        field_name="people__user",
        queryset=get_user_model().objects.none(),
        label="Member of staff",
        empty_label="Anyone",
        widget=QuickSelect,
        distinct=True,
    )
    child = django_filters.ModelChoiceFilter(
        field_name="children",
        queryset=Child.objects.none(),
        empty_label="Any child",
        widget=QuickSelect,
        distinct=True,
        label="Child",
    )
    year_group = django_filters.ChoiceFilter(
        field_name="children__year_group",
        choices=YearGroup.choices,
        empty_label="Any year",
        distinct=True,
        label="Year group",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        schools = school_ids_for(user)
        # Choices come only from the user's own schools: another school's staff or children never appear.
        self.filters["staff"].queryset = (
            get_user_model()
            .objects.filter(pk__in=member_ids(school_ids=schools), is_active=True, profile__isnull=False)
            .order_by("last_name", "first_name", "username")
            .only("pk", "first_name", "last_name", "username")
        )
        self.filters["child"].queryset = (
            Child.objects.filter(school_id__in=schools)
            .order_by("last_name", "first_name")
            .only("pk", "first_name", "last_name")
        )
        self.form.fields["staff"].label_from_instance = staff_label

    def filter_from(self, queryset, name, value):
        return queryset.filter(scheduled_start__gte=local_day_bounds(value)[0])

    def filter_to(self, queryset, name, value):
        return queryset.filter(scheduled_start__lt=local_day_bounds(value)[1])

    def filter_outcome(self, queryset, name, value):
        return queryset.filter(report__outcome=value, report__submitted_at__isnull=False)


def staff_label(user) -> str:
    return user.get_full_name() or user.username
