"""Need to know for families: who may see a household's or a child's personal data, the one helper every family
page, list, picker and the risk assessments ask (DESIGN.md, "Rules that hold everywhere").

- The school's DSLs and Principal: every household and child of the school.
- Visiting staff: a household, its children (and, through safeguarding, its risk assessments) only while they are
  the requester, the lead or the second visitor of a visit there that is still open: from the first draft until
  the DSL has reviewed the Home Visit Form (visits.lifecycle.OPEN_FOR_FAMILY). A cancelled, declined or refused
  visit, or a reviewed one, opens nothing. Otherwise they ask a DSL.
- A child's key worker: that child's own page (they are the child's named adult in school), not the household's
  address, carers or risk assessments unless they are on a visit there.
- The office (who work from the board) and trust admins: no family records.
- Anyone else, and any other school: a 404, never a 403 that would confirm the record exists.

Which visits are open is known to the visits app, which this app may not import (the import layers); it registers
its query here when it starts (visits/apps.py). With nothing registered, staff see no family: the rule fails closed.
"""

from collections.abc import Callable

from django.db.models import Q, QuerySet
from django.http import Http404

from core.permissions import FIELD_ROLES, may_see_family_records, school_ids_where
from core.roles import SENIOR

from .models import Child, Household

# user -> a queryset of household ids: the households of the open visits the user requested or is on.
_open_visit_households: Callable[[object], QuerySet] | None = None


def register_open_visit_households(query: Callable[[object], QuerySet]) -> None:
    global _open_visit_households
    _open_visit_households = query


def _linked_household_ids(user) -> QuerySet:
    if _open_visit_households is None:
        return Household.objects.none().values("pk")
    return _open_visit_households(user)


def _schools_seeing_every_family(user) -> list[int]:
    """The schools at which this user sees every family: where they are a DSL or the Principal."""
    return school_ids_where(user, *SENIOR)


def _at_family_schools(user, queryset) -> tuple[QuerySet, bool]:
    """The queryset narrowed to the schools where the user sees families at all, and whether they are a DSL or
    the Principal at every one of them: then they see every family there, and which visits they are on (a
    question PostgreSQL answers by reading the visits) need not be asked."""
    schools = school_ids_where(user, *FIELD_ROLES)
    return queryset.filter(school_id__in=schools), set(schools) <= set(_schools_seeing_every_family(user))


def may_see_family(user, obj: Household | Child) -> bool:
    """May this user see this household's (or this child's) personal data? The rules are in the module's doc."""
    if not user.is_authenticated or not may_see_family_records(user, school=obj.school_id):
        return False
    if obj.school_id in _schools_seeing_every_family(user):
        return True
    if isinstance(obj, Child):
        if obj.key_worker_id == user.pk:
            return True
        household_id = obj.household_id
    else:
        household_id = obj.pk
    return Household.objects.filter(pk=household_id, pk__in=_linked_household_ids(user)).exists()


def visible_households(user, queryset=None) -> QuerySet[Household]:
    """The households whose records this user may see (may_see_family, as one filter for lists)."""
    qs = queryset if queryset is not None else Household.objects.all()
    # Only the schools where the user holds a role that sees families at all.
    qs, senior_everywhere = _at_family_schools(user, qs)
    if senior_everywhere:
        return qs
    return qs.filter(Q(school_id__in=_schools_seeing_every_family(user)) | Q(pk__in=_linked_household_ids(user)))


def visible_children(user, queryset=None) -> QuerySet[Child]:
    """The children whose records this user may see (may_see_family, as one filter for lists)."""
    qs = queryset if queryset is not None else Child.objects.all()
    qs, senior_everywhere = _at_family_schools(user, qs)
    if senior_everywhere:
        return qs
    return qs.filter(
        Q(school_id__in=_schools_seeing_every_family(user))
        | Q(household_id__in=_linked_household_ids(user))
        | Q(key_worker=user)
    )


def get_household_for(user, pk, queryset=None) -> Household:
    """The household if this user may see it; a 404 otherwise."""
    try:
        return visible_households(user, queryset).get(pk=pk)
    except (Household.DoesNotExist, ValueError):
        raise Http404("No such household, or it is not yours to see: ask your DSL.") from None


def get_child_for(user, pk, queryset=None) -> Child:
    """The child if this user may see their record; a 404 otherwise."""
    try:
        return visible_children(user, queryset).get(pk=pk)
    except (Child.DoesNotExist, ValueError):
        raise Http404("No such child, or their record is not yours to see: ask your DSL.") from None


def households_seen_among(user, household_ids) -> set[int]:
    """Which of these households this user may see: one query for a whole list (a row shows the address only
    for these)."""
    wanted = Household.objects.filter(pk__in=set(household_ids))
    return set(visible_households(user, wanted).values_list("pk", flat=True))
