"""Reads for the read-back pages: the dashboard's panels, a child's chronology, the visit search, the figures'
schools."""

import datetime

from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce

from core.dates import local_day_bounds
from core.models import EffectivePolicy, School
from core.permissions import school_ids_where, trust_admin_trust_ids
from core.roles import SENIOR, schools_where
from core.selectors import contact_gaps
from safeguarding.selectors import visible_concerns

from ..access import visible_visits
from ..after.selectors import action_rows
from ..lifecycle import ON_THE_DAY
from ..models import AlertKind, Visit, VisitAlert


def todays_visits(*, user, today: datetime.date) -> QuerySet[Visit]:
    """Visits starting today (school time) that were authorised or are under way, earliest first."""
    start, end = local_day_bounds(today)
    return (
        visible_visits(user)
        .filter(scheduled_start__gte=start, scheduled_start__lt=end)
        .filter(status__in=ON_THE_DAY)
        .select_related("household")
        .prefetch_related("people__user")
        .order_by("scheduled_start", "pk")
    )


def out_now(*, user) -> QuerySet[Visit]:
    """Who is away from school now (AWAY), due back soonest first."""
    return (
        visible_visits(user)
        .away()
        .select_related("household")
        .prefetch_related("people__user")
        .order_by(Coalesce("due_back_at", "expected_return"), "pk")
    )


def open_alerts_for(*, user) -> list:
    """Live alerts (not yet acknowledged) at the user's schools, newest first, for the dashboard."""
    return list(
        VisitAlert.objects.filter(visit__school_id__in=school_ids_where(user, *SENIOR), acknowledged_at__isnull=True)
        .select_related("visit__household")
        .order_by("-raised_at")[:50]
    )


def open_duress_for(*, user) -> list:
    """Duress alerts nobody has yet confirmed safe at the user's schools, oldest first: the top of the dashboard."""
    return list(
        VisitAlert.objects.filter(
            visit__school_id__in=school_ids_where(user, *SENIOR), kind=AlertKind.DURESS, acknowledged_at__isnull=True
        )
        .select_related("visit__household")
        .prefetch_related("visit__people__user")
        .order_by("raised_at")
    )


def contact_gaps_for(*, schools, policies=None) -> list[str]:
    """For each school, the escalation steps whose people nobody could reach (core.selectors.contact_gaps)."""
    policies = policies or EffectivePolicy.for_schools(schools)
    return [gap for school in schools for gap in contact_gaps(school=school, policy=policies[school.pk])]


def chronology(*, user, child) -> list[dict]:
    """A child's visits (those the user may see), their forms and actions, and (for DSLs and the Principal) their
    concerns, oldest first."""
    visits = list(
        visible_visits(user, child.visits.all()).select_related("household", "report").prefetch_related("people__user")
    )
    entries = []
    for visit in visits:
        entries.append({"at": visit.scheduled_start, "kind": "Visit", "visit": visit})
        report = getattr(visit, "report", None)
        if report and report.submitted_at:
            entries.append({"at": report.submitted_at, "kind": "Home Visit Form", "visit": visit, "report": report})
    actions = action_rows().filter(child=child, concern__isnull=True, visit__in=[v.pk for v in visits])
    for action in actions:
        entries.append({"at": action.created_at, "kind": "Action", "action": action})
    for concern in visible_concerns(user=user).filter(child=child).select_related("raised_by"):
        entries.append({"at": concern.raised_at, "kind": "Concern", "concern": concern})
    return sorted(entries, key=lambda e: e["at"])


def visit_search_queryset(*, user) -> QuerySet[Visit]:
    """Every visit the user may see, with what the search list and its CSV show; the filters narrow it."""
    return (
        visible_visits(user)
        .select_related("household", "school", "report")
        .prefetch_related("people__user", "children")
        .order_by("-scheduled_start", "-pk")
    )


def figure_schools(*, user) -> list[School]:
    """Trust admins see every school of their trusts; DSLs and the Principal their own schools."""
    if user.is_superuser:
        return list(School.objects.order_by("name"))
    trusts = trust_admin_trust_ids(user)
    return list(School.objects.filter(Q(trust_id__in=trusts) | Q(pk__in=schools_where(user, *SENIOR))).order_by("name"))
