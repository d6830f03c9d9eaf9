"""Requests: a visit is asked for, changed, decided, told to the family or called off. Each verb checks who is
acting and writes its audit row in the same transaction."""

import datetime
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from core.audit import audit
from families.models import Child, Household

from ..access import sync_visit_access
from ..lifecycle import BEFORE_DEPARTURE, SUBMITTABLE, _transition, now_or
from ..lifecycle import VisitStatus as S
from ..models import (
    AuthorisationDecision,
    Decision,
    ParentNotification,
    ParentResponse,
    Visit,
    VisitPerson,
    VisitRole,
    VisitStatus,
    VisitTransition,
)
from ..permissions import may_cancel, may_create_visit, may_view_visit
from . import notifications, policy


@dataclass(frozen=True)
class Visitor:
    """One person on a visit as the caller describes them: a member of staff, or an external practitioner."""

    role: str
    user: object = None
    external_name: str = ""
    external_organisation: str = ""
    external_phone: str = ""

    # The names VisitPerson answers to, so the policy checks read either.
    @property
    def user_id(self):
        return self.user.pk if self.user is not None else None

    @property
    def name(self) -> str:
        if self.user is not None:
            return self.user.get_full_name() or self.user.username
        return self.external_name


def _validate_people(people: list[Visitor], *, driver=None) -> None:
    leads = [p for p in people if p.role == VisitRole.LEAD]
    if len(leads) != 1:
        raise ValidationError("A visit has exactly one lead.")
    staff_ids = [p.user.pk for p in people if p.user is not None]
    if len(staff_ids) != len(set(staff_ids)):
        raise ValidationError("The same person cannot be on a visit twice.")
    if driver is not None and driver.pk not in staff_ids:
        raise ValidationError({"vehicle": "The driver must be one of the visitors: choose who drives again."})


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
        if not child.is_on_roll():
            raise ValidationError({"children": f"{child} left the school on {child.left_on:%-d %B %Y}."})


def _save_people(visit: Visit, people: list[Visitor]) -> None:
    for person in people:
        row = VisitPerson(
            visit=visit,
            role=person.role,
            user=person.user,
            external_name=person.external_name,
            external_organisation=person.external_organisation,
            external_phone=person.external_phone,
        )
        row.full_clean(exclude=["visit"])
        row.save()
    sync_visit_access(visit)


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
    driver=None,
    lead_mobile: str = "",
    principal_exception_reason: str = "",
    now=None,
) -> Visit:
    """Create a visit as a draft, with its people, and give them and the requester access to it. A vehicle with
    no driver named is the lead's car."""
    if not may_create_visit(requested_by, school):
        raise PermissionDenied("Only staff, DSLs and the Principal of this school request its visits.")
    now = now_or(now)
    if vehicle.strip() and driver is None:
        driver = next((p.user for p in people if p.role == VisitRole.LEAD), None)
    visit = Visit(
        school=school,
        household=household,
        requested_by=requested_by,
        purpose=purpose,
        reason=reason,
        outcome_wanted=outcome_wanted,
        scheduled_start=scheduled_start,
        expected_duration_minutes=expected_duration_minutes,
        expected_return=expected_return,
        announced=announced,
        unannounced_reason=unannounced_reason,
        invite_to_school_instead=invite_to_school_instead,
        vehicle=vehicle,
        driver=driver,
        lead_mobile=lead_mobile,
        principal_exception_reason=principal_exception_reason,
        status=VisitStatus.DRAFT,
        created_at=now,
    )
    visit.full_clean()
    _validate_children(school, household, children)
    _validate_people(people, driver=driver)
    visit.save()
    visit.children.set(children)
    _save_people(visit, people)
    VisitTransition.objects.create(
        visit=visit, from_status="", to_status=visit.status, actor=requested_by, at=now, note="Created"
    )
    audit(actor=requested_by, action="visit.create", obj=visit, summary=f"Created {visit}")
    return visit


# Changing any of these after a decision (who, where, when, and whether the family is told) needs a new one. A
# meeting in school instead of the home, or the other way round, is a change of where.
MATERIAL = {
    "household",
    "children",
    "people",
    "scheduled_start",
    "expected_duration_minutes",
    "expected_return",
    "invite_to_school_instead",
    "announced",
}


DECISION_STATUS = {
    Decision.APPROVED: S.AUTHORISED,
    Decision.DECLINED: S.DECLINED,
    Decision.CHANGES_REQUESTED: S.CHANGES_REQUESTED,
}


def _send_for_decision(visit: Visit, *, actor, note: str, now) -> None:
    policy.check_submission(visit, requested_by=visit.requested_by)
    _transition(visit, to_status=S.REQUESTED, actor=actor, now=now, note=note)
    visit.submitted_at = now
    visit.save(update_fields=["submitted_at", "updated_at"])
    transaction.on_commit(lambda: notifications.notify_approvers(visit.pk))


