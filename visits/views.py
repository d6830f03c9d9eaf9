from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from safeguarding.audit import audit
from safeguarding.roles import Role, has_role

from . import services
from .access import get_visit_for, visible_visits
from .forms import VisitRequestForm
from .models import Child, Household, Visit, VisitStatus


@login_required
def visit_list(request):
    visits = (
        visible_visits(request.user)
        .select_related("household", "school")
        .prefetch_related("people__user", "children")
        .order_by("-scheduled_start")[:200]
    )
    return render(request, "visits/visit_list.html", {"visits": visits})


@login_required
def visit_detail(request, pk):
    visit = get_visit_for(
        request.user, pk,
        Visit.objects.select_related("household", "school", "requested_by")
        .prefetch_related("people__user", "children", "transitions__actor"),
    )
    audit(actor=request.user, action="visit.view", obj=visit, summary=f"Viewed {visit}")
    return render(request, "visits/visit_detail.html", {"visit": visit})


@login_required
def visit_new(request):
    initial = {}
    profile = getattr(request.user, "profile", None)
    if profile:
        vehicle = " ".join(p for p in [profile.vehicle_description, profile.vehicle_registration] if p)
        initial = {"lead_mobile": profile.mobile, "vehicle": vehicle}
    form = VisitRequestForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            visit = services.visit_create(
                requested_by=request.user, school=data["school"], household=data["household"],
                children=list(data["children"]), people=data["people"], purpose=data["purpose"],
                reason=data["reason"], outcome_wanted=data["outcome_wanted"],
                scheduled_start=data["scheduled_start"],
                expected_duration_minutes=data["expected_duration_minutes"],
                expected_return=data["expected_return"], announced=data["announced"],
                unannounced_reason=data["unannounced_reason"],
                invite_to_school_instead=data["invite_to_school_instead"],
                vehicle=data["vehicle"], lead_mobile=str(data["lead_mobile"]),
            )
            if form.submitting:
                services.visit_transition(visit=visit, to_status=VisitStatus.REQUESTED, actor=request.user)
        except ValidationError as error:
            # A rule checked in the service: show it on the form, keep what was typed, save nothing.
            _add_service_errors(form, error)
        else:
            messages.success(
                request, "Request sent for authorisation." if form.submitting else "Draft saved."
            )
            return redirect(visit)
    return render(request, "visits/visit_form.html", {"form": form})


def _add_service_errors(form, error: ValidationError):
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _may_see_family_records(user) -> bool:
    # Staff need a family's contact details to plan a visit; the office works from the board instead.
    return user.is_superuser or has_role(user, Role.STAFF, Role.DSL, Role.PRINCIPAL)


@login_required
def household_detail(request, pk):
    if not _may_see_family_records(request.user):
        raise Http404("No such household.")
    household = get_object_or_404(
        Household.objects.for_user(request.user).prefetch_related("carers", "children"), pk=pk
    )
    visits = visible_visits(request.user, household.visits.all()).order_by("-scheduled_start")[:50]
    return render(request, "visits/household_detail.html", {"household": household, "visits": visits})


@login_required
def child_detail(request, pk):
    if not _may_see_family_records(request.user):
        raise Http404("No such child.")
    child = get_object_or_404(
        Child.objects.for_user(request.user).select_related("household", "school", "key_worker"), pk=pk
    )
    visits = visible_visits(request.user, child.visits.all()).select_related("household").order_by("-scheduled_start")
    return render(request, "visits/child_detail.html", {"child": child, "visits": visits[:50]})
