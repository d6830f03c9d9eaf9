"""Read queries for the after-visit work, for dashboards and lists (issue 6)."""

import datetime

from django.db.models import QuerySet

from core.scoping import school_ids_for

from .access import visible_visits
from .lifecycle import ON_THE_DAY
from .models import Visit, VisitAlert

# --- The DSL and Principal dashboard (issue 7) -------------------------------------------------------------------


def local_day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The UTC instants where this Europe/London day starts and ends (23 or 25 hours across a clock change)."""
    from django.utils import timezone

    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    end = timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min))
    return start, end


def todays_visits(user, today: datetime.date) -> QuerySet[Visit]:
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


def out_now(user) -> QuerySet[Visit]:
    """Who is away from school now (AWAY), due back soonest first."""
    return (
        visible_visits(user)
        .away()
        .select_related("household")
        .prefetch_related("people__user")
        .order_by("expected_return", "pk")
    )


def open_alerts_for(user) -> list:
    """Live alerts (not yet acknowledged) at the user's schools, newest first, for the dashboard."""
    return list(
        VisitAlert.objects.filter(visit__school_id__in=school_ids_for(user), acknowledged_at__isnull=True)
        .select_related("visit__household")
        .order_by("-raised_at")[:50]
    )
