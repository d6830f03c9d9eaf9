"""Staff profiles and policies: what the database and the models refuse."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.models import HomeVisitPolicy, StaffProfile


def _raises_integrity(fn):
    with pytest.raises(IntegrityError), transaction.atomic():
        fn()


def test_phone_numbers_are_stored_so_they_can_be_dialled(cast):
    profile = cast.staff.profile
    profile.mobile = "020 7946 0456"
    profile.full_clean()
    profile.save()
    profile.refresh_from_db()
    assert profile.mobile.as_e164 == "+442079460456"
    profile.mobile = "12"
    with pytest.raises(ValidationError):
        profile.full_clean()


def test_training_expiry_must_follow_training(cast):
    profile = StaffProfile.objects.get(user=cast.staff)
    profile.training_expires_on = profile.training_completed_on
    with pytest.raises(ValidationError):
        profile.full_clean()
    _raises_integrity(profile.save)


def test_trust_default_policy_must_be_complete(cast):
    incomplete = HomeVisitPolicy(trust=cast.trust, school=None, max_visit_minutes=30)
    with pytest.raises(ValidationError):
        incomplete.full_clean()
