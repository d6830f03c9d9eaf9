"""The retention review as the DSL uses it: the due list, a hold with its reason, a confirmation of the rest,
the disposal entries and the schedule with its sources; nobody else's records, and a page that costs the same
queries however long the list."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from safeguarding.services import concern_raise
from tests.factories import ChildFactory, HouseholdFactory
from visits.models import DisposalRecord, InboundText, RetentionItem
from visits.records.retention import retention_list_due

URL = "/records/retention/"


def _texts(cast, n, start=0):
    for i in range(start, start + n):
        InboundText.objects.create(
            provider="twilio",
            provider_id=f"SM{i}",
            sender="+447700900123",
            received_at=timezone.now() - datetime.timedelta(days=100),
            body=f"IN 20 text {i}",
            staff=cast.staff,
            school=cast.school,
            outcome="recorded",
        )


def test_the_dsl_holds_one_and_confirms_the_rest(cast, client):
    _texts(cast, 2)
    retention_list_due()
    first, second = RetentionItem.objects.order_by("object_id")
    client.force_login(cast.dsl)
    page = client.get(URL).content.decode()
    assert first.label in page and second.label in page
    assert "IRMS Toolkit for Schools" in page and "until the child&#x27;s 25th birthday" in page
    assert "IN 20 text" not in page  # the list names records; it never copies them

    client.post(reverse("records:retention_hold", args=[first.pk]), {"reason": ""})
    assert not RetentionItem.objects.get(pk=first.pk).is_held
    client.post(reverse("records:retention_hold", args=[first.pk]), {"reason": "Police asked us to keep it."})
    # Without the tick nothing goes.
    client.post(reverse("records:retention_confirm"), {"item": [first.pk, second.pk]})
    assert not DisposalRecord.objects.exists()
    response = client.post(
        reverse("records:retention_confirm"), {"item": [first.pk, second.pk], "confirm": "yes"}, follow=True
    )

    assert "Disposed of 1 records" in response.content.decode()
    assert [d.object_id for d in DisposalRecord.objects.all()] == [second.object_id]
    assert InboundText.objects.get(pk=first.object_id).body == "IN 20 text 0"
    page = client.get(URL).content.decode()
    # The held one under "On hold" with its reason; the disposed one only in the disposal entries.
    held, disposed = page.split('id="held-h"')[1].split('id="done-h"')
    assert "Police asked us to keep it." in held and first.label in held
    assert second.label in disposed and second.label not in page.split('id="held-h"')[0]


def test_another_schools_dsl_sees_none_of_them_and_staff_are_refused_in_words(cast, client):
    _texts(cast, 1)
    retention_list_due()
    item = RetentionItem.objects.get()
    client.force_login(cast.other_dsl)
    assert item.label not in client.get(URL).content.decode()
    assert client.post(reverse("records:retention_hold", args=[item.pk]), {"reason": "Mine now"}).status_code == 404
    client.post(reverse("records:retention_confirm"), {"item": [item.pk], "confirm": "yes"})
    assert RetentionItem.objects.filter(pk=item.pk).exists() and not DisposalRecord.objects.exists()
    client.force_login(cast.staff)
    response = client.get(URL)
    assert response.status_code == 403 and "retention review is for the DSLs" in response.content.decode()


def _count_queries(client, user):
    client.force_login(user)
    client.get(URL)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(URL).status_code == 200
    return len(ctx.captured_queries)


def test_the_review_costs_the_same_queries_however_long_the_list(cast, client):
    household = HouseholdFactory(school=cast.school)
    old = datetime.date(1990, 1, 1)
    concern_raise(child=ChildFactory(household=household, date_of_birth=old), raised_by=cast.dsl, details="Seen.")
    _texts(cast, 2)
    retention_list_due()
    RetentionItem.objects.filter(kind="inbound_text").update(
        held_at=timezone.now(), held_by=cast.dsl, hold_reason="Kept for now."
    )
    small = _count_queries(client, cast.dsl)
    for _ in range(5):
        concern_raise(child=ChildFactory(household=household, date_of_birth=old), raised_by=cast.dsl, details="Seen.")
    _texts(cast, 10, start=10)
    retention_list_due()
    RetentionItem.objects.filter(kind="inbound_text").update(
        held_at=timezone.now(), held_by=cast.dsl, hold_reason="Kept for now."
    )
    large = _count_queries(client, cast.dsl)
    assert RetentionItem.objects.count() == 18
    assert small == large, f"{small} queries with 3 listed, {large} with 18"
