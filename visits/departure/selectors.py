"""Reads for the visit page's pre-departure checklist."""

from dataclasses import dataclass

from django.urls import reverse

from core.permissions import user_may_override
from safeguarding.models import RiskAssessment
from safeguarding.selectors import current_risk_assessment

from ..permissions import may_edit, may_prepare, may_see_safe_word, may_view_visit
from .checklist import ChecklistItem, departure_checklist


@dataclass
class ChecklistPanel:
    """Every item with its state and what this user may do about it, worked out before the page renders."""

    items: list[ChecklistItem]
    ready: bool
    assessment: RiskAssessment | None
    can_act: bool
    can_see_safe_word: bool


def checklist_panel(*, visit, user) -> ChecklistPanel:
    items = departure_checklist(visit)
    for item in items:
        role = user_may_override(user, item.override_roles, school=visit.school_id) if item.blocking else None
        item.user_can_override = role is not None
    return ChecklistPanel(
        items=items,
        ready=not any(item.blocking for item in items),
        assessment=current_risk_assessment(household=visit.household),
        can_act=may_prepare(user, visit),
        can_see_safe_word=may_see_safe_word(user, visit),
    )


@dataclass
class Missing:
    """One reason check-out was refused, and where it is put right."""

    message: str
    url: str
    where: str


# Where each checklist item (and the visit's own fields) is done, and the words on the link.
WHERE_TO_FIX = {
    "authorised": ("#about", "See the decision"),
    "address": ("address_check", "Check the address"),
    "training": ("#check-training", "See whose training (a DSL updates it)"),
    "risk_assessment": ("risk_new", "Complete or review the risk assessment"),
    "risk_flags": ("risk_new", "Review the risk assessment"),
    "safe_word": ("#check-safe_word", "Agree a safe word"),
    "parents": ("#check-parents", "Record how the family was told"),
    "social_worker": ("#check-social_worker", "Record that the social worker knows"),
    "people": ("edit", "Add the second visitor"),
    "lead_mobile": ("edit", "Give the lead's mobile"),
    "vehicle": ("edit", "Choose another way or driver"),
    "invite_to_school_instead": ("edit", "Change the visit"),
}


def where_to_fix(*, visit, user, refusals) -> list[Missing]:
    """Each reason a check-out was refused (ValidationErrors coded by checklist item, from
    services.check_out_blockers) with a link to where it is done; a link only where this user may go."""
    visit_url = visit.get_absolute_url()
    may_view = may_view_visit(user, visit)
    missing = []
    for refusal in refusals:
        message = " ".join(refusal.messages)
        target, where = WHERE_TO_FIX.get(refusal.code or "", (f"#check-{refusal.code}", "Open it on the visit page"))
        if not refusal.code:
            missing.append(Missing(message=message, url="", where=""))
            continue
        if target == "edit":
            url = reverse("visits:edit", args=[visit.pk]) if may_edit(user, visit) else visit_url + "#about"
        elif target in ("address_check", "risk_new"):
            url = reverse(f"safeguarding:{target}", args=[visit.household_id])
        else:
            url = visit_url + target
        if target == "#check-parents" and visit.announced:
            url = visit_url + "#parents"
        missing.append(Missing(message=message, url=url if may_view else "", where=where))
    return missing
