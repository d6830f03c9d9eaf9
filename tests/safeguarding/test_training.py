"""Training records keep the profile's dates in step; DSLs see who is expired or due; the gate uses it."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import AuditEntry, HomeVisitPolicy
from core.roles import Role
from core.selectors import staff_trained_on
from safeguarding.models import TrainingRecord
from safeguarding.services import training_record_add
from tests.factories import make_member, sign_in
from tests.helpers import fresh_case

TODAY = datetime.date(2026, 11, 2)


@pytest.fixture
def today(time_machine):
    time_machine.move_to(datetime.datetime(2026, 11, 2, 12, 0, tzinfo=datetime.UTC))
    return TODAY


def test_record_updates_what_training_valid_on_answers(cast, today):
    profile = cast.staff.profile
    training_record_add(
        profile=profile, completed_on=datetime.date(2026, 10, 1), expires_on=datetime.date(2029, 10, 1), actor=cast.dsl
    )
    profile.refresh_from_db()
    assert profile.training_expires_on == datetime.date(2029, 10, 1)
    assert profile.training_valid_on(datetime.date(2029, 10, 1))
    assert not profile.training_valid_on(datetime.date(2029, 10, 2))
    assert AuditEntry.objects.filter(action="training.add").count() == 1


def test_an_older_record_does_not_shorten_the_latest(cast, today):
    profile = cast.staff.profile
    training_record_add(
        profile=profile, completed_on=datetime.date(2026, 10, 1), expires_on=datetime.date(2029, 10, 1), actor=cast.dsl
    )
    training_record_add(
        profile=profile, completed_on=datetime.date(2023, 1, 1), expires_on=datetime.date(2026, 1, 1), actor=cast.dsl
    )  # entered late, from the archive
    profile.refresh_from_db()
    assert profile.training_expires_on == datetime.date(2029, 10, 1)


def test_bad_dates_are_refused(cast, today, subtests):
    for completed, expires, field in [
        (datetime.date(2026, 10, 1), datetime.date(2026, 9, 1), "expires_on"),
        (datetime.date(2027, 1, 1), datetime.date(2030, 1, 1), "completed_on"),
    ]:
        with subtests.test(completed=completed, expires=expires, field=field), fresh_case(None):
            with pytest.raises(ValidationError) as error:
                training_record_add(
                    profile=cast.staff.profile, completed_on=completed, expires_on=expires, actor=cast.dsl
                )
            assert field in error.value.message_dict
            assert TrainingRecord.objects.count() == 0


# --- The DSL page -----------------------------------------------------------------------------------------

PAGE = {
    "dsl": 200,
    "principal": 200,
    "staff": 403,
    "outsider": 403,
    "office": 403,
    "trust_admin": 403,
    "other_dsl": 200,
    "other_staff": 403,
}


def test_training_pages_by_role(client, cast, subtests):
    for who, status in PAGE.items():
        for url in ["/safeguarding/training/", "/safeguarding/training/add/"]:
            with subtests.test(who=who, status=status, url=url), fresh_case(client):
                client.force_login(getattr(cast, who))
                assert client.get(url).status_code == status


def test_page_lists_expired_and_due_within_the_policy_window(client, cast, today):
    make_member(
        "expired",
        cast.school,
        Role.STAFF,
        training_completed_on=datetime.date(2023, 1, 1),
        training_expires_on=datetime.date(2026, 10, 31),
    )
    make_member(
        "due",
        cast.school,
        Role.STAFF,
        training_completed_on=datetime.date(2023, 1, 1),
        training_expires_on=datetime.date(2026, 12, 2),
    )  # 30 days
    make_member(
        "later",
        cast.school,
        Role.STAFF,
        training_completed_on=datetime.date(2023, 1, 1),
        training_expires_on=datetime.date(2026, 12, 3),
    )  # 31 days
    make_member("never", cast.school, Role.STAFF, training_completed_on=None, training_expires_on=None)
    make_member(
        "elsewhere",
        cast.other_school,
        Role.STAFF,
        training_completed_on=datetime.date(2023, 1, 1),
        training_expires_on=datetime.date(2026, 10, 1),
    )
    client.force_login(cast.dsl)
    page = client.get("/safeguarding/training/").content.decode()
    names = {m.username: str(m.profile) for m in _members("expired", "due", "later", "never", "elsewhere")}
    assert names["expired"] in page and names["due"] in page and names["never"] in page
    assert names["later"] not in page and names["elsewhere"] not in page
    assert "✗ Expired" in page and "Due in 30 days" in page and "No training recorded" in page


def _members(*usernames):
    return get_user_model().objects.filter(username__in=usernames).select_related("profile")


def test_window_comes_from_the_policy(client, cast, today):
    HomeVisitPolicy.objects.filter(trust=cast.trust, school=None).update(training_warning_days=60)
    member = make_member(
        "later",
        cast.school,
        Role.STAFF,
        training_completed_on=datetime.date(2023, 1, 1),
        training_expires_on=datetime.date(2026, 12, 20),
    )
    client.force_login(cast.dsl)
    page = client.get("/safeguarding/training/").content.decode()
    assert str(member.profile) in page and "within 60 days" in page


def test_dsl_records_training_through_the_page(client, cast, today):
    client.force_login(cast.dsl)
    response = client.post(
        "/safeguarding/training/add/",
        {
            "profile": cast.staff.profile.pk,
            "course": "Safer working practice",
            "provider": "LA safeguarding team",
            "completed_on": "2026-10-20",
            "expires_on": "2029-10-20",
        },
    )
    assert response.status_code == 302
    cast.staff.profile.refresh_from_db()
    assert cast.staff.profile.training_expires_on == datetime.date(2029, 10, 20)


def test_page_refuses_staff_of_another_school_and_bad_dates(client, cast, today):
    client.force_login(cast.dsl)
    response = client.post(
        "/safeguarding/training/add/",
        {
            "profile": cast.other_staff.profile.pk,
            "course": "x",
            "completed_on": "2026-10-20",
            "expires_on": "2026-10-01",
        },
    )
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content
    assert b"The expiry must be after the training date." in response.content
    assert TrainingRecord.objects.count() == 0


def test_training_page_query_count_does_not_grow(client, cast, today):
    sign_in(client, cast.dsl)
    make_member("due0", cast.school, Role.STAFF, training_completed_on=None, training_expires_on=None)
    with CaptureQueriesContext(connection) as few:
        client.get("/safeguarding/training/")
    for n in range(1, 8):
        make_member(f"due{n}", cast.school, Role.STAFF, training_completed_on=None, training_expires_on=None)
    with CaptureQueriesContext(connection) as many:
        client.get("/safeguarding/training/")
    assert len(many) == len(few)


def test_only_staff_trained_on_the_day_can_be_chosen(cast, today):
    lapsing = make_member(
        "lapsing",
        cast.school,
        Role.STAFF,
        training_completed_on=datetime.date(2023, 1, 1),
        training_expires_on=datetime.date(2026, 11, 10),
    )
    chosen_on = {
        p.user.username for p in staff_trained_on(day=datetime.date(2026, 11, 10), school_ids=[cast.school.pk])
    }
    later = {p.user.username for p in staff_trained_on(day=datetime.date(2026, 11, 11), school_ids=[cast.school.pk])}
    assert "lapsing" in chosen_on and "lapsing" not in later
    assert "otherstaff" not in chosen_on
    assert lapsing.profile.training_valid_on(datetime.date(2026, 11, 10))
    assert not lapsing.profile.training_valid_on(datetime.date(2026, 11, 11))
