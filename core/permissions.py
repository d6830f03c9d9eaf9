"""Who may do what, as named predicates: each takes the user first, then the object it is about (if any).

Roles belong to a person (core.roles); these are the rules the views and services share, so that a page and
the service behind it never disagree.
"""

from .roles import Role, has_role, user_roles


def may_see_family_records(user) -> bool:
    """Staff need a family's contact details to plan a visit; the office works from the board instead."""
    return user.is_superuser or has_role(user, Role.STAFF, Role.DSL, Role.PRINCIPAL)


def user_may_override(user, roles_allowed: list[str]) -> str | None:
    """The role (of those the policy names) under which this user may override, or None."""
    if user.is_superuser and roles_allowed:
        return roles_allowed[0]
    mine = user_roles(user)
    return next((role for role in roles_allowed if role in mine), None)
