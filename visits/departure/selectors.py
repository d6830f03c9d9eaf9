"""Reads for the visit page's pre-departure checklist."""

from dataclasses import dataclass

from core.permissions import user_may_override
from safeguarding.models import RiskAssessment
from safeguarding.selectors import current_risk_assessment

from ..permissions import may_prepare, may_see_safe_word
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
