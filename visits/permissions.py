"""Rules about one visit, as named predicates: each takes the user first, then the visit.

Role-only rules (is this person senior, may they see family records) are in core/permissions.py.
"""

from core.roles import Role, has_role, is_senior
from core.scoping import school_ids_for


def may_see_safe_word(user, visit) -> bool:
    """The pair, the office and the school's DSLs and Principal; nobody else (not the requester alone)."""
    if not user.is_authenticated or visit.school_id not in school_ids_for(user):
        return False
    if user.is_superuser or has_role(user, Role.OFFICE, Role.DSL, Role.PRINCIPAL):
        return True
    return any(person.user_id == user.pk for person in visit.people.all())


def may_set_safe_word(user, visit) -> bool:
    if not user.is_authenticated or visit.school_id not in school_ids_for(user):
        return False
    return user.is_superuser or is_senior(user) or any(p.user_id == user.pk for p in visit.people.all())
