"""The signed-in user, their roles and schools come from the cache (core.auth); every change to them
must take effect on the very next request, as it did when each request read the database."""

import datetime
import os
import subprocess
import sys
import zoneinfo

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from core import auth
from core.memberships import membership_end, membership_grant
from core.models import Membership
from core.roles import Role
from tests.factories import HouseholdFactory, grant

LONDON = zoneinfo.ZoneInfo("Europe/London")


def _yesterday():
    return timezone.localdate() - datetime.timedelta(days=1)


def test_ending_a_role_takes_effect_at_once(client, cast):
    client.force_login(cast.office)
    assert client.get("/board/").status_code == 200
    membership = Membership.objects.get(user=cast.office, role=Role.OFFICE)
    membership_end(actor=cast.trust_admin, membership=membership, last_day=_yesterday())
    assert client.get("/board/").status_code == 403


def test_granting_a_role_takes_effect_at_once(client, cast):
    client.force_login(cast.staff)
    assert client.get("/board/").status_code == 403
    membership_grant(
        actor=cast.trust_admin, user=cast.staff, school=cast.school, role=Role.OFFICE, starts_on=timezone.localdate()
    )
    assert client.get("/board/").status_code == 200


def test_moving_someone_off_a_school_takes_effect_at_once(client, cast):
    household = HouseholdFactory(school=cast.school)
    client.force_login(cast.dsl)
    url = f"/visits/households/{household.pk}/"
    assert client.get(url).status_code == 200
    membership = Membership.objects.get(user=cast.dsl, school=cast.school)
    membership_end(actor=cast.trust_admin, membership=membership, last_day=_yesterday())
    membership_grant(
        actor=cast.trust_admin, user=cast.dsl, school=cast.other_school, role=Role.DSL, starts_on=timezone.localdate()
    )
    assert client.get(url).status_code == 404


def test_a_role_that_ends_today_stops_at_midnight_though_the_user_is_cached(client, cast):
    membership = Membership.objects.get(user=cast.office, role=Role.OFFICE)
    with time_machine.travel(datetime.datetime(2026, 11, 23, 23, 59, 50, tzinfo=LONDON), tick=False):
        membership_end(actor=cast.trust_admin, membership=membership, last_day=datetime.date(2026, 11, 23))
        client.force_login(cast.office)
        assert client.get("/board/").status_code == 200  # the signed-in user is now in the cache
        assert cache.get(auth.user_cache_key(cast.office.pk)) is not None
    with time_machine.travel(datetime.datetime(2026, 11, 24, 0, 0, 1, tzinfo=LONDON), tick=False):
        assert cache.get(auth.user_cache_key(cast.office.pk)) is not None  # still cached: the dates decide
        assert client.get("/board/").status_code == 403


def test_a_role_that_starts_tomorrow_gives_nothing_until_midnight(client, cast):
    with time_machine.travel(datetime.datetime(2026, 11, 23, 23, 59, 50, tzinfo=LONDON), tick=False):
        grant(cast.staff, cast.school, Role.OFFICE, starts_on=datetime.date(2026, 11, 24))
        client.force_login(cast.staff)
        assert client.get("/board/").status_code == 403
    with time_machine.travel(datetime.datetime(2026, 11, 24, 0, 0, 1, tzinfo=LONDON), tick=False):
        assert client.get("/board/").status_code == 200


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


def test_a_cached_user_from_before_the_change_is_not_trusted(client, cast):
    """Another process may have read the old rows just before the change committed and cached them: the entry
    carries the version it was read under, and the change replaced the version, so it is read afresh."""
    client.force_login(cast.office)
    assert client.get("/board/").status_code == 200
    stale = cache.get(auth.user_cache_key(cast.office.pk))
    membership = Membership.objects.get(user=cast.office, role=Role.OFFICE)
    membership_end(actor=cast.trust_admin, membership=membership, last_day=_yesterday())
    cache.set(auth.user_cache_key(cast.office.pk), stale, 30)  # the other process writes back what it read
    assert client.get("/board/").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_a_change_made_in_another_process_holds_from_the_next_request(client, cast):
    """A real second process (its own database connection and Python) ends the role; this one sees it at once."""
    client.force_login(cast.office)
    assert client.get("/board/").status_code == 200
    membership = Membership.objects.get(user=cast.office, role=Role.OFFICE)
    code = (
        "import datetime, django; django.setup();"
        "from django.contrib.auth import get_user_model;"
        "from core.memberships import membership_end; from core.models import Membership;"
        f"m = Membership.objects.get(pk={membership.pk});"
        f"membership_end(actor=get_user_model().objects.get(pk={cast.trust_admin.pk}), membership=m,"
        " last_day=m.starts_on.today() - datetime.timedelta(days=1))"
    )
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CACHE_URL": settings.CACHES["default"]["LOCATION"],
        "DJANGO_SETTINGS_MODULE": "homevisits.settings",
    }
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=settings.BASE_DIR, timeout=120)
    assert client.get("/board/").status_code == 403


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
