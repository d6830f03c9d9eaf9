"""Read queries for the office board and the day's timetable (selectors): a fixed number of queries per page."""

import datetime
from dataclasses import dataclass

from django.db.models import Prefetch, Q
from django.utils import timezone

from safeguarding.models import School
from safeguarding.selectors import school_ids_for

from .models import AWAY_STATUSES, Visit, VisitAlert, VisitPerson, VisitRole, VisitStatus

# Today's visits the office should see besides those out now: ready to go, or already back.
TODAY_STATUSES = (VisitStatus.AUTHORISED, *AWAY_STATUSES, VisitStatus.RETURNED, VisitStatus.REPORTED,
                  VisitStatus.REVIEWED)


def local_day_bounds(now: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    """Midnight to midnight in the school's zone (Europe/London), across the clock changes."""
    day = timezone.localdate(now)
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    return start, end


def board_visits(user, now: datetime.datetime):
    """Today's visits at the user's schools and any still out from earlier, with the pair and open alerts."""
    start, end = local_day_bounds(now)
    people = VisitPerson.objects.filter(role__in=[VisitRole.LEAD, VisitRole.SECOND]).select_related("user__profile")
    open_alerts = VisitAlert.objects.filter(acknowledged_at__isnull=True).order_by("raised_at")
    return (
        Visit.objects.filter(school_id__in=school_ids_for(user))
        .filter(Q(status__in=AWAY_STATUSES) | Q(scheduled_start__gte=start, scheduled_start__lt=end,
                                                 status__in=TODAY_STATUSES))
        .select_related("household", "school")
        .prefetch_related(Prefetch("people", queryset=people, to_attr="pair"),
                          Prefetch("alerts", queryset=open_alerts, to_attr="open_alerts"))
        .order_by("scheduled_start", "pk")
    )


@dataclass
class BoardRow:
    visit: Visit
    overdue: bool
    overdue_minutes: int
    minutes_left: int | None
    on_site_too_long: bool

    @property
    def state(self) -> str:
        """Words for the row's state: never colour alone."""
        if any(a.kind == "duress" for a in self.visit.open_alerts):
            return "DURESS"
        if self.overdue:
            return "OVERDUE"
        if self.on_site_too_long:
            return "Check on them"
        return self.visit.get_status_display()


def board_rows(visits, now: datetime.datetime) -> list[BoardRow]:
    policies = {}
    rows = []
    for visit in visits:
        if visit.school_id not in policies:
            policies[visit.school_id] = visit.school.policy()
        policy = policies[visit.school_id]
        overdue = visit.is_overdue(policy, now)
        late = int((now - visit.due_back).total_seconds() // 60)
        on_site_at = visit.on_site_too_long_at(policy)
        rows.append(BoardRow(
            visit=visit, overdue=overdue, overdue_minutes=max(late, 0),
            minutes_left=int((visit.due_back - now).total_seconds() // 60) if visit.is_away else None,
            on_site_too_long=bool(on_site_at and now >= on_site_at),
        ))
    return rows


def schools_on_board(user) -> list[School]:
    return list(School.objects.filter(pk__in=school_ids_for(user)))
