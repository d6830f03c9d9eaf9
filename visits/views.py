from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from safeguarding.audit import audit
from safeguarding.roles import Role, has_role

from . import policy, services
from .access import get_visit_for, visible_visits
from .forms import ParentNotificationForm, VisitRequestForm
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
        .prefetch_related("people__user", "children", "transitions__actor", "decisions__decided_by",
                          "parent_notifications__recorded_by", "policy_overrides__recorded_by"),
    )
    audit(actor=request.user, action="visit.view", obj=visit, summary=f"Viewed {visit}")
    return render(request, "visits/visit_detail.html", {
        "visit": visit,
        "can_edit": visit.requested_by_id == request.user.pk and visit.status in services.EDITABLE,
        "can_submit": visit.requested_by_id == request.user.pk and visit.status in services.SUBMITTABLE,
        "parent_form": ParentNotificationForm(initial={"notified_on": timezone.localdate()})
        if visit.announced and visit.status in services.EDITABLE else None,
        "exceptions": policy.principal_exceptions(visit, visit.school.policy()),
    })


def _may_request(user) -> bool:
    return user.is_superuser or has_role(user, Role.STAFF, Role.DSL, Role.PRINCIPAL)


def child_options(user, query: str, selected_ids) -> tuple[list[Child], set[int]]:
    """The ticked children first, then up to 20 at the user's schools whose name matches the query."""
    base = Child.objects.for_user(user).select_related("household").order_by("last_name", "first_name")
    selected_ids = {int(i) for i in selected_ids if str(i).isdigit()}
    chosen = list(base.filter(pk__in=selected_ids))
    found = []
    words = query.split()
    if words:
        matches = base.exclude(pk__in=selected_ids)
        for word in words[:4]:
            matches = matches.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word))
        found = list(matches[:20])
    return chosen + found, {c.pk for c in chosen}


def _form_context(request, form, **extra):
    query = (request.POST.get("q") or request.GET.get("q") or "").strip()
    selected = form.data.getlist("children") if form.is_bound else form.initial.get("children", [])
    options, selected_ids = child_options(request.user, query, selected)
    return {"form": form, "child_options": options, "selected_child_ids": selected_ids, "child_query": query,
            **extra}


@login_required
def child_search(request):
    """The child picker's options (htmx): the ticked children and the matches for what was typed."""
    if not _may_request(request.user):
        raise PermissionDenied
    options, selected_ids = child_options(request.user, request.GET.get("q", "").strip(),
                                          request.GET.getlist("children"))
    return render(request, "visits/_child_options.html", {
        "child_options": options, "selected_child_ids": selected_ids, "child_query": request.GET.get("q", ""),
    })


def _service_errors(form, error: ValidationError):
    """A rule checked in a service: shown beside the field it is about, with what was typed kept."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, errors in error.message_dict.items():
        target = SERVICE_FIELDS.get(field, field)
        form.add_error(target if target in form.fields else None, errors)


# Service (model) field -> the form field the message belongs beside.
SERVICE_FIELDS = {
    "people": "second_visitor", "scheduled_start": "start_time", "expected_return": "return_time",
    "household": "children",
}


def _request_form(request, **kwargs) -> VisitRequestForm:
    """The bound form, or after "Find" (the picker without JavaScript) the same answers unbound: no errors yet."""
    form = VisitRequestForm(request.POST or None, user=request.user, **kwargs)
    if form.is_bound and form.action == "search":
        typed = {key: values if key == "children" else values[-1] for key, values in request.POST.lists()}
        form = VisitRequestForm(None, user=request.user, **{**kwargs, "initial": typed})
    return form


@login_required
def visit_new(request):
    if not _may_request(request.user):
        raise PermissionDenied("Only staff, DSLs and the Principal request visits.")
    initial = {}
    profile = getattr(request.user, "profile", None)
    if profile:
        vehicle = " ".join(p for p in [profile.vehicle_description, profile.vehicle_registration] if p)
        initial = {"lead_mobile": profile.mobile, "vehicle": vehicle}
    form = _request_form(request, initial=initial)
    if request.method == "POST" and form.is_bound and form.is_valid():
        fields = form.service_fields()
        try:
            # One savepoint: a request refused by the policy checks leaves no draft behind.
            with transaction.atomic():
                visit = services.visit_create(requested_by=request.user, school=fields["household"].school, **fields)
                if form.submitting:
                    services.visit_submit(visit=visit, actor=request.user)
        except ValidationError as error:
            _service_errors(form, error)
        else:
            messages.success(request, "Request sent for authorisation." if form.submitting else "Draft saved.")
            return redirect(visit)
    return render(request, "visits/visit_form.html", _form_context(request, form, title="Request a home visit"))


@login_required
def visit_edit(request, pk):
    visit = get_visit_for(request.user, pk, Visit.objects.prefetch_related("people", "children"))
    if visit.requested_by_id != request.user.pk:
        raise PermissionDenied("Only the person who requested the visit can change it.")
    if visit.status not in services.EDITABLE:
        messages.error(request, f"A visit that is {visit.get_status_display().lower()} can no longer be changed.")
        return redirect(visit)
    actions = ("submit", "draft") if visit.status in services.SUBMITTABLE else ("save",)
    form = _request_form(request, initial=VisitRequestForm.initial_for(visit), actions=actions)
    if request.method == "POST" and form.is_bound and form.is_valid():
        fields = form.service_fields()
        was_authorised = visit.status == VisitStatus.AUTHORISED
        try:
            with transaction.atomic():
                services.visit_update(visit=visit, actor=request.user, **fields)
                if form.submitting:
                    services.visit_submit(visit=visit, actor=request.user)
        except ValidationError as error:
            _service_errors(form, error)
        else:
            if was_authorised and visit.status == VisitStatus.REQUESTED:
                messages.warning(request, "You changed who, where or when: the visit needs a new decision.")
            elif form.submitting:
                messages.success(request, "Request sent for authorisation.")
            else:
                messages.success(request, "Changes saved.")
            return redirect(visit)
    return render(request, "visits/visit_form.html", _form_context(request, form, title="Change the visit",
                                                                   visit=visit))


@login_required
@require_POST
def visit_submit(request, pk):
    visit = get_visit_for(request.user, pk)
    try:
        services.visit_submit(visit=visit, actor=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, "Request sent for authorisation.")
    return redirect(visit)


@login_required
@require_POST
def parent_notification(request, pk):
    visit = get_visit_for(request.user, pk)
    form = ParentNotificationForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                services.parent_notification_record(
                    visit=visit, actor=request.user, method=data["method"], notified_at=data["notified_at"],
                    response=data["response"], note=data["note"],
                )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, "Recorded how the family was told.")
            return redirect(visit)
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for message in errors:
            messages.error(request, f"{label}: {message}" if label else message)
    return redirect(visit)


@login_required
def board(request):
    return render(request, "placeholder.html", {
        "title": "Check-in / check-out board",
        "coming": "The live office board of who is out, where, and when they are due back arrives with the "
                  "board and overdue-timers capability.",
    })


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
