"""The trust admin's page of who holds which role at which school: list, grant, end (views, forms, one read)."""

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from .forms import add_service_errors
from .memberships import membership_end, membership_grant
from .models import Membership, School
from .permissions import trust_admin_trust_ids
from .roles import Role


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")  # what a date input shows; the locale's format it would not


class GrantForm(forms.Form):
    user = forms.ModelChoiceField(queryset=get_user_model().objects.none(), label="Person")
    school = forms.ModelChoiceField(queryset=School.objects.none())
    role = forms.ChoiceField(choices=Role.choices)
    starts_on = forms.DateField(label="From", widget=DateInput())
    ends_on = forms.DateField(label="Last day", required=False, widget=DateInput(), help_text="Empty: no end yet.")

    def __init__(self, *args, schools, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools
        self.fields["user"].queryset = people
        self.fields["user"].label_from_instance = lambda u: u.get_full_name() or u.username


class EndForm(forms.Form):
    last_day = forms.DateField(label="Last day in the role", widget=DateInput(), help_text="Yesterday ends it at once.")


def _trust_ids(user) -> list[int]:
    ids = trust_admin_trust_ids(user)
    if not ids:
        raise PermissionDenied("Memberships are managed by the trust admin.")
    return ids


def people_with_memberships(*, trust_ids, today):
    """Everyone holding (or about to hold) a role at these trusts' schools, with those memberships: 2 queries."""
    current = (
        Membership.objects.filter(school__trust_id__in=trust_ids)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .select_related("school")
        .order_by("school__name", "role", "starts_on")
    )
    return (
        get_user_model()
        .objects.filter(pk__in=current.values("user_id"))
        .prefetch_related(Prefetch("memberships", queryset=current, to_attr="current_memberships"))
        .order_by("last_name", "first_name", "username")
    )


def _grantable(trust_ids):
    """Active staff of these trusts, or not yet of any school; never another trust's people."""
    elsewhere = Membership.objects.exclude(school__trust_id__in=trust_ids).values("user_id")
    mine = Membership.objects.filter(school__trust_id__in=trust_ids).values("user_id")
    return (
        get_user_model()
        .objects.filter(is_active=True, profile__isnull=False)
        .filter(Q(pk__in=mine) | ~Q(pk__in=elsewhere))
        .order_by("first_name", "last_name")
    )


@login_required
def membership_list(request):
    trust_ids = _trust_ids(request.user)
    today = timezone.localdate()
    schools = School.objects.filter(trust_id__in=trust_ids).order_by("name")
    form = GrantForm(request.POST or None, schools=schools, people=_grantable(trust_ids), initial={"starts_on": today})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            membership_grant(actor=request.user, **data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            who = data["user"].get_full_name() or data["user"].username
            messages.success(
                request, f"{who} is {Role(data['role']).label} at {data['school']} from {data['starts_on']:%d %b %Y}."
            )
            return redirect("memberships")
    people = people_with_memberships(trust_ids=trust_ids, today=today)
    return render(
        request,
        "core/memberships.html",
        {"people": people, "form": form, "end_form": EndForm(initial={"last_day": today}), "today": today},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def membership_end_view(request, pk):
    trust_ids = _trust_ids(request.user)
    membership = get_object_or_404(
        Membership.objects.select_related("user", "school"), pk=pk, school__trust_id__in=trust_ids
    )
    form = EndForm(request.POST)
    if form.is_valid():
        try:
            membership_end(actor=request.user, membership=membership, last_day=form.cleaned_data["last_day"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Ended: {membership}.")
            return redirect("memberships")
    return render(request, "core/membership_end.html", {"membership": membership, "form": form}, status=400)
