"""Every change to a visit goes through here, with its audit entry in the same transaction."""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from safeguarding.audit import audit

from .access import sync_visit_access
from .models import Child, Household, Visit, VisitPerson, VisitRole, VisitStatus, VisitTransition

S = VisitStatus
# The visit's life (DESIGN.md). Anything not listed here is refused.
ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    S.DRAFT: {S.REQUESTED, S.CANCELLED},
    S.REQUESTED: {S.AUTHORISED, S.DECLINED, S.CHANGES_REQUESTED, S.CANCELLED},
    S.CHANGES_REQUESTED: {S.REQUESTED, S.CANCELLED},
    S.AUTHORISED: {S.OUT, S.CANCELLED, S.REQUESTED},
    S.OUT: {S.ON_SITE, S.RETURNED},
    S.ON_SITE: {S.LEFT},
    S.LEFT: {S.RETURNED},
    S.RETURNED: {S.REPORTED},
    S.REPORTED: {S.REVIEWED},
    S.DECLINED: set(),
    S.CANCELLED: set(),
    S.REVIEWED: set(),
}


@dataclass(frozen=True)
class Visitor:
    """One person on a visit as the caller describes them: a member of staff, or an external practitioner."""

    role: str
    user: object = None
    external_name: str = ""
    external_organisation: str = ""
    external_phone: str = ""


def _validate_people(people: list[Visitor]) -> None:
    leads = [p for p in people if p.role == VisitRole.LEAD]
    if len(leads) != 1:
        raise ValidationError("A visit has exactly one lead.")
    staff_ids = [p.user.pk for p in people if p.user is not None]
    if len(staff_ids) != len(set(staff_ids)):
        raise ValidationError("The same person cannot be on a visit twice.")


def _validate_children(school, household: Household, children: list[Child]) -> None:
    if not children:
        raise ValidationError({"children": "Choose at least one child."})
    if household.school_id != school.pk:
        raise ValidationError({"household": "This household belongs to another school."})
    for child in children:
        if child.school_id != school.pk:
            raise ValidationError({"children": f"{child} is not on this school's roll."})
        if child.household_id != household.pk:
            raise ValidationError({"children": f"{child} does not live in this household."})


@transaction.atomic
def visit_create(
    *,
    requested_by,
    school,
    household: Household,
    children: list[Child],
    people: list[Visitor],
    purpose: str,
    reason: str,
    outcome_wanted: str,
    scheduled_start: datetime.datetime,
    expected_duration_minutes: int,
    expected_return: datetime.datetime,
    announced: bool = True,
    unannounced_reason: str = "",
    invite_to_school_instead: bool = False,
    vehicle: str = "",
    lead_mobile: str = "",
) -> Visit:
    """Create a visit as a draft, with its people, and give them and the requester access to it."""
    visit = Visit(
        school=school, household=household, requested_by=requested_by, purpose=purpose, reason=reason,
        outcome_wanted=outcome_wanted, scheduled_start=scheduled_start,
        expected_duration_minutes=expected_duration_minutes, expected_return=expected_return,
        announced=announced, unannounced_reason=unannounced_reason,
        invite_to_school_instead=invite_to_school_instead, vehicle=vehicle, lead_mobile=lead_mobile,
        status=VisitStatus.DRAFT,
    )
    visit.full_clean()
    _validate_children(school, household, children)
    _validate_people(people)
    visit.save()
    visit.children.set(children)
    for person in people:
        row = VisitPerson(visit=visit, role=person.role, user=person.user, external_name=person.external_name,
                          external_organisation=person.external_organisation, external_phone=person.external_phone)
        row.full_clean(exclude=["visit"])
        row.save()
    sync_visit_access(visit)
    VisitTransition.objects.create(visit=visit, from_status="", to_status=visit.status, actor=requested_by,
                                   at=timezone.now(), note="Created")
    audit(actor=requested_by, action="visit.create", obj=visit, summary=f"Created {visit}")
    return visit


@transaction.atomic
def visit_transition(*, visit: Visit, to_status: str, actor, note: str = "", at=None) -> Visit:
    """Move a visit to its next state, if its life allows it. Locks the row so two clicks cannot race."""
    locked = Visit.objects.select_for_update().get(pk=visit.pk)
    if to_status not in ALLOWED_TRANSITIONS[locked.status]:
        raise ValidationError(
            f"A visit that is {locked.get_status_display().lower()} cannot become "
            f"{VisitStatus(to_status).label.lower()}."
        )
    from_status = locked.status
    locked.status = to_status
    locked.save(update_fields=["status", "updated_at"])
    VisitTransition.objects.create(visit=locked, from_status=from_status, to_status=to_status, actor=actor,
                                   at=at or timezone.now(), note=note)
    audit(actor=actor, action="visit.transition", obj=locked, summary=f"{from_status} -> {to_status}",
          from_status=from_status, to_status=to_status)
    visit.status = to_status
    transaction.on_commit(_board_changed)
    return locked


def _board_changed():
    from .board import board_changed

    board_changed()


def _departure_blockers(visit: Visit) -> list[str]:
    """Why this visit may not check out yet; empty when it may.

    Checks what exists on this branch (authorised, a pair, the lead's mobile). The pre-departure checklist
    (risk issue) adds its own `departure_blockers(visit)` here at merge: extend this list with its results.
    """
    blockers = []
    if visit.status != VisitStatus.AUTHORISED:
        blockers.append("The visit has not been authorised.")
    if visit.people.count() < 2:
        blockers.append("A home visit needs at least two visitors.")
    if not visit.lead_mobile:
        blockers.append("Give the lead's mobile so the office can ring it.")
    return blockers
