"""The Home Visit Form: written by the lead after the visit, saved as they type, due per policy, reviewed by a DSL."""

import datetime
import zoneinfo

import pytest
from django.utils import timezone

from core.models import AuditEntry, HomeVisitPolicy
from tests.factories import make_reported_visit, make_visit, walk_visit
from tests.helpers import fresh_case
from visits.after.selectors import reports_awaiting_review, reports_due
from visits.after.services import report_due_at
from visits.models import FollowUpAction, VisitReport, VisitStatus

LONDON = zoneinfo.ZoneInfo("Europe/London")
MONDAY_9AM = datetime.datetime(2026, 10, 12, 9, 0, tzinfo=LONDON)


@pytest.fixture
def returned_visit(cast, time_machine):
    """Led by staff with staff2; on site 10:05, left 10:35, back at school 10:50 on a Monday."""
    time_machine.move_to(MONDAY_9AM, tick=False)
    visit = make_visit(lead=cast.staff, second=cast.staff2, start=MONDAY_9AM + datetime.timedelta(hours=1))
    walk_visit(visit, cast.staff, VisitStatus.OUT)
    for status, minute in [(VisitStatus.ON_SITE, 5), (VisitStatus.LEFT, 35), (VisitStatus.RETURNED, 50)]:
        time_machine.move_to(MONDAY_9AM + datetime.timedelta(hours=1, minutes=minute), tick=False)
        walk_visit(visit, cast.staff, status)
    return visit


def _form(cast, **overrides):
    data = {
        "arrived_at": "2026-10-12T10:05",
        "departed_at": "2026-10-12T10:35",
        "outcome": "seen",
        "abandoned_reason": "",
        "child_seen": "yes",
        "staff_went_in": "yes",
        "invited_in_by": "parent",
        "parent_summary": "We agreed a new bedtime so mornings are calmer.",
        "internal_notes": "Kitchen was bare.",
        "referrals": "",
        "next_visit_on": "2026-10-26",
        "present-TOTAL_FORMS": "2",
        "present-INITIAL_FORMS": "0",
        "present-MIN_NUM_FORMS": "0",
        "present-MAX_NUM_FORMS": "1000",
        "present-0-name": "Rowan Pellingham",
        "present-0-relationship": "mother",
        "present-0-parental_responsibility": "on",
        "present-1-name": "",
        "present-1-relationship": "",
        "action-TOTAL_FORMS": "2",
        "action-INITIAL_FORMS": "0",
        "action-MIN_NUM_FORMS": "0",
        "action-MAX_NUM_FORMS": "1000",
        "action-0-description": "Send the bedtime chart home",
        "action-0-owner": str(cast.staff.pk),
        "action-0-due_on": "2026-10-14",
        "action-0-agreed_with_family": "on",
        "action-1-description": "",
        "action-1-owner": "",
        "action-1-due_on": "",
        "action": "submit",
    }
    data.update(overrides)
    return data


def test_form_starts_with_the_check_in_times(client, cast, returned_visit):
    client.force_login(cast.staff)
    page = client.get(f"/visits/{returned_visit.pk}/report/").content.decode()
    assert 'value="2026-10-12T10:05"' in page and 'value="2026-10-12T10:35"' in page
    assert "Due by" in page and "Tuesday 13 October, 10:50" in page  # 24 hours after the return


def test_lead_submits_the_form(client, cast, returned_visit):
    client.force_login(cast.staff)
    response = client.post(f"/visits/{returned_visit.pk}/report/", _form(cast))
    assert response.status_code == 302 and response.url == f"/visits/{returned_visit.pk}/"
    returned_visit.refresh_from_db()
    assert returned_visit.status == VisitStatus.REPORTED
    report = returned_visit.report
    assert report.outcome == "seen" and report.child_seen is True and report.invited_in_by == "parent"
    assert timezone.localtime(report.arrived_at).time() == datetime.time(10, 5)
    assert [(p.name, p.parental_responsibility) for p in report.present.all()] == [("Rowan Pellingham", True)]
    action = FollowUpAction.objects.get()
    assert action.owner == cast.staff and action.agreed_with_family and action.due_on == datetime.date(2026, 10, 14)
    assert AuditEntry.objects.filter(action="report.submit", object_id=str(report.pk)).exists()
    page = client.get(f"/visits/{returned_visit.pk}/report/").content.decode()
    assert "Kitchen was bare." in page and "On time" in page


