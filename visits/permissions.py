"""Rules about one visit, as named predicates: each takes the user first, then the visit.

The views ask these to decide what to show, and the services ask them again before they change anything, so
a page and the verb behind it never disagree. Role-only rules are in core/permissions.py.
"""

from django.utils import timezone

from core.permissions import FIELD_ROLES, may_request_visits, may_use_board
from core.roles import Role, has_role, is_senior
from core.scoping import school_ids_for

from .access import can_view_visit
from .lifecycle import BEFORE_DEPARTURE, SUBMITTABLE
from .models import VisitRole


def _at_school(user, visit) -> bool:
    return user.is_authenticated and visit.school_id in school_ids_for(user)


def _on_visit(user, visit) -> bool:
    return any(person.user_id == user.pk for person in visit.people.all())


def _lead_id(visit):
    return next((p.user_id for p in visit.people.all() if p.role == VisitRole.LEAD), None)


def may_view_visit(user, visit) -> bool:
    """Need to know: the pair, the requester, and the school's DSLs and Principal (visits/access.py)."""
    return can_view_visit(user, visit)


def may_create_visit(user, school) -> bool:
    return may_request_visits(user, school=school)


def may_edit(user, visit) -> bool:
    return user.pk == visit.requested_by_id and visit.status in BEFORE_DEPARTURE


def may_submit(user, visit) -> bool:
    return user.pk == visit.requested_by_id and visit.status in SUBMITTABLE


def may_cancel(user, visit) -> bool:
    """The requester, either visitor, or a DSL or the Principal; only before anyone has set off."""
    if visit.status not in BEFORE_DEPARTURE:
        return False
    return user.pk == visit.requested_by_id or is_senior(user, visit.school_id) or _on_visit(user, visit)


def may_see_safe_word(user, visit, *, now=None) -> bool:
    """The pair and the school's DSLs and Principal; the office only while the visit is out today (checked out
    on today's London date and not yet back). Nobody else (not the requester alone).

    The office needs the word to recognise it on a call while the pair are away. A visit planned for today does
    not count: before check-out there is no call to answer, and the board shows the office when they set off.
    """
    if not _at_school(user, visit):
        return False
    if user.is_superuser or is_senior(user, visit.school_id) or _on_visit(user, visit):
        return True
    return has_role(user, Role.OFFICE, school=visit.school_id) and visit.is_out_on(
        timezone.localdate(now or timezone.now())
    )


def may_prepare(user, visit) -> bool:
    """The pair, a DSL or the Principal: they agree the safe word and do what the checklist asks beforehand."""
    if not _at_school(user, visit):
        return False
    return user.is_superuser or is_senior(user, visit.school_id) or _on_visit(user, visit)


def is_pair(user, visit) -> bool:
    """The lead or the second visitor (an external practitioner has no account)."""
    return any(p.user_id == user.pk and p.role in (VisitRole.LEAD, VisitRole.SECOND) for p in visit.people.all())


def may_check_in(user, visit) -> bool:
    """The pair from their phones, or the office of the visit's school on their behalf."""
    return _at_school(user, visit) and (is_pair(user, visit) or has_role(user, Role.OFFICE, school=visit.school_id))


def may_act_on_alerts(user, visit) -> bool:
    """The office, the DSLs and the Principal of the visit's school: the people the board is for."""
    return _at_school(user, visit) and may_use_board(user, school=visit.school_id)


def may_confirm_safe(user, visit) -> bool:
    """Only a DSL or the Principal of the visit's school closes a duress alert: a named senior person who has
    found out for themselves that the pair are safe (the office records the police call; a check-in never counts)."""
    return _at_school(user, visit) and is_senior(user, visit.school_id)


def may_write_report(user, visit) -> bool:
    return user.pk == _lead_id(visit)


def may_debrief(user, visit) -> bool:
    return _at_school(user, visit) and (is_senior(user, visit.school_id) or user.pk == _lead_id(visit))


def may_sign_off(user, visit) -> bool:
    return _at_school(user, visit) and is_senior(user, visit.school_id)


def may_send_letters(user, visit) -> bool:
    return _at_school(user, visit) and (is_senior(user, visit.school_id) or user.pk == _lead_id(visit))


def may_record_incident(user, visit) -> bool:
    return has_role(user, *FIELD_ROLES, school=visit.school_id) and may_view_visit(user, visit)


def may_see_locations(user, visit) -> bool:
    """Where a phone was at a check-in (sent only with its visitor's consent): the DSLs and the Principal of the
    visit's school. The office sees it in the police prompt only; the pair's own pages and the parent copy never."""
    return _at_school(user, visit) and is_senior(user, visit.school_id)
