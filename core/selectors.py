"""Read queries about staff at a school."""

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from .models import EscalationAction, Membership, School, StaffProfile
from .roles import Role


def member_ids(*, school_ids, roles=None, day=None) -> QuerySet:
    """The ids of the people who hold a role (any of `roles`, if named) at these schools on `day` (today), as a
    subquery for `user__in=` / `pk__in=`."""
    qs = Membership.objects.active(day).filter(school_id__in=school_ids)
    if roles is not None:
        qs = qs.filter(role__in=list(roles))
    return qs.values("user_id")


def schools_of(user, day=None) -> QuerySet[School]:
    """The schools where this person holds a role on `day` (today)."""
    return School.objects.filter(pk__in=Membership.objects.active(day).filter(user=user).values("school_id"))


def staff_at(*, school: School) -> QuerySet[StaffProfile]:
    return StaffProfile.objects.filter(
        user__in=member_ids(school_ids=[school.pk]), user__is_active=True
    ).select_related("user")


def staff_trained_on(*, day, school_ids) -> QuerySet[StaffProfile]:
    """Staff at these schools whose safer-working-practice training is valid on `day` (who may be chosen for a
    visit on that day); the same rule as StaffProfile.training_valid_on, as one query."""
    return StaffProfile.objects.filter(
        user__in=member_ids(school_ids=school_ids, day=day), user__is_active=True, training_expires_on__gte=day
    ).select_related("user")


def users_with_role(*, school, roles) -> QuerySet:
    """Active users with any of these roles at this school (a School or its id): its DSLs, its office..."""
    return get_user_model().objects.filter(
        is_active=True, pk__in=member_ids(school_ids=[getattr(school, "pk", school)], roles=roles)
    )


def staff_users(*, school) -> QuerySet:
    """The active users who work at this school, for choosing a colleague (an action's owner, the accused)."""
    return (
        get_user_model()
        .objects.filter(
            pk__in=member_ids(school_ids=[getattr(school, "pk", school)]), is_active=True, profile__isnull=False
        )
        .order_by("first_name", "last_name")
    )


def step_audience(action: str) -> tuple[frozenset[str], bool]:
    """Who hears of an escalation step (by their role at the school), and whether by text as well as email."""
    senior = {Role.DSL, Role.PRINCIPAL}
    if action == EscalationAction.POLICE_PROMPT:
        return frozenset({Role.OFFICE, *senior}), True
    if action == EscalationAction.ALERT_SENIOR:
        return frozenset(senior), True
    return frozenset({Role.OFFICE}), False


def contact_gaps(*, school, policy) -> list[str]:
    """Warnings, before it matters, for each escalation step whose people at this school could not be reached:
    nobody active with an email, or (for a step sent by text) nobody with a mobile."""
    gaps, reachable = [], {}
    for number, step in enumerate(policy.escalation_steps, start=1):
        roles, by_text = step_audience(step.action)
        if roles not in reachable:
            users = list(users_with_role(school=school, roles=roles).select_related("profile"))
            reachable[roles] = (
                any(u.email for u in users),
                any(getattr(getattr(u, "profile", None), "mobile", None) for u in users),
            )
        has_email, has_mobile = reachable[roles]
        who = " or ".join(sorted(Role(r).label for r in roles))
        label = EscalationAction(step.action).label
        if not has_email:
            gaps.append(f"{school.name}, step {number} ({label}): no active {who} has an email address.")
        if by_text and not has_mobile:
            gaps.append(f"{school.name}, step {number} ({label}): no active {who} has a mobile for texts.")
    return gaps