def visits_after_household_moved(*, household: Household, actor, was: str, now=None) -> list[Visit]:
    """The family's address changed (an MIS import): an authorised visit that has not left was judged on the old
    address (prohibited-address check, risk, travel), so it goes back for a new decision. Called by
    families.services.household_moved, which checked the actor, inside its transaction."""
    now = now_or(now)
    moved = []
    for visit in Visit.objects.filter(household=household, status=S.AUTHORISED).order_by("pk"):
        _transition(
            visit,
            to_status=S.REQUESTED,
            actor=actor,
            now=now,
            note=f"The family's address changed in the MIS import (it was {was}): needs a new decision",
        )
        visit.submitted_at = now
        visit.save(update_fields=["submitted_at", "updated_at"])
        transaction.on_commit(lambda pk=visit.pk: notifications.notify_approvers(pk))
        moved.append(visit)
    return moved


@transaction.atomic
def visit_submit(*, visit: Visit, actor, now=None) -> Visit:
    """Send a draft (or a request sent back for changes) for authorisation, if the school's policy allows it."""
    locked = Visit.objects.locked(visit)
    if locked.status not in SUBMITTABLE:
        raise ValidationError(f"A visit that is {locked.get_status_display().lower()} cannot be submitted.")
    if actor.pk != locked.requested_by_id:
        raise PermissionDenied("Only the person who requested the visit can submit it.")
    _send_for_decision(locked, actor=actor, note="Submitted for authorisation", now=now_or(now))
    visit.status, visit.submitted_at = locked.status, locked.submitted_at
    return locked


