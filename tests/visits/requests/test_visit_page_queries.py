"""The visit's page reads in the same number of queries however long its timeline, check-ins and visitors."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import make_authorised_visit, sign_in
from visits.field.services import visit_check_in, visit_extend
from visits.models import CheckInKind


def _page_queries(client, visit) -> tuple[int, str]:
    client.get(visit.get_absolute_url())  # the first read fills the per-user caches a day of use keeps warm
    with CaptureQueriesContext(connection) as queries:
        page = client.get(visit.get_absolute_url()).content.decode()
    return len(queries), page


def _walked(cast, time_machine, *, hour: int, extensions: int):
    time_machine.move_to(datetime.datetime(2027, 3, 10, hour, 0, tzinfo=datetime.UTC), tick=False)
    start = timezone.now() - datetime.timedelta(minutes=30)
    visit = make_authorised_visit(lead=cast.staff, second=cast.staff2, authoriser=cast.dsl, start=start)
    visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.CHECKED_OUT, now=start)
    visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.ARRIVED, now=start + datetime.timedelta(minutes=5))
    for n in range(extensions):
        visit_extend(visit=visit, actor=cast.staff, minutes=5, now=start + datetime.timedelta(minutes=10 + n))
    visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.LEFT, now=start + datetime.timedelta(minutes=20))
    return visit


def test_the_visit_page_costs_the_same_queries_however_long_its_timeline(client, cast, time_machine):
    short_visit = _walked(cast, time_machine, hour=10, extensions=0)
    long_visit = _walked(cast, time_machine, hour=13, extensions=4)
    sign_in(client, cast.staff)
    short, _ = _page_queries(client, short_visit)
    long, page = _page_queries(client, long_visit)
    assert page.count("Running late: extended") == 4
    assert long == short
