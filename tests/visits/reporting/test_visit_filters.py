"""The filtered visit list and its CSV export."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditEntry
from tests.factories import ChildFactory, bulk_visits, make_reported_visit, make_visit
from tests.helpers import fresh_case
from visits.access import visible_visits
from visits.models import Purpose, VisitStatus

URL = reverse("visits:search")
LONDON_DAY = datetime.datetime(2026, 10, 12, 9, 0, tzinfo=datetime.UTC)  # 10:00 in London (BST)


def rows_of(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


@pytest.fixture
def visits(cast):
    """A small school year: known visits by purpose, status, staff, child and year group."""
    year3 = ChildFactory(
        household__school=cast.school,
        household__name="Aldergrove family",
        year_group="3",
        first_name="Ellis",
        last_name="Aldergrove",
    )
    year6 = ChildFactory(
        household__school=cast.school,
        household__name="Birchley family",
        year_group="6",
        first_name="Noor",
        last_name="Birchley",
    )
    return {
        "attendance": make_visit(lead=cast.staff, child=year3, start=LONDON_DAY, purpose=Purpose.ATTENDANCE),
        "send": make_visit(
            lead=cast.staff2, child=year6, start=LONDON_DAY + datetime.timedelta(days=7), purpose=Purpose.SEND_SUPPORT
        ),
        "reported": make_reported_visit(
            lead=cast.staff,
            outcome="no_access",
            child_seen=False,
            visit_fields={"child": year6, "start": LONDON_DAY + datetime.timedelta(days=14)},
        ),
        "other_school": make_visit(lead=cast.other_staff, start=LONDON_DAY, reason="=HYPERLINK(1)"),
    }


def test_every_signed_in_role_opens_the_list_but_sees_only_their_visits(client, cast, visits, subtests):
    for who, expected in [
        ("staff", 200),
        ("staff2", 200),
        ("outsider", 200),
        ("dsl", 200),
        ("principal", 200),
        ("office", 200),
        ("trust_admin", 200),
        ("other_dsl", 200),
        ("other_staff", 200),
    ]:
        with subtests.test(who=who, expected=expected), fresh_case(client):
            user = getattr(cast, who)
            client.force_login(user)
            response = client.get(URL)
            assert response.status_code == expected
            shown = {v.pk for v in response.context["page"].object_list}

            assert shown == set(visible_visits(user).values_list("pk", flat=True))
            assert visits["other_school"].pk not in shown or who in ("other_dsl", "other_staff")


def test_anonymous_must_log_in(client, db):
    assert client.get(URL).status_code == 302


def _shown(client, user, **params):
    client.force_login(user)
    return {v.pk for v in client.get(URL, params).context["page"].object_list}


def test_filters_for_a_dsl(client, cast, visits, subtests):
    for params, expected in [
        ({}, {"attendance", "send", "reported"}),
        ({"purpose": "send_support"}, {"send"}),
        ({"status": "reported"}, {"reported"}),
        ({"outcome": "no_access"}, {"reported"}),
        ({"outcome": "seen"}, set()),
        ({"year_group": "6"}, {"send", "reported"}),
        ({"date_from": "2026-10-12", "date_to": "2026-10-12"}, {"attendance"}),
        ({"date_from": "2026-10-13"}, {"send", "reported"}),
        ({"date_to": "2026-10-19"}, {"attendance", "send"}),
    ]:
        with subtests.test(params=params, expected=expected), fresh_case(client):
            assert _shown(client, cast.dsl, **params) == {visits[k].pk for k in expected}


def test_filter_by_staff_and_child(client, cast, visits):
    assert _shown(client, cast.dsl, staff=cast.staff2.pk) == {visits["send"].pk}
    child = visits["send"].children.get()
    assert _shown(client, cast.dsl, child=child.pk) == {visits["send"].pk, visits["reported"].pk}


def test_another_schools_child_or_staff_is_not_a_choice(client, cast, visits):
    other_child = visits["other_school"].children.get()
    client.force_login(cast.dsl)
    response = client.get(URL, {"child": other_child.pk})
    assert "Select a valid choice" in response.content.decode()
    response = client.get(URL, {"staff": cast.other_staff.pk})
    assert "Select a valid choice" in response.content.decode()
    assert str(other_child) not in client.get(URL).content.decode()


def test_a_date_range_is_the_london_day(client, cast):
    # 23:30 UTC on 25 Oct 2026 is 23:30 GMT (clocks went back at 01:00 UTC that day); 23:30 UTC on 24 Oct is
    # 00:30 BST on the 25th.
    late = make_visit(lead=cast.staff, start=datetime.datetime(2026, 10, 24, 23, 30, tzinfo=datetime.UTC))
    assert _shown(client, cast.dsl, date_from="2026-10-25", date_to="2026-10-25") == {late.pk}


def test_csv_holds_exactly_the_filtered_rows_and_no_free_text(client, cast, visits):
    client.force_login(cast.dsl)
    response = client.get(URL, {"year_group": "6", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = rows_of(response)
    assert sorted(int(r["Visit"]) for r in rows) == sorted([visits["send"].pk, visits["reported"].pk])
    reported = next(r for r in rows if int(r["Visit"]) == visits["reported"].pk)
    assert reported["Outcome"] == "No access: letter posted" and reported["Year groups"] == "Year 6"
    assert reported["Form on time"] == "yes" and reported["Status"] == "Report written"
    assert "Reason" not in rows[0] and "Absent for five days" not in str(rows)
    assert AuditEntry.objects.filter(actor=cast.dsl, action="visit.export").count() == 1


def test_csv_for_staff_has_only_their_own_visits(client, cast, visits):
    client.force_login(cast.staff2)
    rows = rows_of(client.get(URL, {"format": "csv"}))
    assert [int(r["Visit"]) for r in rows] == [visits["send"].pk]


def test_csv_cells_cannot_run_as_formulas(client, cast):
    child = ChildFactory(household__school=cast.school, household__name="=cmd|'/c calc'!A1")
    make_visit(lead=cast.staff, child=child)
    client.force_login(cast.dsl)
    rows = rows_of(client.get(URL, {"format": "csv"}))
    assert rows[0]["Household"] == "'=cmd|'/c calc'!A1"


def test_csv_exports_every_page_not_only_the_first(client, cast):
    bulk_visits(lead=cast.staff, n=120, status=VisitStatus.REQUESTED, start=LONDON_DAY)
    client.force_login(cast.dsl)
    assert len(client.get(URL).context["page"].object_list) == 50
    assert len(rows_of(client.get(URL, {"format": "csv"}))) == 120


def _queries(client, user, params):
    client.force_login(user)
    client.get(URL, params)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL, params)
        if params.get("format") == "csv":
            b"".join(response.streaming_content)
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_rows(client, cast, subtests):
    for params in [{}, {"year_group": "3"}, {"format": "csv"}]:
        with subtests.test(params=params), fresh_case(client):
            bulk_visits(lead=cast.staff, n=5, status=VisitStatus.REPORTED, start=LONDON_DAY)
            small = _queries(client, cast.dsl, params)
            bulk_visits(lead=cast.staff, n=45, status=VisitStatus.REPORTED, start=LONDON_DAY)
            large = _queries(client, cast.dsl, params)
            assert small == large


def test_older_pages_keep_the_filters_and_show_every_match_once(client, cast):
    bulk_visits(lead=cast.staff, n=70, status=VisitStatus.REQUESTED, start=LONDON_DAY, step_minutes=60)
    earlier = LONDON_DAY - datetime.timedelta(days=1)
    bulk_visits(lead=cast.staff, n=5, status=VisitStatus.REQUESTED, start=earlier, purpose=Purpose.SEND_SUPPORT)
    client.force_login(cast.dsl)
    first = client.get(URL, {"purpose": "attendance"})
    assert first.context["total"] == 70 and "70 visits, newest first" in first.content.decode()
    older = first.context["page"].next_position
    with CaptureQueriesContext(connection) as one:
        client.get(URL, {"purpose": "attendance"})
    with CaptureQueriesContext(connection) as two:
        second = client.get(URL, {"purpose": "attendance", "after": older})
    assert len(two) == len(one)
    shown = [v.pk for v in first.context["page"].object_list] + [v.pk for v in second.context["page"].object_list]
    assert len(shown) == len(set(shown)) == 70
    assert not second.context["page"].next_position and "Newest visits" in second.content.decode()
    assert f"purpose=attendance&amp;after={older.replace('+', '%2B').replace(':', '%3A')}" in first.content.decode()
