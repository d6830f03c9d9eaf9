"""The school's home-visit policy applied to one visit: the submit-time checks, the Principal-only exceptions,
whether a visitor works with the family, and who decides. Pure reads: the services call these and refuse the
change when something is wrong; the pages call the same functions to say so before anyone submits.

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

from ..lifecycle import BOOKED, TOOK_PLACE
from ..models import Visit, VisitPerson, VisitRole, VisitStatus


@dataclass(frozen=True)
class PolicyException:
    code: str
    label: str


EVENING = "outside_hours"
LONG = "over_max_duration"
UNANNOUNCED = "unannounced"


def principal_exceptions(visit: Visit, policy: EffectivePolicy) -> list[PolicyException]:
    """What about this visit the school's policy reserves for the Principal to approve. Judged on the visit as
    planned (its start, its length, whether the family is told), whatever else is ticked: a request to invite the
    family into school at 19:00 is still at 19:00. A value the form could not read yet is not judged."""
    found = []
    if visit.scheduled_start is not None:
        start = timezone.localtime(visit.scheduled_start).time()
        if start < policy.earliest_start or start > policy.latest_start:
            found.append(
                PolicyException(
                    EVENING,
                    f"Starts at {start:%H:%M}, outside {policy.earliest_start:%H:%M}–{policy.latest_start:%H:%M}",
                )
            )
    if visit.expected_duration_minutes and visit.expected_duration_minutes > policy.max_visit_minutes:
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


def submission_errors(
    visit: Visit,
    *,
    requested_by,
    policy: EffectivePolicy | None = None,
    people: list | None = None,
    children: list | None = None,
) -> dict[str, list[str]]:
    """Everything that stops this visit being sent for authorisation, by field; empty when it may go.

    `people` (VisitPerson rows or services.Visitor) and `children` are for a visit not saved yet: the request form
    runs these checks with its own in one round, before anything is saved. A saved visit's own are read otherwise.
    A check whose answer the form could not read yet (a time, the children) is left to the form's own message.
    """
    policy = policy or visit.school.policy()
    errors: dict[str, list[str]] = {}

    def add(field, message):
        errors.setdefault(field, []).append(message)

    if people is None:
        people = list(visit.people.select_related("user__profile"))
    if children is None:
        children = list(visit.children.all()) if visit.pk else []
    own_schools = set(school_ids_where(requested_by, *FIELD_ROLES))
    for child in children:
        if child.school_id not in own_schools or child.school_id != visit.school_id:
            add("children", f"{child} is not on your school's roll.")

    staff = [p for p in people if p.user_id]
    for person in staff:
        if not has_role(person.user, *FIELD_ROLES, school=visit.school_id):
            add("people", f"{person.name} does not visit families for this school: choose a colleague who does.")
    timed = visit.scheduled_start is not None and visit.expected_return is not None
    if staff and timed:
        clashes = overlapping_visits(visit, [p.user_id for p in staff]).prefetch_related("people__user")
        for other in clashes:
            names = sorted({p.name for p in other.people.all() if p.user_id in {s.user_id for s in staff}})
            add(
                "people",
                f"{', '.join(names)} already booked on another visit from "
                f"{timezone.localtime(other.scheduled_start):%H:%M} to "
                f"{timezone.localtime(other.expected_return):%H:%M} that day.",
            )

    # The Principal's exceptions are the visit's, whatever else is ticked (principal_exceptions).
    needs_reason = [e for e in principal_exceptions(visit, policy) if e.code in {EVENING, LONG}]
    if needs_reason and not visit.principal_exception_reason.strip():
        for exception in needs_reason:
            field = "scheduled_start" if exception.code == EVENING else "expected_duration_minutes"
            add(field, f"{exception.label}: ask for the Principal's exception and give a reason, or change it.")

    if visit.invite_to_school_instead:
        return errors  # nobody goes to the home (check-out is refused): the pair, training and car rules are for that

    if len(people) < 2:
        add("people", "A home visit needs two visitors: choose a colleague or name an external practitioner.")
    day = timezone.localtime(visit.scheduled_start).date() if visit.scheduled_start else None
    for person in staff if day else ():
        profile = getattr(person.user, "profile", None)
        if profile is None or not profile.training_valid_on(day):
            add("people", f"{person.name}'s safer-working-practice training is missing or expired on {day:%d %B %Y}.")
    for message in vehicle_problems(visit, people=people):
        add("vehicle", message)

    # One override for the address, shared with the pre-departure checklist: a DSL's, with the reason kept.
    if visit.household_id and day and (not visit.pk or not visit.checklist_overrides.filter(item="address").exists()):
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


def vehicle_problems(visit: Visit, *, people: list | None = None) -> list[str]:
    """A car used for visits must be insured for business use (the policies): its driver, one of the visitors,
    has confirmed it and the trust admin has recorded it on their staff profile."""
    if not visit.driver_id:
        return []
    if people is None:
        people = list(visit.people.all())
    if visit.driver_id not in {p.user_id for p in people if p.user_id}:
        return ["The driver must be one of the visitors: choose who drives again."]
    driver = visit.driver
    name = driver.get_full_name() or driver.username
    profile = getattr(driver, "profile", None)
    if profile is None or not profile.business_insurance_confirmed:
        return [
            f"{name}'s business insurance for this car is not recorded: a car used for home visits must be insured "
            f"for business use. Ask the trust admin to record it on {name}'s staff profile, or go another way."
        ]
    return []


def check_submission(visit: Visit, *, requested_by) -> None:
    errors = submission_errors(visit, requested_by=requested_by)
    if errors:
        raise ValidationError(errors)


def _same_name(text: str) -> str:
    return " ".join(text.casefold().split())


def unfamiliar_pair(visit: Visit, *, people: list | None = None, children: list | None = None) -> str:
    """The policies ask that at least one visitor works with the child or family. From what the records hold, a
    visitor does when they are one of the children's key worker, the social worker named on a child's record (an
    external practitioner, matched by name), or were on an earlier visit to the household that went ahead.

    "" when one does (or nobody or no child is chosen yet); otherwise the warning the requester sees and the decider
    accepts with a reason (visit_decide)."""
    if people is None:
        people = list(visit.people.select_related("user"))
    if children is None:
        children = list(visit.children.select_related("key_worker")) if visit.pk else []
    if not people or not children or visit.invite_to_school_instead:
        return ""
    key_workers = {c.key_worker_id for c in children if c.key_worker_id}
    social_workers = {_same_name(c.social_worker_name) for c in children if c.social_worker_name}
    earlier = (
        VisitPerson.objects.filter(visit__household_id=visit.household_id, visit__status__in=TOOK_PLACE)
        .exclude(visit_id=visit.pk)
        .values_list("user_id", "external_name")
    )
    earlier_staff, earlier_external = set(), set()
    for user_id, external_name in earlier:
        if user_id:
            earlier_staff.add(user_id)
        else:
            earlier_external.add(_same_name(external_name))
    for person in people:
        if person.user_id and person.user_id in key_workers | earlier_staff:
            return ""
        if not person.user_id and _same_name(person.external_name) in social_workers | earlier_external:
            return ""
    names = " and ".join(p.name for p in people)
    who = " and ".join(c.first_name for c in children)
    known = sorted({c.key_worker.get_full_name() or c.key_worker.username for c in children if c.key_worker_id})
    hint = f" {who}'s key worker is {' and '.join(known)}." if known else ""
    return (
        f"Nobody on this visit ({names}) works with {who} or the family: not a key worker, not the social worker, "
        f"and not on an earlier visit there. The policy asks for at least one visitor who does.{hint}"
    )


# --- who decides ----------------------------------------------------------------------------------------------


PRINCIPAL_ONLY = frozenset({Role.PRINCIPAL})


@dataclass(frozen=True)
class Deciders:
    """Which roles at the visit's school may approve it, and why when it is the Principal alone."""

    roles: frozenset
    why: str = ""

    @property
    def principal_only(self) -> bool:
        return self.roles == PRINCIPAL_ONLY

    @property
    def words(self) -> str:
        return "the Principal" if self.principal_only else "a DSL or the Principal"

    @property
    def sentence(self) -> str:
        """For the requester: "The Principal decides it: at this school only the Principal authorises visits." """
        return f"{self.words[0].upper()}{self.words[1:]} decides it" + (f": {self.why}." if self.why else ".")


