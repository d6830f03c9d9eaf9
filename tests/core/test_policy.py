"""Each school's policy is data: a trust default that a school may override, value by value."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from core.models import EscalationAction, EscalationStep, HomeVisitPolicy
from tests.factories import SchoolFactory, TrustFactory


def test_a_school_without_overrides_works_to_the_trust_default(cast):
    policy = cast.school.policy()
    assert policy.max_visit_minutes == 30
    assert policy.wait_if_late_minutes == 10
    assert policy.latest_start == datetime.time(16, 30)
    assert [(s.action, s.delay_minutes) for s in policy.escalation_steps] == [
        (EscalationAction.RING_LEAD, 0),
        (EscalationAction.ALERT_SENIOR, 15),
        (EscalationAction.POLICE_PROMPT, 30),
    ]


def test_a_school_overrides_only_the_values_it_sets(cast):
    HomeVisitPolicy.objects.create(
        trust=cast.trust,
        school=cast.school,
        max_visit_minutes=45,
        latest_start=datetime.time(15, 0),
        authorisers="principal_only",
    )
    policy = cast.school.policy()
    assert (policy.max_visit_minutes, policy.latest_start, policy.authorisers) == (
        45,
        datetime.time(15, 0),
        "principal_only",
    )
    assert policy.wait_if_late_minutes == 10  # inherited
    assert cast.other_school.policy().max_visit_minutes == 30  # the other school is untouched


def test_a_school_may_have_its_own_escalation_chain(cast):
    override = HomeVisitPolicy.objects.create(trust=cast.trust, school=cast.school)
    EscalationStep.objects.create(policy=override, order=0, action=EscalationAction.RING_LEAD, delay_minutes=0)
    EscalationStep.objects.create(policy=override, order=1, action=EscalationAction.POLICE_PROMPT, delay_minutes=10)
    assert [s.delay_minutes for s in cast.school.policy().escalation_steps] == [0, 10]
    assert [s.delay_minutes for s in cast.other_school.policy().escalation_steps] == [0, 15, 30]


def test_changing_the_trust_default_reaches_every_school_that_inherits(cast):
    HomeVisitPolicy.objects.filter(trust=cast.trust, school=None).update(wait_if_late_minutes=5)
    assert cast.school.policy().wait_if_late_minutes == 5
    assert cast.other_school.policy().wait_if_late_minutes == 5


def test_a_school_override_must_belong_to_the_schools_trust(cast):
    stranger = SchoolFactory(trust=TrustFactory(slug="another"))
    override = HomeVisitPolicy(trust=cast.trust, school=stranger, max_visit_minutes=20)
    with pytest.raises(ValidationError) as error:
        override.full_clean()
    assert "school" in error.value.message_dict


def test_latest_start_must_follow_earliest(cast):
    override = HomeVisitPolicy(
        trust=cast.trust, school=cast.school, earliest_start=datetime.time(17, 0), latest_start=datetime.time(9, 0)
    )
    with pytest.raises(ValidationError) as error:
        override.full_clean()
    assert "latest_start" in error.value.message_dict


def test_a_trust_without_a_default_policy_is_reported(db):
    school = SchoolFactory(trust=TrustFactory(slug="bare"))
    with pytest.raises(HomeVisitPolicy.DoesNotExist, match="no trust-wide home-visit policy"):
        school.policy()


def test_policy_is_read_in_bounded_queries(cast, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        cast.school.policy()
