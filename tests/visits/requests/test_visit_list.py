"""The visit list: newest first, fifty to a page, older pages a link away (keyset: each page starts after the last
row shown), each page in the same number of queries."""

import datetime
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import bulk_visits, make_visit, sign_in
from visits.models import VisitStatus


def _rows(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<td data-label="When"><a href="/visits/(\d+)/">', html)]


def _older_link(html: str) -> str:
    found = re.search(r'href="(\?after=[^"]+)">Older visits', html)
    return found.group(1).replace("&amp;", "&") if found else ""


def test_the_list_pages_through_every_visit_once_newest_first(client, cast):
    start = timezone.now() - datetime.timedelta(days=400)
    bulk_visits(lead=cast.staff, n=60, status=VisitStatus.REVIEWED, start=start, step_minutes=60 * 24)
    # Two at the very same minute: the id breaks the tie, so neither is skipped nor shown twice across pages.
    same = timezone.now() - datetime.timedelta(days=50, hours=5)
    twins = {make_visit(lead=cast.staff, start=same).pk for _ in range(2)}
    sign_in(client, cast.dsl)
    first = client.get("/visits/").content.decode()
    with CaptureQueriesContext(connection) as one:
        client.get("/visits/")
    assert len(_rows(first)) == 50 and "Newest visits" not in first
    with CaptureQueriesContext(connection) as two:
        second = client.get(f"/visits/{_older_link(first)}").content.decode()
    assert len(two) == len(one)
    shown = _rows(first) + _rows(second)
    assert len(shown) == len(set(shown)) == 62 and twins <= set(shown)
    assert "Newest visits" in second and not _older_link(second)
    starts = dict(cast.school.visits.values_list("pk", "scheduled_start"))
    assert [starts[pk] for pk in shown] == sorted((starts[pk] for pk in shown), reverse=True)


def test_a_position_made_up_or_mangled_shows_only_the_users_own_visits(client, cast):
    mine = make_visit(lead=cast.staff)
    theirs = make_visit(lead=cast.other_staff)
    sign_in(client, cast.staff)
    for after in ["2999-01-01T00:00:00+00:00_999999", "nonsense", "2026-01-01_12"]:
        page = client.get("/visits/", {"after": after})
        assert page.status_code == 200
        assert theirs.pk not in _rows(page.content.decode())
    assert mine.pk in _rows(client.get("/visits/", {"after": "2999-01-01T00:00:00+00:00_999999"}).content.decode())
