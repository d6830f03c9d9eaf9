"""Roles are Django groups; these are their names and the questions views ask of them."""

from django.db import models


class Role(models.TextChoices):
    STAFF = "Staff", "Visiting staff"
    DSL = "DSL", "Designated Safeguarding Lead (or deputy)"
    PRINCIPAL = "Principal", "Principal / Headteacher"
    OFFICE = "Office", "Office / reception"
    TRUST_ADMIN = "Trust admin", "Trust / school admin"


def user_roles(user) -> frozenset[str]:
    """The user's role names, cached on the user object for the request."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_role_names", None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
        user._role_names = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def is_senior(user) -> bool:
    """DSLs and the Principal: they authorise visits and see every visit at their schools."""
    return has_role(user, Role.DSL, Role.PRINCIPAL)
