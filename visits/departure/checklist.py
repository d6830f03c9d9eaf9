"""The pre-departure checklist: what must be true (or overridden by the role the policy names) before a visit
may check out. `departure_check_record` is what the check-out gate (services.check_out_blockers) reads.
"""

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from core.audit import audit
from safeguarding.models import RiskAssessment
from safeguarding.selectors import current_risk_assessment, prohibited_address_matches

from ..models import ChecklistOverride, SafeWord, VisitPreparation

LABELS = {
    "authorised": "Visit authorised",
    "address": "Address checked against the prohibited-addresses list today",
    "training": "Both visitors' safer-working-practice training valid",
    "risk_assessment": "Household risk assessment current",
    "risk_flags": "Risk assessment conditions met",
    "safe_word": "Safe word agreed",
    "parents": "Parents notified",
    "social_worker": "Social worker informed",
}


@dataclass
class ChecklistItem:
    key: str
    label: str
    met: bool
    detail: str = ""
    override: ChecklistOverride | None = None
    override_roles: list[str] = field(default_factory=list)

    @property
    def overridden(self) -> bool:
        return not self.met and self.override is not None

    @property
    def blocking(self) -> bool:
        return not self.met and self.override is None

    @property
    def state(self) -> str:
        return "met" if self.met else "overridden" if self.override else "not met"


def _visit_day(visit) -> datetime.date:
    return timezone.localtime(visit.scheduled_start).date()


def departure_checklist(visit, *, today: datetime.date | None = None) -> list[ChecklistItem]:
    """Every item, met or not, for the visit page and the check-out gate."""
    today = today or timezone.localdate()
    day = max(_visit_day(visit), today)
    policy = visit.school.policy()
    overrides = {o.item: o for o in ChecklistOverride.objects.filter(visit=visit).select_related("by")}
    people = list(visit.people.all())
    prep = VisitPreparation.objects.filter(visit=visit).first()
    assessment: RiskAssessment | None = current_risk_assessment(household=visit.household)
    items: list[ChecklistItem] = []

    def add(key: str, met: bool, detail: str = ""):
        items.append(
            ChecklistItem(
                key=key,
                label=LABELS[key],
                met=met,
                detail=detail,
                override=None if met else overrides.get(key),
                override_roles=list(policy.checklist_override_roles.get(key, [])),
            )
        )

    authorised = visit.is_cleared_to_go
    add("authorised", authorised, "" if authorised else f"The visit is {visit.get_status_display().lower()}.")

    matches = prohibited_address_matches(household_or_address=visit.household, on=today)
    blocking = [m for m in matches if m.blocks]
    if not blocking:
        cleared = len(matches)
        add(
            "address",
            True,
            f"Checked {today:%d %b %Y}: no match"
            + (f" ({cleared} near match judged a different place by a DSL)" if cleared else ""),
        )
    else:
        exact = [m for m in blocking if m.kind == "exact"]
        add(
            "address",
            False,
            (
                f"On the list: {exact[0].entry.address}"
                if exact
                else f"Near match for a DSL to judge: {blocking[0].entry.address}"
            ),
        )

    untrained = [p.name for p in people if p.user_id and not _training_valid(p.user, day)]
    add("training", not untrained, f"Not valid on {day:%d %b %Y}: {', '.join(untrained)}" if untrained else "")

    if assessment is None:
        add("risk_assessment", False, "No risk assessment for this household yet.")
    else:
        reason = assessment.stale_reason_on(day)
        add(
            "risk_assessment",
            not reason,
            reason or f"Done {assessment.assessed_on:%d %b %Y}, review by {assessment.review_on:%d %b %Y}.",
        )

    flags = _flag_problems(assessment)
    add("risk_flags", not flags, " ".join(flags))

    add("safe_word", SafeWord.objects.filter(visit=visit).exists(), "")

    if visit.announced:
        # One record of telling the family: the visit's ParentNotification rows (newest last).
        told = visit.parent_notifications.order_by("notified_at", "id").last()
        if told is None:
            add("parents", False, "Record how the family was told.")
        else:
            add(
                "parents",
                told.response != "declined",
                f"Told by {told.get_method_display().lower()} on "
                f"{timezone.localtime(told.notified_at):%d %b %Y}: {told.get_response_display().lower()}.",
            )
    else:
        informed = bool(prep and prep.headteacher_informed_at) and bool(visit.unannounced_reason.strip())
        add(
            "parents",
            informed,
            "Unannounced: "
            + (
                "reason recorded and the Headteacher informed."
                if informed
                else "inform the Headteacher of the purpose, address and time due back."
            ),
        )

    with_sw = [c for c in visit.children.all() if c.has_social_worker]
    if not with_sw:
        add("social_worker", True, "No child on this visit has a social worker.")
    elif prep and (prep.social_worker_informed_at or prep.social_worker_told_after):
        add(
            "social_worker",
            True,
            "Informed."
            if prep.social_worker_informed_at
            else f"Will be told straight after: {prep.social_worker_note}",
        )
    else:
        add("social_worker", False, f"{', '.join(c.social_worker_name for c in with_sw)} not yet informed.")
    return items


def _training_valid(user, day) -> bool:
    profile = getattr(user, "profile", None)
    return bool(profile and profile.training_valid_on(day))


def _flag_problems(assessment: RiskAssessment | None) -> list[str]:
    if assessment is None:
        return []
    problems = []
    if assessment.invite_to_school_instead:
        problems.append("The assessment says to invite the family into school instead.")
    if assessment.dangerous_animals and not assessment.animals_kept_apart_agreed:
        problems.append(
            "Dangerous animals: the family must agree to keep them in another room, or the visit is cancelled."
        )
    if assessment.needs_sign_off and not assessment.signed_off_at:
        problems.append("Needs a DSL's sign-off (known aggressive adult or a high risk).")
    return problems


def departure_blockers(visit, *, today: datetime.date | None = None) -> list[ChecklistItem]:
    """The items neither met nor overridden. Check-out is refused unless this is empty."""
    return [item for item in departure_checklist(visit, today=today) if item.blocking]


def departure_check_record(*, visit, actor, today: datetime.date | None = None) -> list[ChecklistItem]:
    """For the check-out service, inside its transaction: the blockers, with an audit row of every item's state
    (the evidence that the address was checked against the list today and the rest was in place)."""
    items = departure_checklist(visit, today=today)
    audit(
        actor=actor,
        action="checklist.check",
        obj=visit,
        summary=f"Pre-departure checklist: {sum(i.blocking for i in items)} item(s) blocking",
        items={i.key: i.state for i in items},
        notes={i.key: i.detail for i in items if i.key != "safe_word"},
    )
    return [item for item in items if item.blocking]
