"""Follow-up actions: my actions, the school's list, overdue flags (with time travel) and completing one."""

import datetime
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import AuditEntry
from safeguarding.services import concern_raise
from tests.factories import ChildFactory, make_reported_visit, make_visit, sign_in, walk_visit
from tests.helpers import fresh_case
from visits.after.services import action_complete, action_create
from visits.models import FollowUpAction, VisitStatus

LONDON = zoneinfo.ZoneInfo("Europe/London")
FRIDAY = datetime.datetime(2026, 10, 16, 9, 0, tzinfo=LONDON)


def _action(cast, owner, description, due_on, school=None, **kw):
    return action_create(
        school=school or cast.school,
        owner=owner,
        description=description,
        due_on=due_on,
        created_by=cast.other_dsl if (school or cast.school) == cast.other_school else cast.dsl,
        **kw,
    )


def test_my_actions_lists_mine_and_flags_overdue_ones(client, cast, time_machine):
    time_machine.move_to(FRIDAY, tick=False)
    _action(cast, cast.staff, "Ring the family about Monday", datetime.date(2026, 10, 19))
    _action(cast, cast.staff2, "Someone else's job", datetime.date(2026, 10, 19))
    client.force_login(cast.staff)
    page = client.get("/visits/actions/mine/").content.decode()
    assert "Ring the family about Monday" in page and "Someone else" not in page and "Overdue" not in page
    time_machine.move_to(FRIDAY + datetime.timedelta(days=3), tick=False)  # Monday: due today, not overdue
    client.force_login(cast.staff)  # a new day, a new sign-in (sessions end after 30 idle minutes)
    assert "Overdue" not in client.get("/visits/actions/mine/").content.decode()
    time_machine.move_to(FRIDAY + datetime.timedelta(days=4), tick=False)
    client.force_login(cast.staff)
    assert "Overdue" in client.get("/visits/actions/mine/").content.decode()
    assert list(FollowUpAction.objects.overdue(datetime.date(2026, 10, 20))) == list(FollowUpAction.objects.open())


def test_overdue_uses_the_london_date_across_midnight(cast, time_machine):
    action = _action(cast, cast.staff, "Post the letter", datetime.date(2026, 10, 16))
    # 23:30 UTC on the 16th is 00:30 on the 17th in London (BST): the action is now overdue there.
    time_machine.move_to(datetime.datetime(2026, 10, 16, 23, 30, tzinfo=datetime.UTC), tick=False)

    assert action.is_overdue(timezone.localdate())
    assert not action.is_overdue(datetime.date(2026, 10, 16))


def test_completing_records_who_when_and_the_outcome(client, cast, time_machine):
    time_machine.move_to(FRIDAY, tick=False)
    action = _action(cast, cast.staff, "Send the chart", datetime.date(2026, 10, 19))
    client.force_login(cast.staff)
    response = client.post(f"/visits/actions/{action.pk}/complete/", {"completion_outcome": ""})
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.completed_at is None
    client.post(f"/visits/actions/{action.pk}/complete/", {"completion_outcome": "Posted first class"})
    action.refresh_from_db()
    assert action.completed_by == cast.staff and action.completed_at == FRIDAY
    assert action.completion_outcome == "Posted first class"
    assert AuditEntry.objects.filter(action="action.complete", object_id=str(action.pk)).exists()
    page = client.get("/visits/actions/mine/").content.decode()
    assert "Posted first class" in page


def test_complete_permission_matrix(client, cast, subtests):
    for who, status in [
        ("staff", 302),
        ("staff2", 404),
        ("outsider", 404),
        ("dsl", 302),
        ("principal", 302),
        ("office", 404),
        ("trust_admin", 404),
        ("other_dsl", 404),
        ("other_staff", 404),
    ]:
        with subtests.test(who=who, status=status), fresh_case(client):
            action = _action(cast, cast.staff, "Send the chart", datetime.date(2026, 10, 19))
            client.force_login(getattr(cast, who))
            assert (
                client.post(f"/visits/actions/{action.pk}/complete/", {"completion_outcome": "x"}).status_code == status
            )
            action.refresh_from_db()
            assert (action.completed_at is not None) == (status == 302)


def test_list_permission_matrix(client, cast, subtests):
    for who, mine, school in [
        ("staff", 200, 403),
        ("staff2", 200, 403),
        ("outsider", 200, 403),
        ("dsl", 200, 200),
        ("principal", 200, 200),
        ("office", 200, 403),
        ("trust_admin", 200, 403),
        ("other_dsl", 200, 200),
        ("other_staff", 200, 403),
    ]:
        with subtests.test(who=who, mine=mine, school=school), fresh_case(client):
            _action(cast, cast.staff, "Oakfield job", datetime.date(2026, 10, 19))
            client.force_login(getattr(cast, who))
            assert client.get("/visits/actions/mine/").status_code == mine
            response = client.get("/visits/actions/")
            assert response.status_code == school
            if school == 200:
                assert ("Oakfield job" in response.content.decode()) == (who != "other_dsl")


