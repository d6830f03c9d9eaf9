"""The pre-departure checklist: every item, the gate (`departure_blockers`), and overrides by the policy's role."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import AuditEntry, HomeVisitPolicy
from safeguarding.services import (
    RiskRowInput,
    address_judgement_record,
    prohibited_address_add,
    risk_assessment_create,
    risk_assessment_mark_for_review,
    risk_assessment_sign_off,
)
from tests.factories import ChildFactory, make_visit, walk_visit
from tests.helpers import fresh_case
from visits.departure.checklist import departure_blockers, departure_check_record, departure_checklist
from visits.departure.services import (
    checklist_override,
    safe_word_set,
    visit_inform_headteacher,
    visit_record_social_worker,
)
from visits.models import ChecklistOverride, VisitStatus
from visits.requests.services import parent_notification_record


def keys(items):
    return [item.key for item in items]


def assess(cast, household, **flags):
    return risk_assessment_create(
        household=household,
        actor=cast.staff,
        rows=[RiskRowInput(hazard="Driving", people="Staff", severity="major", likelihood="remote", controls="Care.")],
        **flags,
    )


def tell_family(cast, visit, response="agreed"):
    """The request's record of how the family was told: the one the checklist reads."""
    return parent_notification_record(
        visit=visit, actor=cast.staff, method="phone", response=response, notified_at=timezone.now()
    )


@pytest.fixture
def child(cast):
    return ChildFactory(
        household__school=cast.school, household__address_line1="12a High St", household__postcode="LU1 1AA"
    )


@pytest.fixture
def visit(cast, child):
    return make_visit(lead=cast.staff, second=cast.staff2, child=child)


def authorise(cast, visit):
    walk_visit(visit, cast.staff, VisitStatus.AUTHORISED)


@pytest.fixture
def ready_visit(cast, visit):
    """A visit with every item met."""
    authorise(cast, visit)
    assess(cast, visit.household)
    safe_word_set(visit=visit, word="Marigold", actor=cast.staff)
    tell_family(cast, visit)
    return visit


def test_a_new_draft_is_blocked_on_everything_it_lacks(visit):
    assert keys(departure_blockers(visit)) == ["authorised", "risk_assessment", "safe_word", "parents"]


def test_everything_met_means_it_may_check_out(ready_visit):
    assert departure_blockers(ready_visit) == []
    assert all(item.met for item in departure_checklist(ready_visit))


def test_address_on_the_list_blocks(cast, ready_visit):
    prohibited_address_add(
        actor=cast.dsl, trust=cast.trust, school=None, address_line1="12A High Street", postcode="LU11AA"
    )
    [item] = departure_blockers(ready_visit)
    assert item.key == "address" and "On the list" in item.detail


def test_near_match_blocks_until_a_dsl_judges_it(cast, ready_visit):
    entry = prohibited_address_add(
        actor=cast.dsl, trust=cast.trust, school=None, address_line1="14 High Street", postcode="LU1 1AA"
    )
    assert keys(departure_blockers(ready_visit)) == ["address"]
    address_judgement_record(
        household=ready_visit.household,
        entry=entry,
        same_place=False,
        note="Council confirmed a different house.",
        actor=cast.dsl,
    )
    assert departure_blockers(ready_visit) == []


def test_expired_training_of_either_visitor_blocks(cast, ready_visit):
    profile = cast.staff2.profile
    profile.training_expires_on = ready_visit.local_start.date() - datetime.timedelta(days=1)
    profile.save()
    [item] = departure_blockers(ready_visit)
    assert item.key == "training" and str(cast.staff2.get_full_name()) in item.detail


def test_stale_risk_assessment_blocks(cast, ready_visit):
    risk_assessment_mark_for_review(household=ready_visit.household, reason="Incident at the address", actor=cast.dsl)
    assert keys(departure_blockers(ready_visit)) == ["risk_assessment"]


def test_review_date_before_the_visit_blocks(cast, visit, time_machine):
    time_machine.move_to(visit.scheduled_start - datetime.timedelta(days=1))
    authorise(cast, visit)
    assess(cast, visit.household, review_on=visit.local_start.date() - datetime.timedelta(days=1))
    safe_word_set(visit=visit, word="Marigold", actor=cast.staff)
    tell_family(cast, visit)
    [item] = departure_blockers(visit)
    assert item.key == "risk_assessment" and "Review was due" in item.detail


def test_risk_flags_change_the_visit(cast, ready_visit, subtests):
    for flags, message in [
        ({"aggressive_adult": True}, "sign-off"),
        ({"dangerous_animals": True, "animals_note": "Two dogs"}, "another room"),
        ({"invite_to_school_instead": True}, "invite the family into school"),
    ]:
        with subtests.test(flags=flags, message=message), fresh_case(None):
            assess(cast, ready_visit.household, **flags)
            [item] = departure_blockers(ready_visit)
            assert item.key == "risk_flags" and message in item.detail


