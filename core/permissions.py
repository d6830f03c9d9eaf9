"""Who may do what, as named predicates: each takes the user first, then the object it is about (if any).

Roles belong to a person (core.roles); these are the rules the views and services share, so that a page and
the service behind it never disagree.
"""

from .roles import Role, has_role


def may_see_family_records(user) -> bool:
    """Staff need a family's contact details to plan a visit; the office works from the board instead."""
    return user.is_superuser or has_role(user, Role.STAFF, Role.DSL, Role.PRINCIPAL)
