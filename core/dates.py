"""Dates in the school's time zone (Europe/London), stored and compared in UTC."""

import datetime

from django.utils import timezone


def local_day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The UTC instants where this Europe/London day starts and ends (23 or 25 hours across a clock change)."""
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    end = timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min))
    return start, end


def add_years(moment, years: int):
    """The same day `years` later (or earlier, if negative); 29 February becomes 28 February in a common year."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)
