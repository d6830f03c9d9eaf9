"""Concerns and incidents: the restricted records the DSLs and the Principal work from, joined to the visits
they came from and the actions that follow them."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.audit import audit
from core.decorators import senior_required
from core.forms import add_service_errors
from core.roles import Role, has_role
from core.scoping import school_ids_for
from families.models import Child
from safeguarding import services as safeguarding_services
from safeguarding.forms import ConcernCloseForm, ConcernForm
from safeguarding.selectors import visible_concerns

from ..access import get_visit_for
from ..forms import ActionForm
from ..selectors import visible_incidents
from ..services import action_create
from . import services
from .forms import IncidentForm


def _may_raise(user) -> bool:
    return has_role(user, Role.STAFF, Role.DSL, Role.PRINCIPAL)


@senior_required
def concern_list(request):
    concerns = visible_concerns(request.user).select_related("child", "raised_by", "school")
    incidents = visible_incidents(request.user).select_related("visit__household", "recorded_by", "school")
    audit(
        actor=request.user, action="concern.list", obj=request.user, summary="Viewed the list of concerns", school=None
    )
    return render(
        request,
        "visits/concern_list.html",
        {
            "open_concerns": concerns.filter(closed_at__isnull=True),
            "closed_concerns": concerns.filter(closed_at__isnull=False)[:50],
            "incidents": incidents[:100],
        },
    )


@login_required
def concern_new(request):
    """Raise a concern: from a visit (?visit=) or on its own (?child=)."""
    if not _may_raise(request.user):
        raise PermissionDenied("Staff, DSLs and the Principal raise concerns.")
    visit = None
    children = Child.objects.for_user(request.user)
    if request.GET.get("visit"):
        visit = get_visit_for(request.user, request.GET["visit"])
        children = visit.children.all()
    initial = {"child": request.GET.get("child")} if request.GET.get("child") else {}
    if len(children) == 1:
        initial["child"] = children[0].pk
    form = ConcernForm(request.POST or None, children=children, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if visit is None:
                safeguarding_services.concern_raise(raised_by=request.user, **form.cleaned_data)
            else:
                services.visit_concern_raise(visit=visit, raised_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                "Your concern has gone to the Designated Safeguarding Leads. "
                "If a child is in immediate danger, also speak to a DSL now.",
            )
            return redirect(visit.get_absolute_url() if visit else "home")
    return render(request, "visits/concern_form.html", {"form": form, "visit": visit})


def _concern_for(user, pk):
    concern = get_object_or_404(
        visible_concerns(user).select_related(
            "child", "school", "raised_by", "closed_by", "raised_on__visit__household"
        ),
        pk=pk,
    )
    link = getattr(concern, "raised_on", None)  # the visit it was raised from, if any
    concern.from_visit = link.visit if link else None
    return concern


@senior_required
def concern_detail(request, pk):
    concern = _concern_for(request.user, pk)
    safeguarding_services.concern_viewed(concern=concern, actor=request.user)
    return render(
        request,
        "visits/concern_detail.html",
        {
            "concern": concern,
            "actions": concern.actions.select_related("owner", "completed_by"),
            "close_form": ConcernCloseForm(),
            "action_form": ActionForm(school=concern.school, prefix="action", required=True),
        },
    )


@senior_required
@require_POST
def concern_close(request, pk):
    concern = _concern_for(request.user, pk)
    form = ConcernCloseForm(request.POST)
    if form.is_valid():
        try:
            safeguarding_services.concern_close(
                concern=concern, actor=request.user, outcome=form.cleaned_data["outcome"]
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Concern closed.")
            return redirect(concern)
    else:
        messages.error(request, "Record the outcome before closing the concern.")
    return redirect(concern)


@senior_required
@require_POST
def concern_action_add(request, pk):
    concern = _concern_for(request.user, pk)
    form = ActionForm(request.POST, school=concern.school, prefix="action", required=True)
    if form.is_valid():
        try:
            action_create(
                school=concern.school,
                concern=concern,
                child=concern.child,
                created_by=request.user,
                **form.cleaned_data,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Action added.")
            return redirect(concern)
    safeguarding_services.concern_viewed(concern=concern, actor=request.user)
    return render(
        request,
        "visits/concern_detail.html",
        {
            "concern": concern,
            "actions": concern.actions.select_related("owner", "completed_by"),
            "close_form": ConcernCloseForm(),
            "action_form": form,
        },
        status=400,
    )


@login_required
def incident_new(request):
    if not _may_raise(request.user):
        raise PermissionDenied("Staff, DSLs and the Principal record incidents.")
    visit = get_visit_for(request.user, request.GET.get("visit", ""))
    staff = get_user_model().objects.filter(profile__schools=visit.school, is_active=True).distinct()
    form = IncidentForm(request.POST or None, staff=staff)
    if request.method == "POST" and form.is_valid():
        try:
            services.incident_record(visit=visit, recorded_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                "Incident recorded and passed to the "
                + ("Principal." if form.cleaned_data["kind"] == "accusation" else "DSLs and Principal."),
            )
            return redirect(visit)
    return render(request, "visits/incident_form.html", {"form": form, "visit": visit})


@login_required
def incident_detail(request, pk):
    incident = get_object_or_404(
        visible_incidents(request.user).select_related("visit__household", "recorded_by", "staff_accused", "school"),
        pk=pk,
    )
    if incident.school_id not in school_ids_for(request.user):
        raise Http404("No such incident.")
    audit(actor=request.user, action="incident.view", obj=incident, summary=f"Viewed {incident}")
    return render(request, "visits/incident_detail.html", {"incident": incident})
