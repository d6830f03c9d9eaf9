"""The school's home-visit policy applied to one visit: the submit-time checks, the Principal-only exceptions,
and who may decide. Pure reads: the services call these and refuse the change when something is wrong.

Every number comes from `school.policy()` (never a constant here).
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone

from core.models import Authorisers, EffectivePolicy
from core.permissions import FIELD_ROLES, school_ids_where
from core.roles import SENIOR, Role, has_role, user_roles
from safeguarding.selectors import prohibited_address_matches

from ..lifecycle import BOOKED
from ..models import Visit, VisitRole, VisitStatus


@dataclass(frozen=True)
class PolicyException:
    code: str
    label: str


EVENING = "outside_hours"
LONG = "over_max_duration"
UNANNOUNCED = "unannounced"


def principal_exceptions(visit: Visit, policy: EffectivePolicy) -> list[PolicyException]:
    """What about this visit the school's policy reserves for the Principal to approve."""
    found = []
    if visit.invite_to_school_instead:
        return found  # a meeting in school is not a home visit: the home-visit limits do not apply
    start = timezone.localtime(visit.scheduled_start).time()
    if start < policy.earliest_start or start > policy.latest_start:
        found.append(
            PolicyException(
                EVENING, f"Starts at {start:%H:%M}, outside {policy.earliest_start:%H:%M}–{policy.latest_start:%H:%M}"
            )
        )
    if visit.expected_duration_minutes > policy.max_visit_minutes:
        found.append(
            PolicyException(
                LONG,
                f"Lasts {visit.expected_duration_minutes} minutes, more than the {policy.max_visit_minutes} allowed",
            )
        )
    if not visit.announced and policy.unannounced_needs_principal:
        found.append(PolicyException(UNANNOUNCED, "Unannounced"))
    return found


def overlapping_visits(visit: Visit, user_ids: list[int]):
    """Other booked visits with any of these staff on them whose time overlaps this one's (touching is fine)."""
    return (
        Visit.objects.filter(status__in=BOOKED, people__user_id__in=user_ids)
        .filter(scheduled_start__lt=visit.expected_return, expected_return__gt=visit.scheduled_start)
        .exclude(pk=visit.pk)
        .distinct()
    )


def submission_errors(visit: Visit, *, requested_by, policy: EffectivePolicy | None = None) -> dict[str, list[str]]:
    """Everything that stops this visit being sent for authorisation, by field; empty when it may go."""
    policy = policy or visit.school.policy()
    errors: dict[str, list[str]] = {}

    def add(field, message):
        errors.setdefault(field, []).append(message)

    people = list(visit.people.select_related("user__profile"))
    own_schools = set(school_ids_where(requested_by, *FIELD_ROLES))
    for child in visit.children.all():
        if child.school_id not in own_schools or child.school_id != visit.school_id:
            add("children", f"{child} is not on your school's roll.")

    staff = [p for p in people if p.user_id]
    if staff:
        clashes = overlapping_visits(visit, [p.user_id for p in staff]).prefetch_related("people__user")
        for other in clashes:
            names = sorted({p.name for p in other.people.all() if p.user_id in {s.user_id for s in staff}})
            add(
                "people",
                f"{', '.join(names)} already booked on another visit from "
                f"{timezone.localtime(other.scheduled_start):%H:%M} to "
                f"{timezone.localtime(other.expected_return):%H:%M} that day.",
            )

    if visit.invite_to_school_instead:
        return errors  # the pair, training and hours rules are for going out to a home

    if len(people) < 2:
        add("people", "A home visit needs two visitors: choose a colleague or name an external practitioner.")
    day = timezone.localtime(visit.scheduled_start).date()
    for person in staff:
        profile = getattr(person.user, "profile", None)
        if profile is None or not profile.training_valid_on(day):
            add("people", f"{person.name}'s safer-working-practice training is missing or expired on {day:%d %B %Y}.")

    needs_reason = [e for e in principal_exceptions(visit, policy) if e.code in {EVENING, LONG}]
    if needs_reason and not visit.principal_exception_reason.strip():
        for exception in needs_reason:
            field = "scheduled_start" if exception.code == EVENING else "expected_duration_minutes"
            add(field, f"{exception.label}: ask for the Principal's exception and give a reason, or change it.")

    # One override for the address, shared with the pre-departure checklist: a DSL's, with the reason kept.
    if not visit.pk or not visit.checklist_overrides.filter(item="address").exists():
        blocking = [
            m
            for m in prohibited_address_matches(household_or_address=visit.household, school=visit.school, on=day)
            if m.blocks
        ]
        if any(m.kind == "exact" for m in blocking):
            add(
                "household",
                "This address is on the prohibited-addresses list. Save the request as a draft and "
                "ask a DSL: only they can override it, with a reason, on the visit's checklist.",
            )
        elif blocking:
            add(
                "household",
                "This address is close to one on the prohibited-addresses list (same postcode): "
                "a DSL must judge whether it is the same place before the visit can be requested.",
            )
    return errors


def check_submission(visit: Visit, *, requested_by) -> None:
    errors = submission_errors(visit, requested_by=requested_by)
    if errors:
        raise ValidationError(errors)


# --- who decides ----------------------------------------------------------------------------------------------


def decision_refusal(user, visit: Visit, *, approving: bool, policy: EffectivePolicy | None = None) -> str:
    """Why this user may not make this decision on this visit; "" when they may."""
    roles = user_roles(user, visit.school_id)
    if not roles & {Role.DSL, Role.PRINCIPAL}:
        return "Only the school's DSLs and Principal decide visit requests."
    if visit.requested_by_id == user.pk or any(p.user_id == user.pk for p in visit.people.all()):
        return "You cannot decide a visit you requested or are part of."
    policy = policy or visit.school.policy()
    principal = Role.PRINCIPAL in roles
    if policy.authorisers == Authorisers.PRINCIPAL_ONLY and not principal:
        return "At this school only the Principal authorises home visits."
    exceptions = principal_exceptions(visit, policy)
    if approving and exceptions and not principal:
        labels = "; ".join(e.label for e in exceptions)
        return f"Only the Principal can approve this visit's exceptions ({labels})."
    return ""


def decided_as(user, school) -> str:
    return Role.PRINCIPAL if has_role(user, Role.PRINCIPAL, school=school) else Role.DSL


def lead_of(visit: Visit):
    return next((p for p in visit.people.all() if p.role == VisitRole.LEAD), None)


def pending_for(*, user):
    """Requests awaiting a decision at the schools where the user is a DSL or the Principal, oldest first."""
    return (
        Visit.objects.filter(school_id__in=school_ids_where(user, *SENIOR))
        .filter(status=VisitStatus.REQUESTED)
        .order_by(F("submitted_at").asc(nulls_first=True), "pk")
    )


def age(visit: Visit, now: datetime.datetime | None = None) -> datetime.timedelta:
    return (now or timezone.now()) - (visit.submitted_at or visit.created_at)


def age_words(delta: datetime.timedelta) -> str:
    """'2 days 3 hours', '4 hours 5 minutes', '12 minutes': how long a request has waited."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)

    def unit(n, word):
        return f"{n} {word}{'' if n == 1 else 's'}"

    if days:
        return unit(days, "day") + (f" {unit(hours, 'hour')}" if hours else "")
    if hours:
        return unit(hours, "hour") + (f" {unit(minutes, 'minute')}" if minutes else "")
    return unit(minutes, "minute")