def test_sign_off_and_animals_agreement_clear_the_flags(cast, ready_visit):
    assessment = assess(
        cast,
        ready_visit.household,
        aggressive_adult=True,
        dangerous_animals=True,
        animals_note="Dog",
        animals_kept_apart_agreed=True,
    )
    assert keys(departure_blockers(ready_visit)) == ["risk_flags"]
    risk_assessment_sign_off(assessment=assessment, actor=cast.dsl)
    assert departure_blockers(ready_visit) == []


def test_animals_refused_cancels_the_visit_and_records_why(client, cast, ready_visit):
    assess(cast, ready_visit.household, dangerous_animals=True, animals_note="Dog")
    client.force_login(cast.staff)
    response = client.post(
        f"/safeguarding/visits/{ready_visit.pk}/checklist/cancel_animals/", {"note": "Mum said the dog stays."}
    )
    assert response.status_code == 302
    ready_visit.refresh_from_db()
    assert ready_visit.status == VisitStatus.CANCELLED
    step = ready_visit.transitions.last()
    assert "animals" in step.note and "dog stays" in step.note


def test_unannounced_visit_needs_the_headteacher_informed(cast, child, mailoutbox, django_capture_on_commit_callbacks):
    cast.principal.email = "head@example.org"
    cast.principal.save()
    visit = make_visit(
        lead=cast.staff,
        second=cast.staff2,
        child=child,
        announced=False,
        unannounced_reason="No contact for a week; welfare check.",
    )
    authorise(cast, visit)
    assess(cast, visit.household)
    safe_word_set(visit=visit, word="Marigold", actor=cast.staff)
    [item] = departure_blockers(visit)
    assert item.key == "parents" and "Headteacher" in item.detail
    with django_capture_on_commit_callbacks(execute=True):
        visit_inform_headteacher(visit=visit, actor=cast.staff)
    assert departure_blockers(visit) == []
    [email] = mailoutbox
    assert email.to == ["head@example.org"]
    assert visit.get_purpose_display() in email.body and visit.household.address in email.body
    assert "Due back at school" in email.body


def test_social_worker_item_only_when_a_child_has_one(cast, ready_visit, child):
    child.social_worker_name = "Jordan Vale"
    child.save()
    [item] = departure_blockers(ready_visit)
    assert item.key == "social_worker" and "Jordan Vale" in item.detail
    with pytest.raises(ValidationError):
        visit_record_social_worker(visit=ready_visit, actor=cast.staff, told_after=True, note="")
    visit_record_social_worker(visit=ready_visit, actor=cast.staff, told_after=True, note="The DSL rings her at 3pm.")
    assert departure_blockers(ready_visit) == []


# --- Overrides by the role the policy names ------------------------------------------------------------------


def test_override_by_role(cast, visit, subtests):
    for who, item, allowed in [
        ("dsl", "risk_assessment", True),
        ("principal", "risk_assessment", True),
        ("staff", "risk_assessment", False),
        ("office", "risk_assessment", False),
        ("other_dsl", "risk_assessment", False),  # another school's DSL
        ("dsl", "training", False),  # the standard policy names the Principal alone
        ("principal", "training", True),
        ("principal", "safe_word", False),  # nobody: it must be met
        ("principal", "authorised", False),
    ]:
        with subtests.test(who=who, item=item, allowed=allowed), fresh_case(None):
            actor = getattr(cast, who)
            cast.staff2.profile.training_expires_on = datetime.date(2020, 1, 1)  # so the training item is not met
            cast.staff2.profile.training_completed_on = datetime.date(2019, 1, 1)
            cast.staff2.profile.save()
            if allowed:
                checklist_override(visit=visit, item=item, reason="Agreed on the phone with the family.", actor=actor)
                overridden = next(i for i in departure_checklist(visit) if i.key == item)
                assert overridden.overridden and not overridden.blocking
                assert overridden.override.reason == "Agreed on the phone with the family."
                assert item not in keys(departure_blockers(visit))
                assert AuditEntry.objects.filter(action="checklist.override").exists()
            else:
                with pytest.raises(PermissionDenied):
                    checklist_override(visit=visit, item=item, reason="Because.", actor=actor)
                assert item in keys(departure_blockers(visit))
                assert not ChecklistOverride.objects.exists()


def test_policy_names_the_overriding_role(cast, visit):
    HomeVisitPolicy.objects.create(trust=cast.trust, school=cast.school, checklist_override_roles={"training": ["DSL"]})
    checklist_override(visit=visit, item="training", reason="Refresher booked for Friday.", actor=cast.dsl)
    with pytest.raises(PermissionDenied):
        checklist_override(visit=visit, item="training", reason="x", actor=cast.principal)


def test_override_needs_a_reason(cast, visit):
    with pytest.raises(ValidationError):
        checklist_override(visit=visit, item="risk_assessment", reason="  ", actor=cast.dsl)


