"""Who may do what, as named predicates: each takes the user first, then the object it is about (if any).

Roles belong to a person at a school (core.roles): a predicate about a thing asks at that thing's school; one
with no thing (a menu, "may I open this page at all") asks at any of the user's schools, and the page then lists
only the schools where the role holds (core.roles.schools_where). These are the rules the views and services
share, so that a page and the service behind it never disagree. Rules about one visit are in visits/permissions.py.
"""

from .models import School, Trust
from .roles import SENIOR, Role, has_role, is_senior, schools_where, user_roles
from .scoping import school_ids_for

FIELD_ROLES = (Role.STAFF, Role.DSL, Role.PRINCIPAL)  # those who go on visits and see the families they visit
BOARD_ROLES = (Role.OFFICE, *SENIOR)
FIGURES_ROLES = (*SENIOR, Role.TRUST_ADMIN)


def works_at(user, school) -> bool:
    return user.is_authenticated and (user.is_superuser or school.pk in school_ids_for(user))


def school_ids_where(user, *roles: str) -> list[int]:
    """The schools a list may show for these roles: where the user holds one today (every school, for a
    superuser). The one answer for "which rows", so that a list never disagrees with the predicates below."""
    return school_ids_for(user) if user.is_superuser else schools_where(user, *roles)


def may_see_family_records(user, school=None) -> bool:
    """The roles that may see any family record at all (the office works from the board instead). Which
    families each of them sees is families.access.may_see_family: staff only those they are visiting."""
    return user.is_superuser or has_role(user, *FIELD_ROLES, school=school)


def may_request_visits(user, school=None) -> bool:
    return user.is_superuser or has_role(user, *FIELD_ROLES, school=school)


def may_raise_concerns(user, school=None) -> bool:
    return has_role(user, *FIELD_ROLES, school=school)


def may_use_board(user, school=None) -> bool:
    """The office, the DSLs and the Principal (of `school`, or of any of the user's schools)."""
    return user.is_superuser or has_role(user, *BOARD_ROLES, school=school)


def is_trust_admin(user, trust) -> bool:
    """A trust admin at any school of this trust administers the whole trust."""
    if user.is_superuser:
        return True
    ids = schools_where(user, Role.TRUST_ADMIN)
    return bool(ids) and trust.schools.filter(pk__in=ids).exists()


def trust_admin_trust_ids(user) -> list[int]:
    """The trusts this user administers (a trust admin at one of its schools)."""
    if user.is_superuser:
        return list(Trust.objects.values_list("pk", flat=True))
    ids = schools_where(user, Role.TRUST_ADMIN)
    return list(School.objects.filter(pk__in=ids).values_list("trust_id", flat=True).distinct()) if ids else []


def may_manage_memberships(user, school) -> bool:
    """The trust admins of the school's trust (and superusers) grant and end roles there."""
    return user.is_authenticated and is_trust_admin(user, school.trust)


def may_manage_board_screens(user, school) -> bool:
    """Trust admins register and switch off the reception screens of their schools."""
    return works_at(user, school) and (user.is_superuser or has_role(user, Role.TRUST_ADMIN, school=school))


def may_manage_staff_profiles(user, school) -> bool:
    """Trust admins keep the contact details and vehicles of the staff of their schools."""
    return works_at(user, school) and (user.is_superuser or has_role(user, Role.TRUST_ADMIN, school=school))


def may_manage_settings(user, *, school=None, trust=None) -> bool:
    """Trust admins keep the settings of their schools, and of their trust (its default policy, sign-in and
    identity providers). A new trust is the superuser's."""
    if user.is_superuser:
        return True
    if not user.is_authenticated:
        return False
    if school is not None:
        return has_role(user, Role.TRUST_ADMIN, school=school)
    return trust is not None and trust.pk is not None and is_trust_admin(user, trust)


def may_see_figures(user, school=None) -> bool:
    """The governors' and trust figures: the DSLs and the Principal for their schools, trust admins for the trust."""
    return user.is_superuser or has_role(user, *FIGURES_ROLES, school=school)


def may_keep_safeguarding_records(user, school) -> bool:
    """DSLs and the Principal of the school: training, concerns and their outcomes."""
    return works_at(user, school) and (user.is_superuser or is_senior(user, school))


def may_record_training(user, school) -> bool:
    """DSLs and the Principal of the school, and its trust admins (who bring training dates in with the staff list)."""
    return may_keep_safeguarding_records(user, school) or (
        works_at(user, school) and has_role(user, Role.TRUST_ADMIN, school=school)
    )


def may_manage_pupil_roll(user, school) -> bool:
    """Who joins and leaves the school's roll: its DSLs and Principal, and the trust admins (who run the imports)."""
    if not (user.is_authenticated and works_at(user, school)):
        return False
    return user.is_superuser or is_senior(user, school) or has_role(user, Role.TRUST_ADMIN, school=school)


def user_may_override(user, roles_allowed: list[str], school=None) -> str | None:
    """The role (of those the policy names) under which this user may override at `school`, or None."""
    if user.is_superuser and roles_allowed:
        return roles_allowed[0]
    mine = user_roles(user, school)
    return next((role for role in roles_allowed if role in mine), None)
