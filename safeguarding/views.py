from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from .roles import is_senior


def senior_required(view):
    """DSLs and the Principal only; everyone else gets 403."""

    @login_required
    def wrapped(request, *args, **kwargs):
        if not (request.user.is_superuser or is_senior(request.user)):
            raise PermissionDenied("Only a DSL or the Principal can open this page.")
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@senior_required
def approvals(request):
    return render(request, "placeholder.html", {
        "title": "Approvals",
        "coming": "Requests awaiting your decision will be listed here, oldest first, with the "
                  "authorisation workflow.",
    })


@senior_required
def dashboard(request):
    return render(request, "placeholder.html", {
        "title": "Dashboard",
        "coming": "Requests to decide, who is out now, live alerts, overdue reports and actions, open concerns "
                  "and expiring training will be gathered here.",
    })


# --- Concerns and incidents (issue 6) -------------------------------------------------------------------------

from django.contrib import messages  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.exceptions import ValidationError  # noqa: E402
from django.http import Http404  # noqa: E402
from django.shortcuts import get_object_or_404, redirect  # noqa: E402
from django.views.decorators.http import require_POST  # noqa: E402

from . import services  # noqa: E402
from .audit import audit  # noqa: E402
from .forms import ConcernCloseForm, ConcernForm, IncidentForm  # noqa: E402
from .roles import Role, has_role  # noqa: E402
from .selectors import school_ids_for, visible_concerns, visible_incidents  # noqa: E402


def _form_errors(form, error: ValidationError):
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _may_raise(user) -> bool:
    return has_role(user, Role.STAFF, Role.DSL, Role.PRINCIPAL)


@senior_required
def concern_list(request):
    concerns = visible_concerns(request.user).select_related("child", "raised_by", "school", "visit")
    incidents = visible_incidents(request.user).select_related("visit__household", "recorded_by", "school")
    audit(actor=request.user, action="concern.list", obj=request.user, summary="Viewed the list of concerns",
          school=None)
    return render(request, "safeguarding/concern_list.html", {
        "open_concerns": concerns.filter(closed_at__isnull=True),
        "closed_concerns": concerns.filter(closed_at__isnull=False)[:50],
        "incidents": incidents[:100],
    })


@login_required
def concern_new(request):
    """Raise a concern: from a visit (?visit=) or on its own (?child=)."""
    from visits.access import get_visit_for
    from visits.models import Child

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
            services.concern_raise(raised_by=request.user, visit=visit, **form.cleaned_data)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, "Your concern has gone to the Designated Safeguarding Leads. "
                                      "If a child is in immediate danger, also speak to a DSL now.")
            return redirect(visit.get_absolute_url() if visit else "home")
    return render(request, "safeguarding/concern_form.html", {"form": form, "visit": visit})


def _concern_for(user, pk):
    return get_object_or_404(
        visible_concerns(user).select_related("child", "school", "raised_by", "closed_by", "visit__household"), pk=pk
    )


@senior_required
def concern_detail(request, pk):
    from visits.forms import ActionForm

    concern = _concern_for(request.user, pk)
    services.concern_viewed(concern=concern, actor=request.user)
    return render(request, "safeguarding/concern_detail.html", {
        "concern": concern,
        "actions": concern.actions.select_related("owner", "completed_by"),
        "close_form": ConcernCloseForm(),
        "action_form": ActionForm(school=concern.school, prefix="action", required=True),
    })


@senior_required
@require_POST
def concern_close(request, pk):
    concern = _concern_for(request.user, pk)
    form = ConcernCloseForm(request.POST)
    if form.is_valid():
        try:
            services.concern_close(concern=concern, actor=request.user, outcome=form.cleaned_data["outcome"])
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
    from visits.forms import ActionForm
    from visits.services import action_create

    concern = _concern_for(request.user, pk)
    form = ActionForm(request.POST, school=concern.school, prefix="action", required=True)
    if form.is_valid():
        try:
            action_create(school=concern.school, concern=concern, child=concern.child, created_by=request.user,
                          **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Action added.")
            return redirect(concern)
    services.concern_viewed(concern=concern, actor=request.user)
    return render(request, "safeguarding/concern_detail.html", {
        "concern": concern, "actions": concern.actions.select_related("owner", "completed_by"),
        "close_form": ConcernCloseForm(), "action_form": form,
    }, status=400)


@login_required
def incident_new(request):
    from visits.access import get_visit_for

    if not _may_raise(request.user):
        raise PermissionDenied("Staff, DSLs and the Principal record incidents.")
    visit = get_visit_for(request.user, request.GET.get("visit", ""))
    staff = get_user_model().objects.filter(profile__schools=visit.school, is_active=True).distinct()
    form = IncidentForm(request.POST or None, staff=staff)
    if request.method == "POST" and form.is_valid():
        try:
            services.incident_record(visit=visit, recorded_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, "Incident recorded and passed to the "
                             + ("Principal." if form.cleaned_data["kind"] == "accusation" else "DSLs and Principal."))
            return redirect(visit)
    return render(request, "safeguarding/incident_form.html", {"form": form, "visit": visit})


@login_required
def incident_detail(request, pk):
    incident = get_object_or_404(
        visible_incidents(request.user).select_related("visit__household", "recorded_by", "staff_accused", "school"),
        pk=pk,
    )
    if incident.school_id not in school_ids_for(request.user):
        raise Http404("No such incident.")
    audit(actor=request.user, action="incident.view", obj=incident, summary=f"Viewed {incident}")
    return render(request, "safeguarding/incident_detail.html", {"incident": incident})
