"""Households and children: the database and the models keep them consistent with their school."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from families.models import Child
from tests.factories import HouseholdFactory


def _raises_integrity(fn):
    with pytest.raises(IntegrityError), transaction.atomic():
        fn()


def test_child_must_live_in_a_household_of_its_own_school(cast):
    household = HouseholdFactory(school=cast.other_school)
    child = Child(
        school=cast.school,
        household=household,
        first_name="Ivo",
        last_name="Marsh",
        date_of_birth=datetime.date(2016, 1, 1),
        year_group="4",
    )
    with pytest.raises(ValidationError) as error:
        child.full_clean()
    assert "household" in error.value.message_dict


def test_postcodes_are_validated_and_normalised(cast):
    household = HouseholdFactory(school=cast.school, postcode="eb45xy")
    household.refresh_from_db()
    assert household.postcode == "EB4 5XY"
    household.postcode = "NOT A POSTCODE"
    with pytest.raises(ValidationError) as error:
        household.full_clean()
    assert "postcode" in error.value.message_dict
