"""Pairs of the school out on a visit at once, for the alert tests that need several."""

from core.roles import Role
from tests.factories import ChildFactory, make_authorised_visit, make_member
from tests.visits.alerts.clock import START, at
from visits.field.services import visit_check_in
from visits.models import CheckInKind


def pairs_out_at_ten(cast, count):
    """`count` pairs of the school checked out at 10:00 (due back 10:50, overdue at 10:55); the office has an
    email."""
    cast.office.email = "office@example.org"
    cast.office.save()
    visits = []
    for n in range(count):
        lead, second = (make_member(f"pair{n}-{i}", cast.school, Role.STAFF) for i in (1, 2))
        with at(9, 0):
            visit = make_authorised_visit(
                lead=lead,
                second=second,
                authoriser=cast.dsl,
                start=START,
                child=ChildFactory(household__school=cast.school),
            )
        with at(10, 0):
            visit_check_in(visit=visit, actor=lead, kind=CheckInKind.CHECKED_OUT)
        visits.append(visit)
    return visits