# --- The visit page and the action endpoints ----------------------------------------------------------------


def test_visit_page_shows_the_checklist(client, cast, visit):
    client.force_login(cast.staff)
    page = client.get(f"/visits/{visit.pk}/").content.decode()
    assert "Before leaving school" in page and "Not ready" in page
    assert "Household risk assessment current" in page and "not met" in page


def test_dsl_sees_the_override_form_and_staff_do_not(client, cast, visit):
    client.force_login(cast.dsl)
    assert "Override as DSL or Principal" in client.get(f"/visits/{visit.pk}/").content.decode()
    client.force_login(cast.staff)
    assert "Override as" not in client.get(f"/visits/{visit.pk}/").content.decode()


def test_ready_visit_page_says_so(client, cast, ready_visit):
    client.force_login(cast.staff)
    assert "Ready to check out" in client.get(f"/visits/{ready_visit.pk}/").content.decode()


ACT = {
    "staff": 302,
    "staff2": 302,
    "dsl": 302,
    "principal": 302,
    "outsider": 404,
    "office": 404,
    "trust_admin": 404,
    "other_dsl": 404,
    "other_staff": 404,
}


def test_a_family_who_declined_keeps_the_parents_item_unmet(cast, visit):
    tell_family(cast, visit, response="declined")
    item = next(i for i in departure_blockers(visit) if i.key == "parents")
    assert "declined" in item.detail


def test_the_checklist_links_to_where_the_family_notice_is_recorded(client, cast, visit):
    client.force_login(cast.staff)
    page = client.get(f"/visits/{visit.pk}/").content.decode()
    # To the form itself, a collapsed <details> that site.js opens when the link is followed.
    assert 'href="#record-parents"' in page and '<details class="mb-3" id="record-parents"' in page


def test_override_action_by_role(client, cast, visit, subtests):
    for who, status, overridden in [
        ("dsl", 302, True),
        ("staff", 403, False),
        ("office", 404, False),
        ("other_dsl", 404, False),
    ]:
        with subtests.test(who=who, status=status, overridden=overridden), fresh_case(client):
            client.force_login(getattr(cast, who))
            response = client.post(
                f"/safeguarding/visits/{visit.pk}/checklist/override/",
                {"item": "risk_assessment", "reason": "Assessed by phone this morning."},
            )
            assert response.status_code == status
            assert ChecklistOverride.objects.exists() == overridden


def test_get_and_unknown_actions_are_refused(client, cast, visit):
    client.force_login(cast.staff)
    assert client.get(f"/safeguarding/visits/{visit.pk}/checklist/parents/").status_code == 405
    assert client.post(f"/safeguarding/visits/{visit.pk}/checklist/launch/").status_code == 404


def test_checklist_queries_do_not_grow_with_the_list_or_visitors(cast, ready_visit):
    with CaptureQueriesContext(connection) as few:
        departure_checklist(ready_visit)
    for n in range(10):
        prohibited_address_add(
            actor=cast.dsl, trust=cast.trust, school=None, address_line1=f"{n + 40} Far Road", postcode="EB9 9ZZ"
        )
    with CaptureQueriesContext(connection) as many:
        departure_checklist(ready_visit)
    assert len(many) == len(few)


def test_check_out_record_audits_every_items_state_without_the_safe_word(cast, ready_visit):
    assert departure_check_record(visit=ready_visit, actor=cast.staff) == []
    entry = AuditEntry.objects.get(action="checklist.check")
    assert entry.details["items"]["address"] == "met" and "Checked" in entry.details["notes"]["address"]
    assert "Marigold" not in str(entry.details)


def test_announced_visit_does_not_email_the_headteacher(cast, ready_visit):
    with pytest.raises(ValidationError, match="announced"):
        visit_inform_headteacher(visit=ready_visit, actor=cast.staff)


def test_other_actions_by_role(client, cast, child, subtests):
    for who, status in ACT.items():
        for action, data in [
            ("social_worker", {"told_after": "on", "note": "DSL rings at 3pm"}),
            ("headteacher", {}),
            ("cancel_animals", {}),
        ]:
            with subtests.test(who=who, status=status, action=action, data=data), fresh_case(client):
                visit = make_visit(
                    lead=cast.staff,
                    second=cast.staff2,
                    child=child,
                    announced=False,
                    unannounced_reason="Welfare check.",
                )
                authorise(cast, visit)
                client.force_login(getattr(cast, who))
                response = client.post(f"/safeguarding/visits/{visit.pk}/checklist/{action}/", data)
                assert response.status_code == status
                visit.refresh_from_db()
                assert (visit.status == VisitStatus.CANCELLED) == (status == 302 and action == "cancel_animals")
                audited = AuditEntry.objects.filter(
                    action__in=["visit.social_worker", "visit.headteacher_informed"]
                ).exists()
                assert audited == (status == 302 and action != "cancel_animals")
