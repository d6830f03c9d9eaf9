from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.models import EffectivePolicy, HomeVisitPolicy, School

from ..models import SetupConfirmation
from .checklist import SEED_DEFAULTS, checklist, may_confirm, schools_to_set_up
from .services import setup_confirm


def _school(user, pk):
    """A school whose checklist this user keeps (Principal, trust admin), or whose prohibited list they keep."""
    school = get_object_or_404(School.objects.select_related("trust"), pk=pk)
    if not any(may_confirm(user, school, item) for item in SetupConfirmation.Item.values):
        raise PermissionDenied("Only the Principal, a DSL or a trust admin of this school sees its set-up.")
    return school


@login_required
def setup_page(request):
    schools = list(schools_to_set_up(request.user).order_by("name"))
    if not schools:
        raise PermissionDenied("The set-up checklist is for the Principal and the trust admin.")
    today = timezone.localdate()
    rows = [(school, checklist(school=school, today=today, user=request.user)) for school in schools]
    return render(request, "safeguarding/setup.html", {"rows": rows})


@login_required
def setup_policy(request, pk):
    school = _school(request.user, pk)
    if request.method == "POST":
        setup_confirm(school=school, item=SetupConfirmation.Item.POLICY_REVIEWED, actor=request.user)
        messages.success(request, f"{school.name}: policy values marked as reviewed.")
        return redirect("setup")
    policy = school.policy()
    own = HomeVisitPolicy.objects.filter(school=school).first()
    rows = []
    for name, seed, source in SEED_DEFAULTS:
        field = HomeVisitPolicy._meta.get_field(name)
        value = getattr(policy, name)
        shown = dict(field.choices).get(value, value) if field.choices else value
        if isinstance(value, bool):
            shown = "Yes" if value else "No"
        from_school = own is not None and getattr(own, name) not in (None, "")
        rows.append(
            (field.verbose_name.capitalize(), shown, "this school" if from_school else "the trust", seed, source)
        )
    steps = [str(step) for step in policy.escalation_steps]
    reviewed = SetupConfirmation.objects.filter(school=school, item=SetupConfirmation.Item.POLICY_REVIEWED).first()
    return render(
        request,
        "safeguarding/setup_policy.html",
        {
            "school": school,
            "rows": rows,
            "steps": steps,
            "reviewed": reviewed,
            "may_review": may_confirm(request.user, school, SetupConfirmation.Item.POLICY_REVIEWED),
            "fields": EffectivePolicy.value_fields(),
        },
    )


@login_required
@require_POST
def setup_no_prohibited(request, pk):
    school = _school(request.user, pk)
    setup_confirm(school=school, item=SetupConfirmation.Item.NO_PROHIBITED, actor=request.user)
    messages.success(request, f"{school.name}: confirmed that the local authority lists no prohibited addresses.")
    return redirect("safeguarding:prohibited_list")
