"""A child who has left the roll keeps every record but cannot be chosen for a new visit."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from core.models import AuditEntry
from families.models import Child
from families.services import child_mark_left, child_return_to_roll
from tests.factories import ChildFactory, HouseholdFactory, make_visit
from visits.requests.selectors import child_options


@pytest.fixture
def child(cast):
    return ChildFactory(school=cast.school, household=HouseholdFactory(school=cast.school), first_name="Nell")


def test_a_dsl_marks_a_leaver_and_the_audit_says_when(cast, child):
    today = timezone.localdate()
    child_mark_left(child=child, actor=cast.dsl, left_on=today, reason="Moved to another school")
    child.refresh_from_db()
    assert child.left_on == today
    assert not Child.objects.filter(pk=child.pk).on_roll().exists()
    entry = AuditEntry.objects.filter(action="child.left", object_id=str(child.pk)).get()
    assert entry.actor == cast.dsl
    assert entry.details["left_on"] == today.isoformat()


def test_a_leaver_is_on_the_roll_until_the_day_they_leave(cast, child):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    child_mark_left(child=child, actor=cast.trust_admin, left_on=tomorrow)
    assert Child.objects.filter(pk=child.pk).on_roll().exists()
    assert not Child.objects.filter(pk=child.pk).on_roll(tomorrow).exists()


def test_visiting_staff_and_the_office_cannot_change_the_roll(cast, child):
    for person in (cast.staff, cast.office, cast.other_dsl):
        with pytest.raises(PermissionDenied):
            child_mark_left(child=child, actor=person, left_on=timezone.localdate())
    child.refresh_from_db()
    assert child.left_on is None


def test_a_leaver_is_not_offered_or_accepted_for_a_new_visit(cast, child):
    child_mark_left(child=child, actor=cast.dsl, left_on=timezone.localdate())
    options, _ = child_options(user=cast.staff, query="Nell", selected_ids=[])
    assert child not in options
    with pytest.raises(ValidationError) as error:
        make_visit(lead=cast.staff, second=cast.staff2, child=child)
    assert "left the school" in str(error.value)


def test_back_on_the_roll(cast, child):
    child_mark_left(child=child, actor=cast.dsl, left_on=timezone.localdate())
    child_return_to_roll(child=child, actor=cast.dsl)
    child.refresh_from_db()
    assert child.left_on is None
    options, _ = child_options(user=cast.staff, query="Nell", selected_ids=[])
    assert child in options


def test_the_child_page_says_when_they_left(cast, child, client):
    child_mark_left(child=child, actor=cast.dsl, left_on=datetime.date(2026, 7, 22))
    client.force_login(cast.dsl)
    page = client.get(f"/visits/children/{child.pk}/")
    assert page.status_code == 200
    assert "Left the school on 22 July 2026" in page.content.decode()
