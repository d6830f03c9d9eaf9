"""Calling a visit off: who may, why it is asked, and that the board and approvals drop it at once."""

import datetime

import pytest
import time_machine

from core.models import AuditEntry
from tests.factories import make_authorised_visit, make_visit, tomorrow_at, walk_visit
from tests.helpers import fresh_case
from visits.models import VisitStatus, VisitTransition


@pytest.fixture
def authorised(cast):
    return make_authorised_visit(lead=cast.staff, second=cast.staff2, authoriser=cast.dsl)


def cancel(client, visit, reason="The family moved away."):
    return client.post(f"/visits/{visit.pk}/cancel/", {"reason": reason})


def test_who_may_cancel_an_authorised_visit(client, cast, authorised, subtests):
    for who, status in [
        ("staff", 302),
        ("staff2", 302),
        ("dsl", 302),
        ("principal", 302),
        ("office", 404),
        ("outsider", 404),
        ("other_dsl", 404),
        ("trust_admin", 404),
    ]:
        with subtests.test(who=who, status=status), fresh_case(client):
            client.force_login(getattr(cast, who))
            response = cancel(client, authorised)
            assert response.status_code == status
            authorised.refresh_from_db()
            assert (authorised.status == VisitStatus.CANCELLED) == (status == 302)


def test_the_reason_is_kept_on_the_history_and_audited(client, cast, authorised):
    client.force_login(cast.staff2)
    cancel(client, authorised, "Dad rang: the child is back in school tomorrow.")
    transition = VisitTransition.objects.get(visit=authorised, to_status=VisitStatus.CANCELLED)
    assert transition.actor == cast.staff2 and "child is back in school" in transition.note
    assert AuditEntry.objects.filter(action="visit.transition", actor=cast.staff2).exists()
    page = client.get(f"/visits/{authorised.pk}/").content.decode()
    assert "Cancelled" in page and "Cancel this visit" not in page


def test_a_cancellation_without_a_reason_is_refused_beside_the_field(client, cast, authorised):
    client.force_login(cast.staff)
    response = cancel(client, authorised, "   ")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="form-control is-invalid"' in html and "This field is required" in html
    authorised.refresh_from_db()
    assert authorised.status == VisitStatus.AUTHORISED
    assert not VisitTransition.objects.filter(visit=authorised, to_status=VisitStatus.CANCELLED).exists()


def test_a_visit_under_way_cannot_be_cancelled(client, cast, authorised):
    walk_visit(authorised, cast.staff, VisitStatus.OUT)
    client.force_login(cast.dsl)
    page = client.get(f"/visits/{authorised.pk}/").content.decode()
    assert "Cancel this visit" not in page
    response = cancel(client, authorised)
    assert response.status_code == 302
    assert "cannot be cancelled" in client.get(response.url).content.decode()
    authorised.refresh_from_db()
    assert authorised.status == VisitStatus.OUT


def test_a_cancelled_visit_leaves_the_board_and_the_approvals_list(client, cast, authorised):
    request = make_visit(lead=cast.staff, second=cast.staff2, start=tomorrow_at(14))
    walk_visit(request, cast.staff, VisitStatus.REQUESTED)
    with time_machine.travel(authorised.scheduled_start - datetime.timedelta(hours=1), tick=False):  # its day
        client.force_login(cast.dsl)
        assert authorised.household.address in client.get("/board/").content.decode()
        assert f"/approvals/{request.pk}/" in client.get("/approvals/").content.decode()
        cancel(client, authorised)
        cancel(client, request)
        assert authorised.household.address not in client.get("/board/").content.decode()
        assert f"/approvals/{request.pk}/" not in client.get("/approvals/").content.decode()
