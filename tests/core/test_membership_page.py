"""The trust admin's roles page: who holds which role at which school, grant and end (core/membership_pages.py)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import AuditEntry, Membership
from core.roles import Role
from tests.factories import SchoolFactory, TrustFactory, make_member

URL = "/memberships/"


def today():
    return timezone.localdate()


@pytest.fixture
def admin_client(client, cast):
    client.force_login(cast.trust_admin)
    return client


def test_the_trust_admin_sees_everyone_with_their_roles_per_school(admin_client, cast):
    page = admin_client.get(URL)
    html = page.content.decode()
    assert page.status_code == 200
    assert cast.dsl.get_full_name() in html and "Designated Safeguarding Lead" in html
    assert cast.other_school.name in html
    assert 'href="/memberships/"' in html  # in the navigation


def test_another_trusts_people_never_appear(admin_client, cast):
    elsewhere = SchoolFactory(trust=TrustFactory(), name="Faraway Test School")
    stranger = make_member("stranger", elsewhere, Role.DSL, job_title="Teacher")
    stranger.first_name, stranger.last_name = "Quentin", "Outlander"
    stranger.save()
    html = admin_client.get(URL).content.decode()
    assert "Outlander" not in html and "Faraway Test School" not in html


def test_the_list_costs_the_same_queries_for_ten_people_as_for_two(admin_client, cast):
    admin_client.get(URL)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(URL)
    for n in range(10):
        make_member(f"extra{n}", [cast.school, cast.other_school], Role.STAFF)
    with CaptureQueriesContext(connection) as many:
        page = admin_client.get(URL)
    assert "extra9" in page.content.decode() or page.content.decode().count("Visiting staff") >= 20
    assert len(many) == len(few)


def test_granting_a_role_from_a_date(admin_client, cast):
    start = today() + datetime.timedelta(days=7)
    response = admin_client.post(
        URL, {"user": cast.staff.pk, "school": cast.other_school.pk, "role": Role.OFFICE, "starts_on": start}
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=cast.staff, school=cast.other_school, role=Role.OFFICE)
    assert membership.starts_on == start and membership.ends_on is None
    entry = AuditEntry.objects.get(action="membership.grant", object_id=str(membership.pk))
    assert entry.actor == cast.trust_admin and entry.school == cast.other_school


def test_bad_input_is_shown_beside_the_field_and_nothing_is_saved(admin_client, cast):
    before = Membership.objects.count()
    response = admin_client.post(
        URL,
        {
            "user": cast.staff.pk,
            "school": cast.school.pk,
            "role": Role.DSL,
            "starts_on": today(),
            "ends_on": today() - datetime.timedelta(days=3),
        },
    )
    assert response.status_code == 400
    assert "The last day cannot be before the first." in response.content.decode()
    response = admin_client.post(
        URL, {"user": cast.staff.pk, "school": cast.school.pk, "role": Role.STAFF, "starts_on": today()}
    )
    assert response.status_code == 400 and "already holds this role" in response.content.decode()
    assert Membership.objects.count() == before
    assert not AuditEntry.objects.filter(action="membership.grant", actor=cast.trust_admin).exists()


def test_ending_a_membership_on_a_date(admin_client, cast):
    membership = Membership.objects.get(user=cast.office, role=Role.OFFICE)
    yesterday = today() - datetime.timedelta(days=1)
    response = admin_client.post(f"/memberships/{membership.pk}/end/", {"last_day": yesterday})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.ends_on == yesterday
    assert AuditEntry.objects.filter(action="membership.end", object_id=str(membership.pk)).exists()
    # The page no longer lists a role that has ended.
    assert f"membership-{membership.pk}" not in admin_client.get(URL).content.decode()


def test_a_bad_end_date_is_refused_with_a_message(admin_client, cast):
    membership = Membership.objects.get(user=cast.office, role=Role.OFFICE)
    response = admin_client.post(f"/memberships/{membership.pk}/end/", {"last_day": "not a date"})
    assert response.status_code == 400 and "Enter a valid date." in response.content.decode()
    membership.refresh_from_db()
    assert membership.ends_on is None


def test_other_roles_get_a_403_in_the_site_layout(client, cast):
    for user in [cast.dsl, cast.principal, cast.office, cast.staff]:
        client.force_login(user)
        response = client.get(URL)
        assert response.status_code == 403, user
        page = response.content.decode()
        assert "This page is for the trust admin" in page and "Memberships are managed by the trust admin." in page
        assert 'id="main"' in page and "ask them" in page
        membership = Membership.objects.get(user=cast.staff2)
        assert client.post(f"/memberships/{membership.pk}/end/", {"last_day": today()}).status_code == 403
    assert Membership.objects.get(user=cast.staff2).ends_on is None


def test_another_trusts_membership_is_a_404(admin_client, cast):
    elsewhere = SchoolFactory(trust=TrustFactory())
    stranger = make_member("stranger2", elsewhere, Role.DSL)
    membership = Membership.objects.get(user=stranger)
    response = admin_client.post(f"/memberships/{membership.pk}/end/", {"last_day": today()})
    assert response.status_code == 404 and "Not found" in response.content.decode()
    membership.refresh_from_db()
    assert membership.ends_on is None


def test_a_grant_at_another_trusts_school_is_refused(admin_client, cast):
    elsewhere = SchoolFactory(trust=TrustFactory())
    response = admin_client.post(
        URL, {"user": cast.staff.pk, "school": elsewhere.pk, "role": Role.DSL, "starts_on": today()}
    )
    assert response.status_code == 400  # not a choice of the form
    assert not Membership.objects.filter(school=elsewhere).exists()
