"""The board lists today's visits in the order they leave, and none of another day's that are not out."""

import datetime

import time_machine
from django.test import Client

from core.roles import Role
from tests.factories import ChildFactory, make_authorised_visit, make_member

UTC = datetime.UTC


def test_todays_visits_in_order_of_leaving_and_not_tomorrows(cast):
    visits = {}
    with time_machine.travel(datetime.datetime(2026, 11, 23, 8, 0, tzinfo=UTC), tick=False):
        # Booked latest first, so the order of booking is not the order of leaving.
        for n, start in enumerate([(24, 9), (23, 14), (23, 11)]):
            lead, second = (make_member(f"days{n}-{i}", cast.school, Role.STAFF) for i in (1, 2))
            visits[start] = make_authorised_visit(
                lead=lead,
                second=second,
                authoriser=cast.dsl,
                start=datetime.datetime(2026, 11, start[0], start[1], 0, tzinfo=UTC),
                child=ChildFactory(household__school=cast.school),
            )
        office = Client()
        office.force_login(cast.office)
        html = office.get("/board/live/").content.decode()
    assert f'id="visit-{visits[(24, 9)].pk}"' not in html
    assert html.index(f'id="visit-{visits[(23, 11)].pk}"') < html.index(f'id="visit-{visits[(23, 14)].pk}"')
