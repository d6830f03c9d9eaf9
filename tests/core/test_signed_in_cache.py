"""The signed-in user, their roles and schools come from the cache (core.auth); every change to them
must take effect on the very next request, as it did when each request read the database."""

import datetime

import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse

from core import auth
from core.roles import Role
from tests.factories import HouseholdFactory
from tests.helpers import fresh_case


def test_taking_away_a_role_takes_effect_at_once(client, cast):
    client.force_login(cast.office)
    assert client.get("/board/").status_code == 200
    cast.office.groups.remove(Group.objects.get(name=Role.OFFICE))
    assert client.get("/board/").status_code == 403


def test_removing_someone_from_a_group_by_the_group_takes_effect_at_once(client, cast):
    client.force_login(cast.office)
    assert client.get("/board/").status_code == 200
    Group.objects.get(name=Role.OFFICE).user_set.clear()
    assert client.get("/board/").status_code == 403


def test_granting_a_role_takes_effect_at_once(client, cast):
    client.force_login(cast.staff)
    assert client.get("/board/").status_code == 403
    Group.objects.get(name=Role.OFFICE).user_set.add(cast.staff)
    assert client.get("/board/").status_code == 200


def test_moving_someone_off_a_school_takes_effect_at_once(client, cast, subtests):
    for how in ["profile", "school"]:
        with subtests.test(how=how), fresh_case(client):
            household = HouseholdFactory(school=cast.school)
            client.force_login(cast.dsl)
            url = f"/visits/households/{household.pk}/"
            before = client.get(url).status_code
            if how == "profile":
                cast.dsl.profile.schools.set([cast.other_school])
            else:
                cast.school.staff.remove(cast.dsl.profile)
            assert before == 200 and client.get(url).status_code == 404


def test_a_deactivated_account_is_signed_out_at_once(client, cast):
    client.force_login(cast.office)
    assert client.get("/board/").status_code == 200
    cast.office.is_active = False
    cast.office.save()
    response = client.get("/board/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_a_password_change_signs_out_other_sessions_at_once(client, cast):
    client.force_login(cast.office)
    assert client.get("/board/").status_code == 200
    cast.office.set_password("a-new-and-long-password-123")
    cast.office.save()
    assert client.get("/board/").status_code == 302


def test_a_new_name_shows_at_once(client, cast):
    client.force_login(cast.office)
    client.get("/board/")
    cast.office.first_name = "Renamed"
    cast.office.save()
    assert "Renamed" in client.get("/board/").content.decode()


def test_logging_out_ends_the_cached_session(client, cast):
    client.force_login(cast.office)
    assert client.get("/board/").status_code == 200
    client.post(reverse("logout"))
    assert client.get("/board/").status_code == 302


def test_another_process_sees_a_change_once_the_second_turns(client, cast):
    """Each process remembers the user it read until the clock's second turns; a change made by another process
    (simulated: this process's memory is put back as it was before the change) shows within that second."""

    client.force_login(cast.office)
    with time_machine.travel(datetime.datetime(2026, 11, 23, 10, 0, 0, 100_000, tzinfo=datetime.UTC), tick=False):
        assert client.get("/board/").status_code == 200
        remembered = dict(auth._recent_users)
        cast.office.groups.remove(Group.objects.get(name=Role.OFFICE))
        auth._recent_users.update(remembered)
        assert client.get("/board/").status_code == 200
    with time_machine.travel(datetime.datetime(2026, 11, 23, 10, 0, 1, tzinfo=datetime.UTC), tick=False):
        assert client.get("/board/").status_code == 403
