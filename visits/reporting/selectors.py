"""Reads for the dashboard's panels: today's visits, who is out now, open alerts."""

import datetime

from django.db.models import QuerySet

from core.dates import local_day_bounds
from core.scoping import school_ids_for

from ..access import visible_visits
from ..lifecycle import ON_THE_DAY
from ..models import Visit, VisitAlert


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
        .order_by("expected_return", "pk")
    )


def open_alerts_for(*, user) -> list:
    """Live alerts (not yet acknowledged) at the user's schools, newest first, for the dashboard."""
    return list(
        VisitAlert.objects.filter(visit__school_id__in=school_ids_for(user), acknowledged_at__isnull=True)
        .select_related("visit__household")
        .order_by("-raised_at")[:50]
    )