def who_decides(visit: Visit, policy: EffectivePolicy | None = None) -> Deciders:
    """Who may approve this visit: the school's DSLs and Principal, or the Principal alone where the school's policy
    says so or the visit needs the Principal's exception. The one rule that the decision itself, the approvers'
    emails, the dashboard, the approvals list and the requester's message all ask."""
    policy = policy or visit.school.policy()
    if policy.authorisers == Authorisers.PRINCIPAL_ONLY:
        return Deciders(PRINCIPAL_ONLY, "at this school only the Principal authorises home visits")
    exceptions = principal_exceptions(visit, policy)
    if exceptions:
        labels = "; ".join(e.label.lower() if e.code == UNANNOUNCED else e.label for e in exceptions)
        return Deciders(PRINCIPAL_ONLY, f"it needs the Principal's exception ({labels})")
    return Deciders(SENIOR)


def decision_refusal(user, visit: Visit, *, approving: bool, policy: EffectivePolicy | None = None) -> str:
    """Why this user may not make this decision on this visit; "" when they may. A DSL may still decline a request
    that needs the Principal's exception, or ask for changes to it, unless the school leaves every decision to
    the Principal."""
    roles = user_roles(user, visit.school_id)
    if not roles & {Role.DSL, Role.PRINCIPAL}:
        return "Only the school's DSLs and Principal decide visit requests."
    if visit.requested_by_id == user.pk or any(p.user_id == user.pk for p in visit.people.all()):
        return "You cannot decide a visit you requested or are part of."
    policy = policy or visit.school.policy()
    if roles & who_decides(visit, policy).roles:
        return ""
    if policy.authorisers == Authorisers.PRINCIPAL_ONLY:
        return "At this school only the Principal authorises home visits."
    if approving:
        labels = "; ".join(e.label for e in principal_exceptions(visit, policy))
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