def test_school_list_shows_every_owner_with_due_dates(client, cast):
    _action(cast, cast.staff, "Staff job", datetime.date(2026, 10, 19))
    _action(cast, cast.staff2, "Staff2 job", datetime.date(2026, 10, 20))
    _action(cast, cast.other_staff, "Riverside job", datetime.date(2026, 10, 20), school=cast.other_school)
    client.force_login(cast.dsl)
    page = client.get("/visits/actions/").content.decode()
    assert "Staff job" in page and "Staff2 job" in page and "Riverside job" not in page
    assert page.index("Staff job") < page.index("Staff2 job")  # soonest first
    assert "Mon 19 Oct 2026" in page


def test_owner_must_work_at_the_school(cast):
    with pytest.raises(ValidationError):
        _action(cast, cast.other_staff, "Wrong school", datetime.date(2026, 10, 19), school=cast.school)


def test_a_concern_action_does_not_reveal_the_concern_to_its_owner(client, cast):
    child = ChildFactory(household__school=cast.school)
    concern = concern_raise(child=child, raised_by=cast.dsl, details="Bruising seen at PE")
    _action(
        cast,
        cast.staff,
        "Check in with the child each morning",
        datetime.date(2026, 10, 19),
        concern=concern,
        child=child,
    )
    client.force_login(cast.staff)
    page = client.get("/visits/actions/mine/").content.decode()
    assert "Check in with the child each morning" in page and "safeguarding follow-up" in page
    assert f"/safeguarding/concerns/{concern.pk}/" not in page and "Bruising" not in page


def test_action_lists_query_count_does_not_grow(client, cast, subtests):
    for url in ["/visits/actions/mine/", "/visits/actions/"]:
        with subtests.test(url=url), fresh_case(client):
            visit = make_reported_visit(lead=cast.staff)
            sign_in(client, cast.dsl)
            _action(cast, cast.dsl, "First", datetime.date(2026, 10, 19), visit=visit)
            with CaptureQueriesContext(connection) as one:
                client.get(url)
            for n in range(6):
                done = _action(cast, cast.dsl, f"Job {n}", datetime.date(2026, 10, 19), visit=visit)
                if n % 2:
                    action_complete(action=done, actor=cast.dsl, outcome="done")
            with CaptureQueriesContext(connection) as many:
                client.get(url)
            assert len(many) == len(one)


def test_chronology_lists_visits_reports_and_actions_in_date_order(client, cast, time_machine):
    time_machine.move_to(FRIDAY, tick=False)
    visit = make_reported_visit(
        lead=cast.staff,
        visit_fields={"start": FRIDAY - datetime.timedelta(hours=3)},
        actions=[{"owner": cast.staff, "description": "Send the chart", "due_on": datetime.date(2026, 10, 20)}],
    )
    child = visit.children.get()
    client.force_login(cast.staff)
    page = client.get(f"/visits/children/{child.pk}/chronology/").content.decode()
    assert page.index("Attendance visit") < page.index("Form submitted") < page.index("Send the chart")
    client.force_login(cast.office)
    assert client.get(f"/visits/children/{child.pk}/chronology/").status_code == 404
    client.force_login(cast.other_dsl)
    assert client.get(f"/visits/children/{child.pk}/chronology/").status_code == 404


def test_chronology_query_count_does_not_grow(client, cast):
    child = ChildFactory(household__school=cast.school)
    make_reported_visit(
        lead=cast.staff,
        visit_fields={"child": child},
        actions=[{"owner": cast.staff, "description": "One", "due_on": datetime.date(2026, 10, 20)}],
    )
    concern_raise(child=child, raised_by=cast.staff, details="x")
    sign_in(client, cast.dsl)
    with CaptureQueriesContext(connection) as one:
        client.get(f"/visits/children/{child.pk}/chronology/")
    for _ in range(4):
        make_reported_visit(
            lead=cast.staff,
            visit_fields={"child": child},
            actions=[{"owner": cast.staff2, "description": "More", "due_on": datetime.date(2026, 10, 20)}],
        )
        concern_raise(child=child, raised_by=cast.staff2, details="y")
    with CaptureQueriesContext(connection) as many:
        page = client.get(f"/visits/children/{child.pk}/chronology/").content.decode()
    assert page.count("Form submitted") == 5
    assert len(many) == len(one)


def test_my_actions_lists_forms_to_write_with_the_late_flag(client, cast, time_machine):
    time_machine.move_to(FRIDAY, tick=False)
    visit = make_visit(lead=cast.staff, start=FRIDAY - datetime.timedelta(hours=2))
    walk_visit(visit, cast.staff, VisitStatus.RETURNED)
    client.force_login(cast.staff)
    page = client.get("/visits/actions/mine/").content.decode()
    assert "Home Visit Forms to write" in page and "due Sat 17 Oct 09:00" in page and ">Late<" not in page
    time_machine.move_to(FRIDAY + datetime.timedelta(hours=25), tick=False)
    client.force_login(cast.staff)  # the next day, a new sign-in
    assert ">Late<" in client.get("/visits/actions/mine/").content.decode()
    client.force_login(cast.dsl)  # the DSL's own page lists only forms they lead
    assert "Home Visit Forms to write" not in client.get("/visits/actions/mine/").content.decode()
