"""Who may see a visit: the one helper every visit view calls, and the grants the services make.

Need to know (DESIGN.md): a visit's details are visible to its pair, its requester, and the school's DSLs
and Principal. The pair and requester hold a per-visit guardian permission that the services grant and
revoke as the pair changes; DSLs and the Principal see every visit at the schools where they hold that
role (core.roles.schools_where).
"""

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.http import Http404
from guardian.shortcuts import assign_perm, remove_perm

from core.roles import SENIOR, schools_where

from .lifecycle import OPEN_FOR_FAMILY
from .models import Visit, VisitRole, VisitUserObjectPermission

VIEW_DETAILS = "view_visit_details"


def grant_visit_access(visit: Visit, user) -> None:
    assign_perm(f"visits.{VIEW_DETAILS}", user, visit)


def revoke_visit_access(visit: Visit, user) -> None:
    remove_perm(f"visits.{VIEW_DETAILS}", user, visit)


def sync_visit_access(visit: Visit) -> None:
    """Grant the requester and the staff on the visit; take the grant from anyone no longer on it."""
    should_see = {visit.requested_by_id} | {
        uid for uid in visit.people.values_list("user_id", flat=True) if uid is not None
    }
    current = set(
        VisitUserObjectPermission.objects.filter(content_object=visit, permission__codename=VIEW_DETAILS).values_list(
            "user_id", flat=True
        )
    )
    users = get_user_model().objects.in_bulk(should_see ^ current)
    for uid in should_see - current:
        grant_visit_access(visit, users[uid])
    for uid in current - should_see:
        revoke_visit_access(visit, users[uid])


def visible_visits(user, queryset=None):
    """The visits whose details this user may see."""
    qs = (queryset if queryset is not None else Visit.objects.all()).for_user(user)
    if user.is_superuser:
        return qs
    granted = VisitUserObjectPermission.objects.filter(user=user, permission__codename=VIEW_DETAILS)
    return qs.filter(Q(school_id__in=schools_where(user, *SENIOR)) | Q(pk__in=granted.values("content_object_id")))


def can_view_visit(user, visit: Visit) -> bool:
    return visible_visits(user, Visit.objects.filter(pk=visit.pk)).exists()


def get_visit_for(user, pk, queryset=None) -> Visit:
    """The visit if this user may see it; 404 otherwise (never 403, which would confirm it exists)."""
    try:
        return visible_visits(user, queryset).get(pk=pk)
    except (Visit.DoesNotExist, ValueError):
        raise Http404("No such visit.") from None


def open_visit_household_ids(user):
    """The households of the open visits (OPEN_FOR_FAMILY) this user requested or is the lead or second visitor
    on: the families they need to know about now (families/access.py, which registers this at start-up)."""
    if not user.is_authenticated:
        return Visit.objects.none().values("household_id")
    on_it = Q(requested_by=user) | Q(people__user=user, people__role__in=[VisitRole.LEAD, VisitRole.SECOND])
    return Visit.objects.filter(on_it, status__in=OPEN_FOR_FAMILY).values("household_id")
