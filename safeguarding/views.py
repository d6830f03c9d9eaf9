from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone

from .audit import audit
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


def _policies(schools) -> dict:
    """Each school's effective policy, read once per school rather than once per row."""
    return {school.pk: school.policy() for school in schools}


@senior_required
def approvals(request):
    """Requests awaiting a decision at the user's schools, oldest first, with how long each has waited."""
    from visits import policy
    from visits.access import visible_visits

    pending = list(
        visible_visits(request.user, policy.pending_for(request.user))
        .select_related("household", "school", "requested_by")
        .prefetch_related("people__user", "children")[:500]
    )
    policies = _policies({v.school for v in pending})
    now = timezone.now()
    rows = []
    for visit in pending:
        school_policy = policies[visit.school_id]
        rows.append({
            "visit": visit,
            "age_text": policy.age_words(policy.age(visit, now)),
            "exceptions": policy.principal_exceptions(visit, school_policy),
            "refusal": policy.decision_refusal(request.user, visit, approving=False, policy=school_policy),
        })
    return render(request, "safeguarding/approvals.html", {"rows": rows})


@senior_required
def approval_decide(request, pk):
    from visits import policy, services
    from visits.access import get_visit_for
    from visits.forms import DecisionForm
    from visits.models import Visit

    visit = get_visit_for(
        request.user, pk,
        Visit.objects.select_related("household", "school", "requested_by")
        .prefetch_related("people__user__profile", "children", "decisions__decided_by", "transitions__actor"),
    )
    school_policy = visit.school.policy()
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                services.visit_decide(visit=visit, actor=request.user, decision=data["decision"],
                                      reason=data["reason"], conditions=data["conditions"])
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, "Decision recorded. The requester has been told.")
            return redirect("approvals")
    audit(actor=request.user, action="visit.view", obj=visit, summary=f"Opened the decision page for {visit}")
    return render(request, "safeguarding/approval_decide.html", {
        "visit": visit,
        "form": form,
        "policy": school_policy,
        "exceptions": policy.principal_exceptions(visit, school_policy),
        "refusal": policy.decision_refusal(request.user, visit, approving=False, policy=school_policy),
        "approve_refusal": policy.decision_refusal(request.user, visit, approving=True, policy=school_policy),
        "problems": policy.submission_errors(visit, requested_by=visit.requested_by, policy=school_policy)
        if visit.status == "requested" else {},
        "age_text": policy.age_words(policy.age(visit)),
    })


@senior_required
def dashboard(request):
    return render(request, "placeholder.html", {
        "title": "Dashboard",
        "coming": "Requests to decide, who is out now, live alerts, overdue reports and actions, open concerns "
                  "and expiring training will be gathered here.",
    })
