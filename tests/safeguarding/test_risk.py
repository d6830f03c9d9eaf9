"""Risk assessments after Appendix 1: the matrix from the school's policy, staleness, flags, and the pages."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import AuditEntry, HomeVisitPolicy
from core.standards import STANDARD_RISK_MATRIX, validate_risk_matrix
from safeguarding.models import RiskAssessment
from safeguarding.risk import risk_level
from safeguarding.selectors import current_risk_assessment, risk_rows_to_start_from
from safeguarding.services import (
    RiskRowInput,
    risk_assessment_create,
    risk_assessment_mark_for_review,
    risk_assessment_sign_off,
)
from tests.factories import HouseholdFactory, sign_in, visit_to
from tests.helpers import fresh_case

NOON = datetime.datetime(2026, 11, 2, 12, 0, tzinfo=datetime.UTC)


def row(severity="major", likelihood="remote", hazard="Aggressive adult"):
    return RiskRowInput(
        hazard=hazard, people="Staff", severity=severity, likelihood=likelihood, controls="Visit in a pair."
    )


@pytest.fixture
def household(cast):
    """A household that staff and staff2 are to visit (an open draft): they need to know about it."""
    household = HouseholdFactory(school=cast.school, name="Marlowe family", postcode="EB1 4QT")
    visit_to(household, lead=cast.staff, second=cast.staff2)
    return household


def make_assessment(cast, household, *rows, **flags):
    return risk_assessment_create(household=household, actor=cast.staff, rows=list(rows) or [row()], **flags)


@pytest.mark.parametrize(
    ("severity", "likelihood", "level"),
    [
        ("major", "remote", "low"),  # Appendix 1's own rating
        ("major", "possible", "high"),
        ("major", "likely", "high"),
        ("serious", "possible", "medium"),
        ("serious", "likely", "high"),
        ("minor", "likely", "medium"),
        ("minor", "remote", "low"),
    ],
)
def test_standard_matrix(severity, likelihood, level):
    assert risk_level(STANDARD_RISK_MATRIX, severity, likelihood) == level


def test_level_comes_from_the_schools_own_matrix(cast, household):
    stricter = {
        **STANDARD_RISK_MATRIX,
        "levels": {
            **STANDARD_RISK_MATRIX["levels"],
            "major": {"remote": "medium", "possible": "high", "likely": "high"},
        },
    }
    HomeVisitPolicy.objects.create(trust=cast.trust, school=cast.school, risk_matrix=stricter)
    assessment = make_assessment(cast, household, row("major", "remote"))
    assert [r.level for r in assessment.rows.all()] == ["medium"]


def test_other_school_keeps_the_trust_matrix(cast):
    stricter = {
        **STANDARD_RISK_MATRIX,
        "levels": {
            **STANDARD_RISK_MATRIX["levels"],
            "major": {"remote": "medium", "possible": "high", "likely": "high"},
        },
    }
    HomeVisitPolicy.objects.create(trust=cast.trust, school=cast.school, risk_matrix=stricter)
    theirs = HouseholdFactory(school=cast.other_school)
    visit_to(theirs, lead=cast.other_staff)
    assessment = risk_assessment_create(household=theirs, actor=cast.other_staff, rows=[row("major", "remote")])
    assert assessment.rows.get().level == "low"


def test_unknown_severity_is_refused_and_nothing_is_saved(cast, household):
    with pytest.raises(ValidationError):
        make_assessment(cast, household, row("catastrophic", "remote"))
    assert RiskAssessment.objects.count() == 0


def test_incomplete_matrix_is_refused_in_the_policy():
    broken = {**STANDARD_RISK_MATRIX, "levels": {"minor": {"remote": "low"}}}
    with pytest.raises(ValidationError, match="minor/possible"):
        validate_risk_matrix(broken)


def test_new_assessment_starts_from_the_policys_standard_hazards(cast):
    hazards = [r["hazard"] for r in risk_rows_to_start_from(school=cast.school)]
    assert len(hazards) == 5
    assert any("Driving" in h for h in hazards) and any("animal" in h for h in hazards)
    HomeVisitPolicy.objects.filter(trust=cast.trust, school=None).update(
        standard_hazards=[
            {
                "hazard": "Steep stairs",
                "people": "Staff",
                "severity": "minor",
                "likelihood": "possible",
                "controls": "Hold the rail.",
            }
        ]
    )
    assert [r["hazard"] for r in risk_rows_to_start_from(school=cast.school)] == ["Steep stairs"]


def test_stale_after_the_review_date(cast, household, time_machine):
    time_machine.move_to(NOON)
    assessment = make_assessment(cast, household, review_on=datetime.date(2026, 12, 1))
    assert assessment.is_current_on(datetime.date(2026, 12, 1))
    assert not assessment.is_current_on(datetime.date(2026, 12, 2))
    assert "Review was due by 01 Dec 2026" in assessment.stale_reason_on(datetime.date(2026, 12, 2))


def test_review_date_defaults_from_the_policy_and_cannot_exceed_it(cast, household, time_machine):
    time_machine.move_to(NOON)
    HomeVisitPolicy.objects.filter(trust=cast.trust, school=None).update(risk_review_days=90)
    assert make_assessment(cast, household).review_on == datetime.date(2027, 1, 31)
    with pytest.raises(ValidationError, match="within 90 days"):
        make_assessment(cast, household, review_on=datetime.date(2027, 6, 1))


def test_stale_after_an_incident_at_the_address(cast, household):
    assessment = make_assessment(cast, household)
    assert assessment.is_current_on(datetime.date.today())
    marked = risk_assessment_mark_for_review(
        household=household, reason="Incident on 3 Nov: dog bit a visitor.", actor=cast.dsl
    )
    assert marked == assessment
    assessment.refresh_from_db()
    assert not assessment.is_current_on(datetime.date.today())
    assert "dog bit a visitor" in assessment.stale_reason_on(datetime.date.today())
    assert AuditEntry.objects.filter(action="risk.mark_for_review", object_id=str(assessment.pk)).exists()
    # A new assessment is current again.
    fresh = make_assessment(cast, household)
    assert current_risk_assessment(household=household) == fresh and fresh.is_current_on(datetime.date.today())


def test_marking_a_household_without_an_assessment_does_nothing(cast, household):
    assert risk_assessment_mark_for_review(household=household, reason="Incident", actor=cast.dsl) is None


def test_aggressive_adult_needs_a_dsl_sign_off(cast, household):
    assessment = make_assessment(cast, household, aggressive_adult=True)
    assert assessment.needs_sign_off and not assessment.signed_off_at
    with pytest.raises(PermissionDenied):
        risk_assessment_sign_off(assessment=assessment, actor=cast.staff)
    with pytest.raises(PermissionDenied):
        risk_assessment_sign_off(assessment=assessment, actor=cast.other_dsl)
    signed = risk_assessment_sign_off(assessment=assessment, actor=cast.dsl)
    assert signed.signed_off_by == cast.dsl


def test_a_high_row_needs_sign_off_too(cast, household):
    assert make_assessment(cast, household, row("major", "likely")).needs_sign_off
    assert not make_assessment(cast, household, row("major", "remote")).needs_sign_off


def test_staff_of_another_school_cannot_assess(cast, household):
    with pytest.raises(PermissionDenied):
        risk_assessment_create(household=household, actor=cast.other_staff, rows=[row()])


def test_staff_on_no_visit_there_cannot_assess(cast, household):
    """The service asks the same need-to-know question as the page, so no other path writes one."""
    with pytest.raises(PermissionDenied):
        risk_assessment_create(household=household, actor=cast.outsider, rows=[row()])
    assert not RiskAssessment.objects.exists()
    risk_assessment_create(household=household, actor=cast.dsl, rows=[row()])


# --- Pages ------------------------------------------------------------------------------------------------

PAGE = {
    "staff": 200,  # the lead of an open visit there
    "staff2": 200,  # its second visitor
    "outsider": 404,  # same school, on no visit there: asks a DSL
    "dsl": 200,
    "principal": 200,
    "office": 404,
    "trust_admin": 404,
    "other_dsl": 404,
    "other_staff": 404,
}


def test_risk_pages_by_role(client, cast, household, subtests):
    for who, status in PAGE.items():
        for page in ["household_risk", "risk_new", "risk_detail"]:
            with subtests.test(who=who, status=status, page=page), fresh_case(client):
                assessment = make_assessment(cast, household, vulnerable_persons="Toddler in the home")
                url = {
                    "household_risk": f"/safeguarding/households/{household.pk}/risk/",
                    "risk_new": f"/safeguarding/households/{household.pk}/risk/new/",
                    "risk_detail": f"/safeguarding/risk/{assessment.pk}/",
                }[page]
                client.force_login(getattr(cast, who))
                response = client.get(url)
                assert response.status_code == status
                assert (b"Marlowe family" in response.content) == (status == 200)


def test_sign_off_page_by_role(client, cast, household, subtests):
    for who, status in [("staff", 403), ("office", 403), ("other_dsl", 404), ("dsl", 302), ("principal", 302)]:
        with subtests.test(who=who, status=status), fresh_case(client):
            assessment = make_assessment(cast, household, aggressive_adult=True)
            client.force_login(getattr(cast, who))
            assert client.post(f"/safeguarding/risk/{assessment.pk}/sign-off/").status_code == status
            assessment.refresh_from_db()
            assert (assessment.signed_off_at is not None) == (status == 302)


def _post_data(review_on="2026-12-31", rows=None, **fields):
    rows = (
        rows
        if rows is not None
        else [
            {
                "hazard": "Dog in the garden",
                "people": "Staff",
                "severity": "serious",
                "likelihood": "likely",
                "controls": "Ask for the dog to be kept inside.",
            }
        ]
    )
    data = {
        "review_on": review_on,
        "rows-TOTAL_FORMS": str(len(rows)),
        "rows-INITIAL_FORMS": "0",
        "rows-MIN_NUM_FORMS": "0",
        "rows-MAX_NUM_FORMS": "1000",
    }
    for i, r in enumerate(rows):
        data.update({f"rows-{i}-{k}": v for k, v in r.items()})
    data.update(fields)
    return data


def test_form_starts_from_standard_hazards_and_saves(client, cast, household, time_machine):
    time_machine.move_to(NOON)
    client.force_login(cast.staff)
    page = client.get(f"/safeguarding/households/{household.pk}/risk/new/")
    assert b"Attack by a dog or other animal" in page.content and b"Driving" in page.content
    response = client.post(
        f"/safeguarding/households/{household.pk}/risk/new/",
        _post_data(dangerous_animals="on", animals_note="Large dog"),
    )
    assessment = RiskAssessment.objects.get()
    assert response.status_code == 302 and response.url == f"/safeguarding/risk/{assessment.pk}/"
    assert assessment.rows.get().level == "high"
    detail = client.get(response.url)
    assert b"Dangerous animals" in detail.content and b"High" in detail.content


def test_bad_form_keeps_what_was_typed_and_saves_nothing(client, cast, household, time_machine):
    time_machine.move_to(NOON)
    client.force_login(cast.staff)
    response = client.post(
        f"/safeguarding/households/{household.pk}/risk/new/",
        _post_data(review_on="2020-01-01", dangerous_animals="on", animals_note="", vulnerable_persons="Baby sister"),
    )
    assert response.status_code == 200
    assert b"The review date cannot be in the past." in response.content
    assert b"Say which animals." in response.content
    assert b"Baby sister" in response.content and b"Dog in the garden" in response.content
    assert RiskAssessment.objects.count() == 0


def test_form_needs_at_least_one_hazard(client, cast, household, time_machine):
    time_machine.move_to(NOON)
    client.force_login(cast.staff)
    response = client.post(f"/safeguarding/households/{household.pk}/risk/new/", _post_data(rows=[]))
    assert b"An assessment needs at least one hazard." in response.content
    assert RiskAssessment.objects.count() == 0


def test_viewing_an_assessment_is_audited(client, cast, household):
    assessment = make_assessment(cast, household)
    client.force_login(cast.dsl)
    client.get(f"/safeguarding/risk/{assessment.pk}/")
    assert AuditEntry.objects.filter(action="risk.view", actor=cast.dsl, object_id=str(assessment.pk)).exists()


def test_household_risk_list_query_count_does_not_grow(client, cast, household):
    sign_in(client, cast.staff)
    make_assessment(cast, household)
    with CaptureQueriesContext(connection) as one:
        client.get(f"/safeguarding/households/{household.pk}/risk/")
    for _ in range(5):
        make_assessment(cast, household, row(), row(hazard="Driving"))
    with CaptureQueriesContext(connection) as six:
        client.get(f"/safeguarding/households/{household.pk}/risk/")
    assert len(six) == len(one)


def test_saving_the_form_as_shown_skips_the_unused_spare_row(client, cast, household, time_machine):
    """What a browser posts: the five standard rows as given, plus the blank spare row for a custom hazard."""
    time_machine.move_to(NOON)
    client.force_login(cast.staff)
    url = f"/safeguarding/households/{household.pk}/risk/new/"
    form = client.get(url).context["formset"]
    data = {"review_on": "2027-01-31", **{f"rows-{k}": v for k, v in form.management_form.initial.items()}}
    for i, row_form in enumerate(form.forms):
        for name in ["hazard", "people", "severity", "likelihood", "controls"]:
            field = row_form.fields[name]
            shown = field.choices[0][0] if hasattr(field, "choices") else ""  # a select submits its first option
            data[f"rows-{i}-{name}"] = row_form.initial.get(name, shown)
    response = client.post(url, data)
    assert response.status_code == 302
    assessment = RiskAssessment.objects.get()
    assert assessment.rows.count() == 5 and {r.level for r in assessment.rows.all()} == {"low"}