@transaction.atomic
def visit_cancel(*, visit: Visit, actor, reason: str, now=None) -> Visit:
    """Call a visit off. The reason is kept on the visit's history; the board and approvals drop it at once."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the visit is called off: its history keeps the reason."})
    locked = Visit.objects.locked(visit)
    if locked.status not in BEFORE_DEPARTURE:
        raise ValidationError(
            f"A visit that is {locked.get_status_display().lower()} cannot be cancelled: "
            "once staff have set off, record their check-ins instead."
        )
    if not may_cancel(actor, locked):
        raise PermissionDenied("Only the requester, the visitors, a DSL or the Principal can cancel a visit.")
    _transition(locked, to_status=S.CANCELLED, actor=actor, now=now_or(now), note=f"Cancelled: {reason}")
    visit.status = locked.status
    return locked


def _people_key(people) -> list[tuple]:
    return sorted(
        (
            p.role,
            getattr(p, "user_id", None) or (p.user.pk if p.user else None),
            p.external_name,
            p.external_organisation,
            str(p.external_phone or ""),
        )
        for p in people
    )


@transaction.atomic
def visit_update(
    *,
    visit: Visit,
    actor,
    children: list[Child] | None = None,
    people: list[Visitor] | None = None,
    now=None,
    **fields,
) -> Visit:
    """Edit a visit. Changing who, where or when after authorisation sends it back for a new decision."""
    locked = Visit.objects.locked(visit)
    if locked.status not in BEFORE_DEPARTURE:
        raise ValidationError(f"A visit that is {locked.get_status_display().lower()} can no longer be changed.")
    if actor.pk != locked.requested_by_id:
        raise PermissionDenied("Only the person who requested the visit can change it.")
    school_policy = locked.school.policy()
    exceptions_before = {e.code for e in policy.principal_exceptions(locked, school_policy)}
    changed = []
    for name, value in fields.items():
        field = locked._meta.get_field(name)
        new = value if field.is_relation else field.to_python(value)
        if getattr(locked, name) != new:
            setattr(locked, name, new)
            changed.append(name)
    locked.full_clean()
    if children is not None:
        _validate_children(locked.school, locked.household, children)
        if {c.pk for c in children} != set(locked.children.values_list("pk", flat=True)):
            locked.children.set(children)
            changed.append("children")
    if people is not None:
        _validate_people(people, driver=locked.driver)
        if _people_key(people) != _people_key(locked.people.all()):
            locked.people.all().delete()
            _save_people(locked, people)
            changed.append("people")
    elif "driver" in changed:
        _validate_people(list(locked.people.all()), driver=locked.driver)
    locked.save()
    if not changed:
        return locked
    audit(actor=actor, action="visit.update", obj=locked, summary=f"Changed {', '.join(changed)}", changed=changed)
    exceptions_changed = {e.code for e in policy.principal_exceptions(locked, school_policy)} != exceptions_before
    material = MATERIAL.intersection(changed) or exceptions_changed
    if locked.status == S.AUTHORISED and material:
        what = ", ".join(sorted(MATERIAL.intersection(changed))) or "the exceptions needed"
        _send_for_decision(
            locked, actor=actor, note=f"Changed after authorisation ({what}): needs a new decision", now=now_or(now)
        )
    elif locked.status == S.REQUESTED:
        policy.check_submission(locked, requested_by=locked.requested_by)  # a pending request stays within policy
    elif locked.status == S.AUTHORISED and {"driver", "vehicle"} & set(changed) and policy.vehicle_problems(locked):
        # Another car or driver is not a new decision, but it must still be insured for business use.
        raise ValidationError({"vehicle": policy.vehicle_problems(locked)})
    visit.status = locked.status
    return locked


@transaction.atomic
def visit_decide(
    *,
    visit: Visit,
    actor,
    decision: str,
    reason: str = "",
    conditions: str = "",
    unfamiliar_pair_reason: str = "",
    now=None,
) -> AuthorisationDecision:
    """A DSL's or the Principal's decision, kept as a permanent record, and the visit moved on by it. Approving a
    pair of whom nobody works with the child or family (policy.unfamiliar_pair) takes the decider's reason."""
    now = now_or(now)
    locked = Visit.objects.locked(visit)
    if locked.status != S.REQUESTED:
        raise ValidationError(f"This visit is {locked.get_status_display().lower()}: there is no request to decide.")
    school_policy = locked.school.policy()
    approving = decision == Decision.APPROVED
    refusal = policy.decision_refusal(actor, locked, approving=approving, policy=school_policy)
    if refusal:
        raise PermissionDenied(refusal)
    accepted = ""
    if approving:
        # Training can lapse and diaries fill while a request waits: check again before it goes ahead.
        policy.check_submission(locked, requested_by=locked.requested_by)
        if warning := policy.unfamiliar_pair(locked):
            accepted = unfamiliar_pair_reason.strip()
            if not accepted:
                raise ValidationError(
                    {"unfamiliar_pair_reason": f"{warning} Say why you accept this pair, or ask for changes."}
                )
    record = AuthorisationDecision(
        visit=locked,
        decided_by=actor,
        decided_as=policy.decided_as(actor, locked.school_id),
        decided_at=now,
        decision=decision,
        reason=reason.strip(),
        conditions=conditions.strip() if approving else "",
        exceptions=[e.code for e in policy.principal_exceptions(locked, school_policy)] if approving else [],
        unfamiliar_pair_reason=accepted,
    )
    record.full_clean()
    record.save()
    note = record.get_decision_display()
    if record.reason:
        note += f": {record.reason}"
    if record.conditions:
        note += f". Conditions: {record.conditions}"
    if accepted:
        note += f". Accepted a pair who do not yet work with the family: {accepted}"
    _transition(locked, to_status=DECISION_STATUS[decision], actor=actor, now=now, note=note)
    audit(
        actor=actor,
        action="visit.decide",
        obj=locked,
        summary=f"{record.get_decision_display()} the request",
        decision=decision,
        # The reason itself is on the decision (casework); the trail says that it was accepted.
        accepted_unfamiliar_pair=bool(accepted),
    )
    transaction.on_commit(lambda: notifications.notify_requester(record.pk))
    visit.status = locked.status
    return record


@transaction.atomic
def parent_notification_record(
    *, visit: Visit, actor, method: str, notified_at: datetime.datetime, response: str, note: str = "", now=None
) -> ParentNotification:
    """How the family was told about an announced visit and what they said; a refusal closes the visit."""
    now = now_or(now)
    locked = Visit.objects.locked(visit)
    if not may_view_visit(actor, locked):
        raise PermissionDenied("Only the pair, the requester, a DSL or the Principal record what the family said.")
    if not locked.announced:
        raise ValidationError("This visit is unannounced: the family is not told in advance.")
    if locked.status not in BEFORE_DEPARTURE:
        raise ValidationError(f"A visit that is {locked.get_status_display().lower()} cannot record this.")
    row = ParentNotification(
        visit=locked,
        method=method,
        notified_at=notified_at,
        response=response,
        note=note.strip(),
        recorded_by=actor,
        recorded_at=now,
    )
    row.full_clean()
    row.save()
    audit(
        actor=actor,
        action="visit.parents_notified",
        obj=locked,
        summary=f"Family told by {row.get_method_display().lower()}: {row.get_response_display().lower()}",
    )
    if response == ParentResponse.DECLINED:
        # A home visit is optional for families (the policies): recorded as their choice, not dropped.
        _transition(
            locked,
            to_status=S.FAMILY_DECLINED,
            actor=actor,
            now=now,
            note=f"The family declined the visit ({row.get_method_display().lower()})",
        )
        visit.status = locked.status
    return row
