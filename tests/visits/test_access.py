"""Need to know and school scoping: another school's records are 404, never someone else's data."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import AuditEntry
from families.models import Child, Household
from tests.factories import ChildFactory, make_visit, sign_in
from tests.helpers import fresh_case
from visits.access import can_view_visit, sync_visit_access, visible_visits
from visits.models import Visit

# Who may open a visit's page, by their relation to it (DESIGN.md: need to know).
VISIT_PAGE = {
    "staff": 200,  # the lead and requester
    "staff2": 200,  # the second visitor
    "dsl": 200,
    "principal": 200,
    "outsider": 404,  # same school, not on the visit
    "office": 404,  # the office sees the board, not the reasons
    "trust_admin": 404,
    "other_dsl": 404,  # another school
    "other_staff": 404,
}


@pytest.fixture
def visit(cast):
    return make_visit(lead=cast.staff, second=cast.staff2)


def test_visit_page_by_role(client, cast, visit, subtests):
    for who, status in VISIT_PAGE.items():
        with subtests.test(who=who, status=status), fresh_case(client):
            client.force_login(getattr(cast, who))
            response = client.get(f"/visits/{visit.pk}/")
            assert response.status_code == status
            if status == 200:
                assert visit.reason.encode() in response.content
            else:
                assert visit.reason.encode() not in response.content


def test_visit_list_shows_only_visits_the_user_may_see(client, cast, visit, subtests):
    for who, sees in VISIT_PAGE.items():
        with subtests.test(who=who, sees=sees), fresh_case(client):
            client.force_login(getattr(cast, who))
            response = client.get("/visits/")
            assert response.status_code == 200
            assert (f'href="/visits/{visit.pk}/"'.encode() in response.content) == (sees == 200)


def test_unknown_visit_is_404(client, cast):
    client.force_login(cast.dsl)
    assert client.get("/visits/999999/").status_code == 404


def test_viewing_a_visit_is_audited(client, cast, visit):
    client.force_login(cast.dsl)
    client.get(f"/visits/{visit.pk}/")
    entry = AuditEntry.objects.filter(action="visit.view").get()
    assert (entry.actor, entry.object_id) == (cast.dsl, str(visit.pk))


def test_family_records_are_scoped_to_the_school(client, cast, subtests):
    for who, status in [
        ("staff", 200),  # the lead of an open visit there
        ("outsider", 404),  # same school, on no visit there
        ("dsl", 200),
        ("principal", 200),
        ("office", 404),
        ("other_dsl", 404),
        ("other_staff", 404),
    ]:
        for kind in ["household", "child"]:
            with subtests.test(who=who, status=status, kind=kind), fresh_case(client):
                child = ChildFactory(household__school=cast.school, first_name="Wren")
                make_visit(lead=cast.staff, child=child)
                url = (
                    f"/visits/households/{child.household.pk}/"
                    if kind == "household"
                    else f"/visits/children/{child.pk}/"
                )
                client.force_login(getattr(cast, who))
                response = client.get(url)
                assert response.status_code == status
                assert (b"Wren" in response.content) == (status == 200)


def test_querysets_are_scoped_to_the_users_schools(cast):
    mine = ChildFactory(household__school=cast.school)
    theirs = ChildFactory(household__school=cast.other_school)
    assert list(Child.objects.for_user(cast.staff)) == [mine]
    assert list(Household.objects.for_user(cast.other_staff)) == [theirs.household]
    assert set(Child.objects.for_user(cast.trust_admin)) == {mine, theirs}


def test_access_follows_the_pair(cast, visit):
    """Changing the people on a visit grants and revokes access through the one helper."""
    assert can_view_visit(cast.staff2, visit)
    visit.people.filter(user=cast.staff2).update(user=cast.outsider)
    sync_visit_access(visit)
    assert not can_view_visit(cast.staff2, visit)
    assert can_view_visit(cast.outsider, visit)


def _queries_for(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response


def test_visit_list_query_count_does_not_grow_with_visits(client, cast):
    sign_in(client, cast.staff)
    for _ in range(5):
        make_visit(lead=cast.staff, second=cast.staff2)
    few, _ = _queries_for(client, "/visits/")
    for _ in range(35):
        make_visit(lead=cast.staff, second=cast.staff2)
    many, response = _queries_for(client, "/visits/")
    assert response.content.count(b'href="/visits/') >= 40
    assert many == few


def test_visible_visits_for_seniors_are_every_visit_of_their_school(cast, visit):
    other = make_visit(lead=cast.other_staff)
    assert set(visible_visits(cast.dsl)) == {visit}
    assert set(visible_visits(cast.other_dsl)) == {other}
    assert Visit.objects.count() == 2
