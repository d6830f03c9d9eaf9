"""A visit's request pages: the list, the page itself, asking for a visit and changing it, calling it off,
recording that the family was told; and the approvals queue and decision page for the DSLs and Principal."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.audit import audit, audit_listing
from core.decorators import senior_required
from core.forms import add_service_errors
from core.keyset import keyset_page
from core.permissions import may_request_visits
from families.access import households_seen_among, may_see_family
from families.models import Child

from .. import permissions
from ..access import get_visit_for
from ..departure.selectors import checklist_panel
from ..field.selectors import visit_timeline
from ..lifecycle import SUBMITTABLE
from ..models import Decision, Visit, VisitStatus
from . import policy, selectors, services
from .forms import CancelForm, DecisionForm, ParentNotificationForm, VisitRequestForm, profile_car

LIST_PAGE = 50  # visits per page of the list; older ones a link away


@senior_required
def approvals(request):
    """Requests awaiting a decision at the user's schools, oldest first, grouped by who decides them."""
    queue = selectors.decision_queue(user=request.user)
    audit_listing(
        actor=request.user, action="visit.list", what="the approvals queue", objects=[r.visit for r in queue.rows]
    )
    return render(request, "visits/approvals.html", {"queue": queue})


@senior_required
def approval_decide(request, pk):
    visit = get_visit_for(
        request.user,
        pk,
        selectors.visit_page_queryset().prefetch_related("people__user__profile"),
    )
    school_policy = visit.school.policy()
    unfamiliar = policy.unfamiliar_pair(visit) if visit.awaiting_decision else ""
    form = DecisionForm(request.POST or None, unfamiliar_pair=bool(unfamiliar))
    # Someone who may not approve is told so first, not asked for the pair's reason an approval would need.
    approving = request.method == "POST" and request.POST.get("decision") == Decision.APPROVED
    if approving and (refusal := policy.decision_refusal(request.user, visit, approving=True, policy=school_policy)):
        raise PermissionDenied(refusal)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                services.visit_decide(
                    visit=visit,
                    actor=request.user,
                    decision=data["decision"],
                    reason=data["reason"],
                    conditions=data["conditions"],
                    unfamiliar_pair_reason=data.get("unfamiliar_pair_reason", ""),
                )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Decision recorded. The requester has been told.")
            return redirect("approvals")
    audit(actor=request.user, action="visit.view", obj=visit, summary=f"Opened the decision page for {visit}")
    return render(
        request,
        "visits/approval_decide.html",
        {
            "visit": visit,
            "can_see_family": may_see_family(request.user, visit.household),
            "form": form,
            "policy": school_policy,
            "exceptions": policy.principal_exceptions(visit, school_policy),
            "deciders": policy.who_decides(visit, school_policy),
            "refusal": policy.decision_refusal(request.user, visit, approving=False, policy=school_policy),
            "approve_refusal": policy.decision_refusal(request.user, visit, approving=True, policy=school_policy),
            "problems": policy.submission_errors(visit, requested_by=visit.requested_by, policy=school_policy)
            if visit.awaiting_decision
            else {},
            "unfamiliar": unfamiliar,
            "age_text": policy.age_words(policy.age(visit)),
        },
    )


@login_required
def visit_list(request):
    page = keyset_page(
        selectors.visit_list(user=request.user), field="scheduled_start", after=request.GET.get("after"), size=LIST_PAGE
    )
    visits = page.items
    what = "the list of visits" if page.first else "older visits in the list"
    audit_listing(actor=request.user, action="visit.list", what=what, objects=visits)
    seen = households_seen_among(request.user, [v.household_id for v in visits])
    return render(request, "visits/visit_list.html", {"visits": visits, "page": page, "seen_households": seen})


