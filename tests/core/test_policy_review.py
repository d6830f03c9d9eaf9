"""The policy's review date: the dashboard and the policy's admin page warn from a month before it falls."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.urls import reverse

from core.models import HomeVisitPolicy

LONDON = zoneinfo.ZoneInfo("Europe/London")
# The cast's trust default is reviewed on 1 July 2027 (tests/factories.py).
BEFORE = datetime.datetime(2027, 5, 31, 10, 0, tzinfo=LONDON)  # 31 days to go
INSIDE = datetime.datetime(2027, 6, 10, 10, 0, tzinfo=LONDON)  # 21 days to go
AFTER = datetime.datetime(2027, 7, 15, 10, 0, tzinfo=LONDON)  # 14 days ago


@pytest.fixture
def trust_admin(cast):
    user = cast.trust_admin
    user.is_staff = True
    user.save()
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="core"))
    return user


def _dashboard(client, user, when):
    with time_machine.travel(when, tick=False):
        client.force_login(user)
        return client.get(reverse("dashboard")).content.decode()


def _policy_page(client, user, policy, when):
    with time_machine.travel(when, tick=False):
        client.force_login(user)
        response = client.get(f"/admin/core/homevisitpolicy/{policy.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_dashboard_warns_a_month_before_the_review_date_and_after_it(client, cast):
    assert "policy review" not in _dashboard(client, cast.dsl, BEFORE)
    inside = _dashboard(client, cast.dsl, INSIDE)
    assert "Oakfield Test Primary: home-visit policy review" in inside
    assert "due for review on 1 July 2027, in 21 days" in inside
    after = _dashboard(client, cast.principal, AFTER)
    assert "1 July 2027, has passed (14 days ago)" in after


def test_a_school_with_its_own_review_date_is_warned_about_that_one(client, cast):
    HomeVisitPolicy.objects.create(trust=cast.trust, school=cast.other_school, review_date=datetime.date(2027, 9, 1))
    assert "policy review" not in _dashboard(client, cast.other_dsl, INSIDE)  # the trust's date is not Riverside's
    assert "policy review" in _dashboard(client, cast.dsl, INSIDE)
    page = _dashboard(client, cast.other_dsl, datetime.datetime(2027, 8, 20, 10, 0, tzinfo=LONDON))
    assert "Riverside Test Academy: home-visit policy review" in page and "in 12 days" in page
    assert "Oakfield" not in page


def test_the_policy_page_warns_the_trust_admin_too(client, cast, trust_admin):
    default = HomeVisitPolicy.objects.get(trust=cast.trust, school__isnull=True)
    override = HomeVisitPolicy.objects.create(trust=cast.trust, school=cast.school)
    assert "due for review on" not in _policy_page(client, trust_admin, default, BEFORE)
    assert "due for review on 1 July 2027, in 21 days" in _policy_page(client, trust_admin, default, INSIDE)
    # A school's row with no date of its own is reviewed with the trust's.
    assert "has passed (14 days ago)" in _policy_page(client, trust_admin, override, AFTER)
    assert "Set the next review date" in _policy_page(client, trust_admin, override, AFTER)
