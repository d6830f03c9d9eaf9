"""Roles belong to a person at a school, from one day to another (core.models.Membership)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.memberships import membership_end, membership_grant
from core.models import AuditEntry, Membership
from core.permissions import may_see_figures, may_use_board
from core.roles import Role, has_role, is_senior, schools_where, user_roles
from core.scoping import school_ids_for
from safeguarding.selectors import visible_concerns
from safeguarding.services import concern_raise
from tests.factories import ChildFactory, grant, make_member, make_visit
from visits.board.selectors import board_visits
from visits.reporting.selectors import figure_schools
from visits.requests.policy import decision_refusal, pending_for


def today():
    return timezone.localdate()


@pytest.fixture
def split(cast):
    """A DSL at oakfield who is visiting staff at riverside."""
    person = make_member("splitrole", cast.school, Role.DSL)
    grant(person, cast.other_school, Role.STAFF)
    return person


def _requested_visit(cast, school, lead, second):
    child = ChildFactory(household__school=school)
    visit = make_visit(lead=lead, second=second, child=child)
    from visits.requests.services import visit_submit

    visit_submit(visit=visit, actor=lead)
    visit.refresh_from_db()
    return visit


def test_the_api_answers_at_a_school_or_at_any(split, cast):
    assert user_roles(split, cast.school) == {Role.DSL}
    assert user_roles(split, cast.other_school.pk) == {Role.STAFF}
    assert user_roles(split) == {Role.DSL, Role.STAFF}
    assert is_senior(split, cast.school) and not is_senior(split, cast.other_school)
    assert schools_where(split, Role.DSL, Role.PRINCIPAL) == [cast.school.pk]
    assert sorted(school_ids_for(split)) == sorted([cast.school.pk, cast.other_school.pk])


def test_a_dsl_at_one_school_decides_requests_only_there(split, cast):
    at_oak = _requested_visit(cast, cast.school, cast.staff, cast.staff2)
    river_peer = make_member("riverpeer", cast.other_school, Role.STAFF)
    at_river = _requested_visit(cast, cast.other_school, cast.other_staff, river_peer)
    assert decision_refusal(split, at_oak, approving=True) == ""
    assert "Only the school's DSLs and Principal" in decision_refusal(split, at_river, approving=True)
    assert list(pending_for(user=split)) == [at_oak]


def test_a_dsl_at_one_school_sees_concerns_only_there(split, cast):
    oak_child, river_child = (
        ChildFactory(household__school=cast.school),
        ChildFactory(household__school=cast.other_school),
    )
    at_oak = concern_raise(child=oak_child, raised_by=cast.staff, details="Bruise on the arm.")
    concern_raise(child=river_child, raised_by=cast.other_staff, details="Said nobody was home at night.")
    assert list(visible_concerns(user=split)) == [at_oak]
    # As visiting staff at riverside they may still raise one there.
    concern_raise(child=river_child, raised_by=split, details="Seen alone at the bus stop.")


def test_the_board_and_figures_show_only_the_school_where_the_role_holds(split, cast):
    assert may_use_board(split) and may_use_board(split, school=cast.school)
    assert not may_use_board(split, school=cast.other_school)
    river_peer = make_member("riverpeer2", cast.other_school, Role.STAFF)
    oak_visit = _requested_visit(cast, cast.school, cast.staff, cast.staff2)
    _requested_visit(cast, cast.other_school, cast.other_staff, river_peer)
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    shown = {v.school_id for v in board_visits(user=split, now=tomorrow)}
    assert shown <= {cast.school.pk} and oak_visit.school_id == cast.school.pk
    assert may_see_figures(split, school=cast.school) and not may_see_figures(split, school=cast.other_school)
    assert figure_schools(user=split) == [cast.school]


def test_a_membership_that_ended_or_has_not_started_gives_nothing(cast):
    person = make_member("comings-and-goings", cast.school)
    grant(person, cast.school, Role.DSL, starts_on=datetime.date(2021, 1, 1), ends_on=today() - datetime.timedelta(1))
    grant(person, cast.other_school, Role.DSL, starts_on=today() + datetime.timedelta(days=1))
    assert user_roles(person) == frozenset() and school_ids_for(person) == []
    assert not has_role(person, Role.DSL) and not may_use_board(person)
    assert list(visible_concerns(user=person)) == []


def test_the_trust_admin_grants_and_ends_with_an_audit_row(cast):
    membership = membership_grant(
        actor=cast.trust_admin, user=cast.staff, school=cast.other_school, role=Role.OFFICE, starts_on=today()
    )
    assert AuditEntry.objects.filter(action="membership.grant", object_id=str(membership.pk)).exists()
    ended = membership_end(actor=cast.trust_admin, membership=membership, last_day=today())
    assert ended.ends_on == today()
    assert AuditEntry.objects.filter(action="membership.end", object_id=str(membership.pk)).exists()


def test_ending_one_before_it_starts_withdraws_it(cast):
    later = today() + datetime.timedelta(days=10)
    membership = membership_grant(
        actor=cast.trust_admin, user=cast.staff, school=cast.school, role=Role.OFFICE, starts_on=later
    )
    assert membership_end(actor=cast.trust_admin, membership=membership, last_day=today()) is None
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert AuditEntry.objects.filter(action="membership.withdraw").exists()


def test_only_a_trust_admin_of_the_schools_trust_manages_memberships(cast):
    from tests.factories import SchoolFactory

    elsewhere = SchoolFactory()
    for actor in [cast.dsl, cast.principal, cast.staff]:
        with pytest.raises(PermissionDenied):
            membership_grant(actor=actor, user=cast.staff, school=cast.school, role=Role.DSL, starts_on=today())
    with pytest.raises(PermissionDenied):
        membership_grant(actor=cast.trust_admin, user=cast.staff, school=elsewhere, role=Role.DSL, starts_on=today())
    assert not Membership.objects.filter(user=cast.staff, role=Role.DSL).exists()


def test_overlapping_spans_are_refused_and_nothing_is_saved(cast):
    before = Membership.objects.count()
    with pytest.raises(ValidationError) as error:
        membership_grant(
            actor=cast.trust_admin, user=cast.staff, school=cast.school, role=Role.STAFF, starts_on=today()
        )
    assert "already holds this role" in str(error.value.message_dict["starts_on"])
    with pytest.raises(ValidationError) as error:
        membership_grant(
            actor=cast.trust_admin,
            user=cast.staff,
            school=cast.school,
            role=Role.DSL,
            starts_on=today(),
            ends_on=today() - datetime.timedelta(days=1),
        )
    assert "ends_on" in error.value.message_dict
    assert Membership.objects.count() == before
    assert not AuditEntry.objects.filter(action="membership.grant", school=cast.school, actor=cast.trust_admin).exists()


def test_the_database_refuses_a_second_open_membership(cast):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=cast.staff, school=cast.school, role=Role.STAFF, starts_on=today())
