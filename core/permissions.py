"""Who may do what, as named predicates: each takes the user first, then the object it is about (if any).

Roles belong to a person (core.roles); these are the rules the views and services share, so that a page and
the service behind it never disagree. Rules about one visit are in visits/permissions.py.
"""

from .roles import Role, has_role, is_senior, user_roles
from .scoping import school_ids_for


def works_at(user, school) -> bool:
    return user.is_authenticated and (user.is_superuser or school.pk in school_ids_for(user))


def may_see_family_records(user) -> bool:
    """The roles that may see any family record at all (the office works from the board instead). Which
    families each of them sees is families.access.may_see_family: staff only those they are visiting."""
    return user.is_superuser or has_role(user, Role.STAFF, Role.DSL, Role.PRINCIPAL)


def may_request_visits(user) -> bool:
    return user.is_superuser or has_role(user, Role.STAFF, Role.DSL, Role.PRINCIPAL)


def may_raise_concerns(user) -> bool:
    return has_role(user, Role.STAFF, Role.DSL, Role.PRINCIPAL)


def may_use_board(user) -> bool:
    """The office, the DSLs and the Principal."""
    return user.is_superuser or is_senior(user) or has_role(user, Role.OFFICE)


def may_manage_board_screens(user, school) -> bool:
    """Trust admins register and switch off the reception screens of their schools."""
    return works_at(user, school) and (user.is_superuser or has_role(user, Role.TRUST_ADMIN))


def may_manage_staff_profiles(user, school) -> bool:
    """Trust admins keep the contact details and vehicles of the staff of their schools."""
    return works_at(user, school) and (user.is_superuser or has_role(user, Role.TRUST_ADMIN))


def may_manage_settings(user, *, school=None, trust=None) -> bool:
    """Trust admins keep the settings of their schools, and of their trust (its default policy, sign-in and
    identity providers). A new trust is the superuser's."""
    if user.is_superuser:
        return True
    if not (user.is_authenticated and has_role(user, Role.TRUST_ADMIN)):
        return False
    if school is not None:
        return school.pk in school_ids_for(user)
    return trust is not None and trust.pk is not None and trust.schools.filter(pk__in=school_ids_for(user)).exists()


def may_see_figures(user) -> bool:
    """The governors' and trust figures: the DSLs and the Principal for their schools, trust admins for the trust."""
    return user.is_superuser or is_senior(user) or has_role(user, Role.TRUST_ADMIN)


def may_keep_safeguarding_records(user, school) -> bool:
    """DSLs and the Principal of the school: training, concerns and their outcomes."""
    return works_at(user, school) and (user.is_superuser or is_senior(user))


def user_may_override(user, roles_allowed: list[str]) -> str | None:
    """The role (of those the policy names) under which this user may override, or None."""
    if user.is_superuser and roles_allowed:
        return roles_allowed[0]
    mine = user_roles(user)
    return next((role for role in roles_allowed if role in mine), None)
