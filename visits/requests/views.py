"""The approvals queue and the decision page, for the school's DSLs and Principal."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone

from core.audit import audit
from core.decorators import senior_required

from .. import policy, services
from ..access import get_visit_for, visible_visits
from ..forms import DecisionForm
from ..models import Visit


def _policies(schools) -> dict:
    """Each school's effective policy, read once per school rather than once per row."""
    return {school.pk: school.policy() for school in schools}


@senior_required
def approvals(request):
    """Requests awaiting a decision at the user's schools, oldest first, with how long each has waited."""
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
        rows.append(
            {
                "visit": visit,
                "age_text": policy.age_words(policy.age(visit, now)),
                "exceptions": policy.principal_exceptions(visit, school_policy),
                "refusal": policy.decision_refusal(request.user, visit, approving=False, policy=school_policy),
            }
        )
    return render(request, "visits/approvals.html", {"rows": rows})


@senior_required
def approval_decide(request, pk):
    visit = get_visit_for(
        request.user,
        pk,
        Visit.objects.select_related("household", "school", "requested_by").prefetch_related(
            "people__user__profile", "children", "decisions__decided_by", "transitions__actor"
        ),
    )
    school_policy = visit.school.policy()
    form = DecisionForm(request.POST or None)
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
                )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, "Decision recorded. The requester has been told.")
            return redirect("approvals")
    audit(actor=request.user, action="visit.view", obj=visit, summary=f"Opened the decision page for {visit}")
    return render(
        request,
        "visits/approval_decide.html",
        {
            "visit": visit,
            "form": form,
            "policy": school_policy,
            "exceptions": policy.principal_exceptions(visit, school_policy),
            "refusal": policy.decision_refusal(request.user, visit, approving=False, policy=school_policy),
            "approve_refusal": policy.decision_refusal(request.user, visit, approving=True, policy=school_policy),
            "problems": policy.submission_errors(visit, requested_by=visit.requested_by, policy=school_policy)
            if visit.awaiting_decision
            else {},
            "age_text": policy.age_words(policy.age(visit)),
        },
    )