@login_required
def visit_detail(request, pk, cancel_form=None):
    """The visit's page; `cancel_form` is a refused cancellation, shown again with its errors."""
    visit = get_visit_for(
        request.user,
        pk,
        selectors.visit_page_queryset(),
    )
    audit(actor=request.user, action="visit.view", obj=visit, summary=f"Viewed {visit}")
    may_cancel = permissions.may_cancel(request.user, visit)
    school_policy = visit.school.policy()
    return render(
        request,
        "visits/visit_detail.html",
        {
            "visit": visit,
            "can_see_family": may_see_family(request.user, visit.household),
            "cancel_form": (cancel_form or CancelForm()) if may_cancel else None,
            "can_edit": visit.requested_by_id == request.user.pk and visit.before_departure,
            "can_submit": visit.requested_by_id == request.user.pk and visit.status in SUBMITTABLE,
            "parent_form": ParentNotificationForm(initial={"notified_on": timezone.localdate()})
            if visit.announced and visit.before_departure
            else None,
            "exceptions": policy.principal_exceptions(visit, school_policy),
            "deciders": policy.who_decides(visit, school_policy) if visit.awaiting_decision else None,
            "unfamiliar": policy.unfamiliar_pair(visit) if visit.awaiting_decision else "",
            "checklist": checklist_panel(visit=visit, user=request.user),
            "timeline": visit_timeline(visit, show_location=permissions.may_see_locations(request.user, visit)),
        },
        status=400 if cancel_form else 200,
    )