def test_drafts_save_as_the_lead_types_and_come_back(client, cast, returned_visit):
    client.force_login(cast.staff)
    url = f"/visits/{returned_visit.pk}/report/"
    typed = _form(cast, parent_summary="Half-written summary about mornings", action="")
    response = client.post(f"{url}autosave/", typed)
    assert response.status_code == 200 and "Draft saved at" in response.content.decode()
    page = client.get(url).content.decode()
    assert "Half-written summary about mornings" in page
    assert 'value="Rowan Pellingham"' in page and 'value="Send the bedtime chart home"' in page
    returned_visit.refresh_from_db()
    assert returned_visit.status == VisitStatus.RETURNED  # a draft does not submit anything


def test_bad_input_is_shown_beside_the_field_and_nothing_typed_is_lost(client, cast, returned_visit, subtests):
    for overrides, field, message in [
        ({"departed_at": "2026-10-12T09:00"}, "departed_at", "must be after you arrived"),
        ({"outcome": "abandoned"}, "abandoned_reason", "Say why the visit was abandoned"),
        ({"invited_in_by": ""}, "invited_in_by", "Say who let you in"),
        ({"outcome": ""}, "outcome", "Choose the outcome"),
    ]:
        with subtests.test(overrides=overrides, field=field, message=message), fresh_case(client):
            client.force_login(cast.staff)
            response = client.post(f"/visits/{returned_visit.pk}/report/", _form(cast, **overrides))
            assert response.status_code == 200
            assert any(message in e for e in response.context["form"].errors[field])
            page = response.content.decode()
            assert f'id="error_1_id_{field}"' in page and "We agreed a new bedtime" in page
            returned_visit.refresh_from_db()
            assert returned_visit.status == VisitStatus.RETURNED and not FollowUpAction.objects.exists()
            assert VisitReport.objects.get().draft["parent_summary"] == [
                "We agreed a new bedtime so mornings are calmer."
            ]


def test_seen_visit_needs_someone_present(client, cast, returned_visit):
    client.force_login(cast.staff)
    response = client.post(
        f"/visits/{returned_visit.pk}/report/",
        _form(cast, **{"present-0-name": "", "present-0-relationship": "", "present-0-parental_responsibility": ""}),
    )
    assert "Record who was present" in response.content.decode()
    returned_visit.refresh_from_db()
    assert returned_visit.status == VisitStatus.RETURNED


def test_report_due_follows_the_school_policy_and_late_is_flagged(client, cast, returned_visit, time_machine):
    returned = MONDAY_9AM + datetime.timedelta(hours=1, minutes=50)
    assert report_due_at(returned_visit) == returned + datetime.timedelta(hours=24)
    HomeVisitPolicy.objects.create(trust=cast.trust, school=cast.school, report_due_hours=48)
    assert report_due_at(returned_visit) == returned + datetime.timedelta(hours=48)
    time_machine.move_to(returned + datetime.timedelta(hours=47), tick=False)
    client.force_login(cast.staff)
    assert "Late" not in client.get(f"/visits/{returned_visit.pk}/report/").content.decode()
    time_machine.move_to(returned + datetime.timedelta(hours=49), tick=False)
    client.force_login(cast.staff)  # two hours on: a new sign-in (sessions end after 30 idle minutes)
    assert ">Late<" in client.get(f"/visits/{returned_visit.pk}/report/").content.decode()
    client.post(f"/visits/{returned_visit.pk}/report/", _form(cast))
    report = VisitReport.objects.get()
    assert report.is_late(timezone.now())
    assert ">Late<" in client.get(f"/visits/{returned_visit.pk}/report/").content.decode()


