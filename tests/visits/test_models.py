"""Database constraints and model validation: the rules hold even when code forgets them."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests.factories import ChildFactory, make_visit
from tests.helpers import fresh_case
from visits.models import Visit, VisitPerson, VisitRole, VisitStatus
from visits.requests.services import Visitor


def _raises_integrity(fn):
    with pytest.raises(IntegrityError), transaction.atomic():
        fn()


def test_visit_status_must_be_a_known_state(cast):
    visit = make_visit(lead=cast.staff, second=cast.staff2)
    _raises_integrity(lambda: Visit.objects.filter(pk=visit.pk).update(status="lost"))


def test_visit_purpose_must_be_a_known_purpose(cast):
    visit = make_visit(lead=cast.staff, second=cast.staff2)
    _raises_integrity(lambda: Visit.objects.filter(pk=visit.pk).update(purpose="sightseeing"))


def test_visit_duration_must_be_positive(cast):
    visit = make_visit(lead=cast.staff, second=cast.staff2)
    _raises_integrity(lambda: Visit.objects.filter(pk=visit.pk).update(expected_duration_minutes=0))


def test_visit_return_must_be_after_start(cast):
    visit = make_visit(lead=cast.staff, second=cast.staff2)
    _raises_integrity(lambda: Visit.objects.filter(pk=visit.pk).update(expected_return=visit.scheduled_start))


def test_unannounced_visit_needs_a_reason_in_the_database(cast):
    visit = make_visit(lead=cast.staff, second=cast.staff2)
    _raises_integrity(lambda: Visit.objects.filter(pk=visit.pk).update(announced=False, unannounced_reason=""))


def test_a_visit_has_at_most_one_lead(cast):
    visit = make_visit(lead=cast.staff, second=cast.staff2)
    _raises_integrity(lambda: VisitPerson.objects.create(visit=visit, role=VisitRole.LEAD, user=cast.outsider))


def test_the_same_person_is_not_on_a_visit_twice(cast):
    visit = make_visit(lead=cast.staff, second=cast.staff2)
    _raises_integrity(lambda: VisitPerson.objects.create(visit=visit, role=VisitRole.SECOND, user=cast.staff))


def test_an_external_practitioner_needs_a_name_and_organisation(cast):
    visit = make_visit(lead=cast.staff, second=cast.staff2)
    _raises_integrity(lambda: VisitPerson.objects.create(visit=visit, role=VisitRole.EXTERNAL, external_name="Dr Vale"))


def test_service_refuses_a_visit_without_exactly_one_lead(cast):
    with pytest.raises(ValidationError, match="exactly one lead"):
        make_visit(lead=cast.staff, people=[Visitor(role=VisitRole.SECOND, user=cast.staff2)])
    assert Visit.objects.count() == 0


def test_service_reports_bad_times_on_the_field_and_saves_nothing(cast, subtests):
    for minutes, return_after, field in [
        (-5, 30, "expected_duration_minutes"),
        (30, 0, "expected_return"),
        (30, 10, "expected_return"),
    ]:
        with subtests.test(minutes=minutes, return_after=return_after, field=field), fresh_case(None):
            start = timezone.now() + datetime.timedelta(days=1)
            with pytest.raises(ValidationError) as error:
                make_visit(
                    lead=cast.staff,
                    second=cast.staff2,
                    start=start,
                    minutes=minutes,
                    expected_return=start + datetime.timedelta(minutes=return_after),
                )
            assert field in error.value.message_dict
            assert Visit.objects.count() == 0


def test_service_refuses_a_child_from_another_school(cast):
    foreign_child = ChildFactory(household__school=cast.other_school)
    home_child = ChildFactory(household__school=cast.school)
    with pytest.raises(ValidationError, match="not on this school's roll"):
        make_visit(lead=cast.staff, second=cast.staff2, child=home_child, children=[home_child, foreign_child])
    assert Visit.objects.count() == 0


def test_new_visit_starts_as_a_draft_with_its_timeline(cast):
    visit = make_visit(lead=cast.staff, second=cast.staff2)
    assert visit.status == VisitStatus.DRAFT
    assert [t.to_status for t in visit.transitions.all()] == [VisitStatus.DRAFT]