@login_required
@require_POST
def visit_cancel(request, pk):
    visit = get_visit_for(request.user, pk)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            services.visit_cancel(visit=visit, actor=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                add_service_errors(form, error, SERVICE_FIELDS)
            else:
                messages.error(request, " ".join(error.messages))
                return redirect(visit)
        else:
            messages.success(request, "Visit cancelled. It is off the board and the approvals list.")
            return redirect(visit)
    # What was typed stays, with the reason it was refused beside it.
    return visit_detail(request, pk, cancel_form=form)


def _needs_context(user, child_ids) -> dict:
    """The household's needs for the request form, once its children are ticked: shown to whoever may see the
    family (families/access.py), and audited as a view of it; anyone else is told when they will show."""
    ids = {int(i) for i in map(str, child_ids) if i.isascii() and i.isdigit() and len(i) < 10}
    children = list(Child.objects.for_user(user).filter(pk__in=ids).select_related("household")[:20])
    households = {c.household for c in children}
    if len(households) != 1:
        return {"needs_household": None, "needs_hidden": False}
    household = households.pop()
    if not may_see_family(user, household):
        return {"needs_household": None, "needs_hidden": True}
    audit(actor=user, action="household.view", obj=household, summary="Viewed the family's needs on the request form")
    return {"needs_household": household, "needs_children": children, "needs_hidden": False}


def _form_context(request, form, **extra):
    query = (request.POST.get("q") or request.GET.get("q") or "").strip()
    selected = form.data.getlist("children") if form.is_bound else form.initial.get("children", [])
    options, selected_ids = selectors.child_options(user=request.user, query=query, selected_ids=selected)
    return {
        "form": form,
        "child_options": options,
        "selected_child_ids": selected_ids,
        "child_query": query,
        "error_summary": form.error_summary() if form.is_bound and form.errors else [],
        **_needs_context(request.user, selected_ids),
        **extra,
    }


@login_required
def household_needs(request):
    """The family's needs on the request form once a child is ticked (htmx, static/js/request-form.js)."""
    if not may_request_visits(request.user):
        raise PermissionDenied
    return render(request, "visits/_request_needs.html", _needs_context(request.user, request.GET.getlist("children")))


@login_required
def child_search(request):
    """The child picker's options (htmx): the ticked children and the matches for what was typed."""
    if not may_request_visits(request.user):
        raise PermissionDenied
    options, selected_ids = selectors.child_options(
        user=request.user, query=request.GET.get("q", "").strip(), selected_ids=request.GET.getlist("children")
    )
    return render(
        request,
        "visits/_child_options.html",
        {
            "child_options": options,
            "selected_child_ids": selected_ids,
            "child_query": request.GET.get("q", ""),
        },
    )


# A service's (the model's) field -> the request form's field the message belongs beside.
SERVICE_FIELDS = {
    "people": "second_visitor",
    "scheduled_start": "start_time",
    "expected_return": "return_time",
    "household": "children",
    "driver": "travel",
}


def _request_form(request, **kwargs) -> VisitRequestForm:
    """The bound form, or after "Find" (the picker without JavaScript) the same answers unbound: no errors yet."""
    form = VisitRequestForm(request.POST or None, user=request.user, **kwargs)
    if form.is_bound and form.action == "search":
        typed = {key: values if key == "children" else values[-1] for key, values in request.POST.lists()}
        form = VisitRequestForm(None, user=request.user, **{**kwargs, "initial": typed})
    return form


def _valid_in_one_round(request, form, *, visit=None) -> bool:
    """The form's own checks and, when the request goes for a decision (or is one already), the school's policy
    checks with them, so every problem shows in one round. True when the form may go to the services, which run
    the same policy checks on what they save."""
    if form.is_valid():
        return True
    checked = form.submitting or (visit is not None and visit.status in (VisitStatus.REQUESTED, VisitStatus.AUTHORISED))
    partial = form.partial_visit(visit=visit) if checked else None
    if partial:
        candidate, people, children = partial
        found = policy.submission_errors(candidate, requested_by=request.user, people=people, children=children)
        for field, problems in found.items():
            target = SERVICE_FIELDS.get(field, field)
            if target in form.errors:
                continue  # the form's own message about what was typed comes first
            form.add_error(target if target in form.fields else None, problems)
    return False


def _sent_messages(request, visit, *, first: str) -> None:
    """What the requester is told once a request goes for a decision: who decides it, and any warning for them."""
    messages.success(request, f"{first} {policy.who_decides(visit).sentence}")
    if warning := policy.unfamiliar_pair(visit):
        messages.warning(request, f"{warning} Whoever decides may accept this pair with a reason, or ask for changes.")


@login_required
def visit_new(request):
    if not may_request_visits(request.user):
        raise PermissionDenied("Only staff, DSLs and the Principal request visits.")
    initial = {}
    profile = getattr(request.user, "profile", None)
    if profile:
        # Their own insured car is the usual way; an uninsured one is not offered first (it would be refused).
        drives = bool(profile_car(request.user)) and profile.business_insurance_confirmed
        initial = {"lead_mobile": profile.mobile, "travel": "lead" if drives else ""}
    form = _request_form(request, initial=initial)
    if request.method == "POST" and form.is_bound and _valid_in_one_round(request, form):
        fields = form.service_fields()
        try:
            # One savepoint: a request refused by the policy checks leaves no draft behind.
            with transaction.atomic():
                visit = services.visit_create(requested_by=request.user, school=fields["household"].school, **fields)
                if form.submitting:
                    services.visit_submit(visit=visit, actor=request.user)
        except ValidationError as error:
            add_service_errors(form, error, SERVICE_FIELDS)
        else:
            if form.submitting:
                _sent_messages(request, visit, first="Request sent for authorisation.")
            else:
                messages.success(request, "Draft saved.")
            return redirect(visit)
    return render(request, "visits/visit_form.html", _form_context(request, form, title="Request a home visit"))


@login_required
def visit_edit(request, pk):
    visit = get_visit_for(request.user, pk, Visit.objects.prefetch_related("people", "children"))
    if visit.requested_by_id != request.user.pk:
        raise PermissionDenied("Only the person who requested the visit can change it.")
    if not visit.before_departure:
        messages.error(request, f"A visit that is {visit.get_status_display().lower()} can no longer be changed.")
        return redirect(visit)
    actions = ("submit", "draft") if visit.status in SUBMITTABLE else ("save",)
    form = _request_form(request, initial=VisitRequestForm.initial_for(visit), actions=actions)
    if request.method == "POST" and form.is_bound and _valid_in_one_round(request, form, visit=visit):
        fields = form.service_fields()
        was_authorised = visit.status == VisitStatus.AUTHORISED
        try:
            with transaction.atomic():
                services.visit_update(visit=visit, actor=request.user, **fields)
                if form.submitting:
                    services.visit_submit(visit=visit, actor=request.user)
        except ValidationError as error:
            add_service_errors(form, error, SERVICE_FIELDS)
        else:
            if was_authorised and visit.status == VisitStatus.REQUESTED:
                messages.warning(request, "You changed who, where or when: the visit needs a new decision.")
                _sent_messages(request, visit, first="Sent for a new decision.")
            elif form.submitting:
                _sent_messages(request, visit, first="Request sent for authorisation.")
            else:
                messages.success(request, "Changes saved.")
            return redirect(visit)
    # The form shows the visit's reason, children and people as they stand: opening it is a view of them.
    audit(actor=request.user, action="visit.view", obj=visit, summary=f"Opened the form to change {visit}")
    return render(
        request, "visits/visit_form.html", _form_context(request, form, title="Change the visit", visit=visit)
    )


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
        _sent_messages(request, visit, first="Request sent for authorisation.")
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
                    visit=visit,
                    actor=request.user,
                    method=data["method"],
                    notified_at=data["notified_at"],
                    response=data["response"],
                    note=data["note"],
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