def test_debrief_and_dsl_sign_off_close_the_visit(client, cast):
    visit = make_reported_visit(lead=cast.staff)
    client.force_login(cast.staff)
    when = timezone.localtime().replace(second=0, microsecond=0) - datetime.timedelta(hours=1)
    response = client.post(
        f"/visits/{visit.pk}/report/debrief/",
        {"debrief_with": cast.dsl.pk, "debrief_at": when.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 302
    report = VisitReport.objects.get()
    assert report.debrief_with == cast.dsl and report.debrief_at == when
    assert client.post(f"/visits/{visit.pk}/report/review/", {"review_comment": "ok"}).status_code == 403
    client.force_login(cast.dsl)
    response = client.post(f"/visits/{visit.pk}/report/review/", {"review_comment": "Good notes; chase the chart."})
    assert response.status_code == 302
    visit.refresh_from_db()
    report.refresh_from_db()
    assert visit.status == VisitStatus.REVIEWED and report.reviewed_by == cast.dsl
    page = client.get(f"/visits/{visit.pk}/report/").content.decode()
    assert "Signed off by" in page and "chase the chart" in page and "Sign off and close" not in page


def test_debrief_in_the_future_is_refused(client, cast):
    visit = make_reported_visit(lead=cast.staff)
    client.force_login(cast.staff)
    later = timezone.localtime() + datetime.timedelta(days=1)
    response = client.post(
        f"/visits/{visit.pk}/report/debrief/",
        {"debrief_with": cast.dsl.pk, "debrief_at": later.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 400 and "cannot be in the future" in response.content.decode()
    assert VisitReport.objects.get().debrief_at is None


# Who may open the form: the pair, the requester and the school's DSLs and Principal; nobody else learns it exists.
READ_MATRIX = [
    ("staff", 200),
    ("staff2", 200),
    ("outsider", 404),
    ("dsl", 200),
    ("principal", 200),
    ("office", 404),
    ("trust_admin", 404),
    ("other_dsl", 404),
    ("other_staff", 404),
]


def test_report_page_permission_matrix(client, cast, returned_visit, subtests):
    for who, status in READ_MATRIX:
        with subtests.test(who=who, status=status), fresh_case(client):
            client.force_login(getattr(cast, who))
            assert client.get(f"/visits/{returned_visit.pk}/report/").status_code == status


def test_only_the_lead_may_write_or_autosave(client, cast, returned_visit, subtests):
    for who, status in [(w, 403 if s == 200 else s) for w, s in READ_MATRIX if w != "staff"]:
        with subtests.test(who=who, status=status), fresh_case(client):
            client.force_login(getattr(cast, who))
            assert client.post(f"/visits/{returned_visit.pk}/report/", _form(cast)).status_code == status
            assert client.post(f"/visits/{returned_visit.pk}/report/autosave/", _form(cast)).status_code == status
            assert not VisitReport.objects.exists()


def test_review_permission_matrix(client, cast, subtests):
    for who, status in [
        ("staff", 403),
        ("staff2", 403),
        ("outsider", 404),
        ("dsl", 302),
        ("principal", 302),
        ("office", 404),
        ("trust_admin", 404),
        ("other_dsl", 404),
        ("other_staff", 404),
    ]:
        with subtests.test(who=who, status=status), fresh_case(client):
            visit = make_reported_visit(lead=cast.staff, visit_fields={"second": cast.staff2})
            client.force_login(getattr(cast, who))
            assert client.post(f"/visits/{visit.pk}/report/review/", {"review_comment": ""}).status_code == status


def test_form_cannot_be_written_before_the_visitors_are_back(client, cast):
    visit = make_visit(lead=cast.staff)
    walk_visit(visit, cast.staff, VisitStatus.ON_SITE)
    client.force_login(cast.staff)
    assert client.post(f"/visits/{visit.pk}/report/", _form(cast)).status_code == 403
    assert "has not submitted" in client.get(f"/visits/{visit.pk}/report/").content.decode()


def test_a_half_filled_row_is_reported_and_blank_rows_are_ignored(client, cast, returned_visit):
    client.force_login(cast.staff)
    response = client.post(
        f"/visits/{returned_visit.pk}/report/",
        _form(cast, **{"action-1-description": "Book the school nurse", "action-1-owner": "", "action-1-due_on": ""}),
    )
    assert response.status_code == 200
    errors = response.context["actions"].forms[1].errors
    assert "Choose who will do it." in errors["owner"] and "Give the date it is due by." in errors["due_on"]
    assert "Book the school nurse" in response.content.decode()
    returned_visit.refresh_from_db()
    assert returned_visit.status == VisitStatus.RETURNED


def test_autosave_after_submission_changes_nothing(client, cast, returned_visit):
    client.force_login(cast.staff)
    client.post(f"/visits/{returned_visit.pk}/report/", _form(cast))
    response = client.post(f"/visits/{returned_visit.pk}/report/autosave/", _form(cast, parent_summary="late"))
    assert response.status_code == 403
    report = VisitReport.objects.get()
    assert report.draft == {} and report.parent_summary == "We agreed a new bedtime so mornings are calmer."


def test_dashboard_selectors_list_due_late_and_awaiting_review(cast, returned_visit, time_machine):
    returned = MONDAY_9AM + datetime.timedelta(hours=1, minutes=50)
    (due,) = reports_due(user=cast.staff, now=returned + datetime.timedelta(hours=25))
    assert due.visit == returned_visit and due.late and due.due_at == returned + datetime.timedelta(hours=24)
    assert reports_due(user=cast.staff2, now=returned) == []  # the second visitor does not write the form
    assert [d.visit for d in reports_due(user=cast.dsl, now=returned)] == [returned_visit]
    assert reports_due(user=cast.other_dsl, now=returned) == []
    visit = make_reported_visit(lead=cast.staff2)
    assert list(reports_awaiting_review(user=cast.dsl)) == [visit]
    assert list(reports_awaiting_review(user=cast.staff2)) == []


def test_due_time_counts_real_hours_across_the_october_clock_change(client, cast, time_machine):
    # Clocks go back at 02:00 on Sunday 25 October 2026: 24 hours after 16:00 BST on Saturday is 15:00 GMT on Sunday.
    saturday = datetime.datetime(2026, 10, 24, 15, 0, tzinfo=LONDON)
    time_machine.move_to(saturday, tick=False)
    visit = make_visit(lead=cast.staff, start=saturday - datetime.timedelta(hours=1))
    walk_visit(visit, cast.staff, VisitStatus.LEFT)
    time_machine.move_to(saturday + datetime.timedelta(hours=1), tick=False)
    walk_visit(visit, cast.staff, VisitStatus.RETURNED)
    client.force_login(cast.staff)
    assert "Sunday 25 October, 15:00" in client.get(f"/visits/{visit.pk}/report/").content.decode()


def test_a_dsl_who_was_on_the_visit_cannot_sign_its_form_off(client, cast):
    visit = make_reported_visit(lead=cast.dsl, visit_fields={"second": cast.staff})
    client.force_login(cast.dsl)
    page = client.get(f"/visits/{visit.pk}/report/").content.decode()
    assert "You were on this visit" in page and "Sign off and close" not in page
    response = client.post(f"/visits/{visit.pk}/report/review/", {"review_comment": "Fine."})
    assert response.status_code == 400 and "You were on this visit" in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == VisitStatus.REPORTED and VisitReport.objects.get().reviewed_at is None
    client.force_login(cast.principal)
    assert "Sign off and close" in client.get(f"/visits/{visit.pk}/report/").content.decode()
    assert client.post(f"/visits/{visit.pk}/report/review/", {"review_comment": "Fine."}).status_code == 302
    visit.refresh_from_db()
    assert visit.status == VisitStatus.REVIEWED and VisitReport.objects.get().reviewed_by == cast.principal


def test_where_the_policy_asks_for_it_the_debrief_comes_before_sign_off(client, cast):
    HomeVisitPolicy.objects.create(trust=cast.trust, school=cast.school, debrief_before_sign_off=True)
    visit = make_reported_visit(lead=cast.staff)
    client.force_login(cast.dsl)
    page = client.get(f"/visits/{visit.pk}/report/").content.decode()
    assert "record the debrief first" in page and "Sign off and close" not in page
    response = client.post(f"/visits/{visit.pk}/report/review/", {"review_comment": "Fine."})
    assert response.status_code == 400 and "record the debrief first" in response.content.decode()
    assert VisitReport.objects.get().reviewed_at is None
    when = timezone.localtime().replace(second=0, microsecond=0) - datetime.timedelta(minutes=10)
    debrief = {"debrief_with": cast.principal.pk, "debrief_at": when.strftime("%Y-%m-%dT%H:%M")}
    assert client.post(f"/visits/{visit.pk}/report/debrief/", debrief).status_code == 302
    assert "Sign off and close" in client.get(f"/visits/{visit.pk}/report/").content.decode()
    assert client.post(f"/visits/{visit.pk}/report/review/", {"review_comment": "Fine."}).status_code == 302
    visit.refresh_from_db()
    assert visit.status == VisitStatus.REVIEWED


def test_without_that_policy_value_a_form_is_signed_off_with_no_debrief(client, cast):
    visit = make_reported_visit(lead=cast.staff)
    client.force_login(cast.dsl)
    assert client.post(f"/visits/{visit.pk}/report/review/", {"review_comment": "Fine."}).status_code == 302


def test_no_debrief_is_added_after_sign_off(client, cast):
    visit = make_reported_visit(lead=cast.staff)
    client.force_login(cast.dsl)
    assert client.post(f"/visits/{visit.pk}/report/review/", {"review_comment": "Fine."}).status_code == 302
    client.force_login(cast.staff)
    assert "Record the debrief" not in client.get(f"/visits/{visit.pk}/report/").content.decode()
    when = timezone.localtime().replace(second=0, microsecond=0) - datetime.timedelta(minutes=10)
    response = client.post(
        f"/visits/{visit.pk}/report/debrief/",
        {"debrief_with": cast.dsl.pk, "debrief_at": when.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 400 and "already signed off" in response.content.decode()
    assert VisitReport.objects.get().debrief_at is None
