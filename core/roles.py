"""Roles and the questions views ask of them. A role belongs to a person at a school (core.models.Membership),
from one day to another: every question names the school it is about, or asks about any of the person's schools.

    user_roles(user, school=None)      the roles held today at `school` (a School or its id), or at any school
    has_role(user, *roles, school=None)
    is_senior(user, school=None)       a DSL or the Principal
    schools_where(user, *roles)        the ids of the schools where any of `roles` is held today (any role if none)

These read memberships only: a superuser holds no role by being one (the predicates in core/permissions.py let
them through). What they read is loaded once per signed-in user and cached with it (core.auth), dates and all,
so a membership that starts or ends at midnight takes effect then, cache or not.
"""

import datetime

from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    STAFF = "Staff", "Visiting staff"
    DSL = "DSL", "Designated Safeguarding Lead (or deputy)"
    PRINCIPAL = "Principal", "Principal / Headteacher"
    OFFICE = "Office", "Office / reception"
    TRUST_ADMIN = "Trust admin", "Trust / school admin"


SENIOR = frozenset({Role.DSL, Role.PRINCIPAL})

# (school id, role, first day, last day or None) for each membership not over when it was read.
Span = tuple[int, str, datetime.date, datetime.date | None]


def membership_spans(user) -> tuple[Span, ...]:
    """The user's memberships that had not ended when read; cached on the user (and so in the signed-in cache)."""
    if not user.is_authenticated:
        return ()
    cached = getattr(user, "_membership_spans", None)
    if cached is None:
        from .models import Membership  # the models import Role from here

        cached = tuple(
            Membership.objects.filter(user_id=user.pk)
            .exclude(ends_on__lt=timezone.localdate())
            .order_by("school_id", "role")
            .values_list("school_id", "role", "starts_on", "ends_on")
        )
        user._membership_spans = cached
    return cached


def roles_by_school(user, day: datetime.date | None = None) -> dict[int, frozenset[str]]:
    """School id -> the roles the user holds there on `day` (today by default)."""
    day = day or timezone.localdate()
    found: dict[int, set[str]] = {}
    for school_id, role, starts_on, ends_on in membership_spans(user):
        if starts_on <= day and (ends_on is None or ends_on >= day):
            found.setdefault(school_id, set()).add(role)
    return {school_id: frozenset(roles) for school_id, roles in found.items()}


def _school_id(school) -> int:
    return getattr(school, "pk", school)


def user_roles(user, school=None) -> frozenset[str]:
    """The roles held today at `school` (a School or its id), or at any of the user's schools when None."""
    held = roles_by_school(user)
    if school is not None:
        return held.get(_school_id(school), frozenset())
    return frozenset().union(*held.values())


def has_role(user, *roles: str, school=None) -> bool:
    return bool(user_roles(user, school) & set(roles))


def is_senior(user, school=None) -> bool:
    """DSLs and the Principal: they authorise visits and see every visit at their schools."""
    return has_role(user, *SENIOR, school=school)


def schools_where(user, *roles: str) -> list[int]:
    """The ids of the schools where the user holds any of `roles` today (any role at all when none are named)."""
    wanted = set(roles)
    return sorted(sid for sid, held in roles_by_school(user).items() if not wanted or held & wanted)
