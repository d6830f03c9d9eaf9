"""Hostile input changes nothing: control characters are refused beside the field on every form, the Home Visit
Form's draft keeps what was typed, formsets are capped, and an absurdly wide CSV is refused."""

import datetime
import inspect

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

import core.forms
import safeguarding.forms
import visits.after.forms
import visits.alerts.forms
import visits.board.forms
import visits.departure.forms
import visits.field.forms
import visits.requests.forms
from core.forms import FORMSET_MAX_ROWS, RefuseControlCharacters
from safeguarding.models import Concern, ProhibitedAddress, ProhibitedAddressImport, RiskAssessment
from tests.factories import ChildFactory, HouseholdFactory, make_visit, visit_to, walk_visit
from tests.helpers import fresh_case
from tests.safeguarding.test_risk import _post_data as _risk_data
from tests.visits.after.test_reports import _form as _report_data
from tests.visits.requests.test_visit_form import _form as _request_data
from visits.models import Incident, PresentPerson, Visit, VisitReport, VisitStatus

PRODUCT_FORM_MODULES = [
    core.forms,
    safeguarding.forms,
    visits.after.forms,
    visits.alerts.forms,
    visits.board.forms,
    visits.departure.forms,
    visits.field.forms,
    visits.requests.forms,
]
# NUL (PostgreSQL cannot store it), the C0 controls that break PDFs and CSV files, DEL and a C1 control.
HOSTILE = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85"]
REFUSED = "invisible control character"
NOON = datetime.datetime(2026, 11, 2, 12, 0, tzinfo=datetime.UTC)


def test_every_product_form_refuses_control_characters_and_every_formset_is_capped():
    form_classes, formsets = set(), set()
    for module in PRODUCT_FORM_MODULES:
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, forms.BaseForm) and value.__module__.split(".")[0] != "django":
                form_classes.add(value)
            if issubclass(value, forms.BaseFormSet) and hasattr(value, "form"):
                formsets.add(value)
    assert len(form_classes) >= 25
    assert [c.__name__ for c in form_classes if not issubclass(c, RefuseControlCharacters)] == []
    assert {f.__name__ for f in formsets} == {"RiskRowFormSet", "PresentFormSet", "ActionFormSet"}
    for formset in formsets:
        assert (formset.max_num, formset.absolute_max, formset.validate_max) == (30, 30, True), formset.__name__


@pytest.mark.parametrize(
    "multiline, text, refused",
    [
        (True, "Line one\nline two\r\n\ttabbed", False),
        (False, "Plain text, accents é and emoji 🙂", False),
        (False, "A tab\there", True),
        (False, "A newline\nhere", True),
        *[(True, f"before{c}after", True) for c in HOSTILE],
    ],
)
def test_which_characters_are_refused(multiline, text, refused):
    message = core.forms.control_character_problem(text, multiline=multiline)
    assert bool(message) == refused
    if refused:
        assert "at character" in message


@pytest.fixture
def returned_visit(cast, time_machine):
    from tests.visits.after.test_reports import MONDAY_9AM

    time_machine.move_to(MONDAY_9AM, tick=False)
    visit = make_visit(lead=cast.staff, second=cast.staff2, start=MONDAY_9AM + datetime.timedelta(hours=1))
    walk_visit(visit, cast.staff, VisitStatus.OUT)
    for status, minute in [(VisitStatus.ON_SITE, 5), (VisitStatus.LEFT, 35), (VisitStatus.RETURNED, 50)]:
        time_machine.move_to(MONDAY_9AM + datetime.timedelta(hours=1, minutes=minute), tick=False)
        walk_visit(visit, cast.staff, status)
    return visit


def _form_cases(cast, visit, household, child):
    """(who, url, data, the field made hostile, the rows that must not appear)."""
    visit_to(household, lead=cast.staff)  # staff assess a household they are to visit
    when = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    return [
        ("staff", "/visits/new/", _request_data(child, cast.staff2), "reason", Visit.objects.all()),
        ("staff", "/visits/new/", _request_data(child, cast.staff2), "vehicle", Visit.objects.all()),
        (
            "staff",
            f"/safeguarding/concerns/new/?child={child.pk}",
            {"child": child.pk, "kind": "concern", "details": "Arrived hungry three days running."},
            "details",
            Concern.objects.all(),
        ),
        (
            "staff2",
            f"/safeguarding/incidents/new/?visit={visit.pk}",
            {"kind": "other", "occurred_at": when, "details": "The dog got out of the kitchen."},
            "details",
            Incident.objects.all(),
        ),
        (
            "dsl",
            "/safeguarding/prohibited/add/",
            {"address_line1": "9 Kite Lane", "postcode": "EB1 1AA", "school": cast.school.pk, "note": "LA ref 12"},
            "address_line1",
            ProhibitedAddress.objects.all(),
        ),
        (
            "staff",
            f"/safeguarding/households/{household.pk}/risk/new/",
            _risk_data(),
            "rows-0-hazard",
            RiskAssessment.objects.all(),
        ),
    ]


def test_control_characters_are_refused_beside_the_field_on_every_kind_of_form(
    client, cast, returned_visit, time_machine, subtests
):
    household = HouseholdFactory(school=cast.school, name="Marlowe family", postcode="EB1 4QT")
    child = ChildFactory(household__school=cast.school, first_name="Juniper")
    for who, url, data, field, rows in _form_cases(cast, returned_visit, household, child):
        for char in HOSTILE:
            with subtests.test(url=url, field=field, char=repr(char)), fresh_case(client):
                if "risk" in url:
                    time_machine.move_to(NOON)
                client.force_login(getattr(cast, who))
                before = rows.count()
                typed = {**data, field: f"Typed text{char} with more after"}
                response = client.post(url, typed)
                assert response.status_code == 200
                bound = response.context["form"] if "rows-" not in field else response.context["formset"].forms[0]
                name = field.rsplit("-", 1)[-1]
                assert any(REFUSED in e for e in bound.errors[name])
                page = response.content.decode()
                assert f'id="error_1_id_{field}"' in page and "with more after" in page  # what was typed stays
                assert rows.count() == before


def test_a_valid_post_of_each_form_still_saves(client, cast, returned_visit, time_machine, subtests):
    """The refusals above are about the character, not the form: the same posts without it are accepted."""
    household = HouseholdFactory(school=cast.school, name="Marlowe family", postcode="EB1 4QT")
    child = ChildFactory(household__school=cast.school, first_name="Juniper")
    for who, url, data, field, rows in _form_cases(cast, returned_visit, household, child):
        with subtests.test(url=url, field=field), fresh_case(client):
            if "risk" in url:
                time_machine.move_to(NOON)
            client.force_login(getattr(cast, who))
            before = rows.count()
            text = "Line one\nline two" if field in {"reason", "details"} else "Typed text"
            response = client.post(url, {**data, field: text})
            assert response.status_code == 302 and rows.count() == before + 1


def test_home_visit_form_submit_refuses_nul_and_the_draft_keeps_the_rest(client, cast, returned_visit):
    client.force_login(cast.staff)
    url = f"/visits/{returned_visit.pk}/report/"
    data = _report_data(cast, parent_summary="We agreed\x00 a new bedtime", internal_notes="Kitchen was bare today.")
    response = client.post(url, data)
    assert response.status_code == 200
    assert any(REFUSED in e for e in response.context["form"].errors["parent_summary"])
    page = response.content.decode()
    assert 'id="error_1_id_parent_summary"' in page and "Kitchen was bare today." in page
    returned_visit.refresh_from_db()
    assert returned_visit.status == VisitStatus.RETURNED and not PresentPerson.objects.exists()
    draft = VisitReport.objects.get().draft
    assert draft["internal_notes"] == ["Kitchen was bare today."] and draft["present-0-name"] == ["Rowan Pellingham"]
    assert "parent_summary" not in draft  # nothing was saved before for it, and the refused text cannot be


def test_home_visit_form_autosave_answers_beside_the_field_and_keeps_the_last_good_text(client, cast, returned_visit):
    client.force_login(cast.staff)
    url = f"/visits/{returned_visit.pk}/report/autosave/"
    assert client.post(url, _report_data(cast, parent_summary="First good summary", action="")).status_code == 200
    hostile = _report_data(
        cast, parent_summary="Second\x00 summary", internal_notes="Notes typed later", action="", **{"\x00key": "x"}
    )
    hostile["present-0-name"] = "Rowan\x1b Pellingham"
    response = client.post(url, hostile)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Draft saved at" in body and "except what the message beside a field is about" in body
    assert '<div id="autosave-parent_summary" class="invalid-feedback d-block" hx-swap-oob="true">This' in body
    assert '<div id="autosave-present-0-name" class="invalid-feedback d-block" hx-swap-oob="true">This' in body
    assert '<div id="autosave-internal_notes" class="invalid-feedback d-block" hx-swap-oob="true"></div>' in body
    draft = VisitReport.objects.get().draft
    assert draft["parent_summary"] == ["First good summary"]  # the last text that could be kept
    assert draft["internal_notes"] == ["Notes typed later"]  # the rest of what was typed is kept
    assert "\x00key" not in draft and "present-0-name" in draft and "\x1b" not in draft["present-0-name"][0]
    page = client.get(f"/visits/{returned_visit.pk}/report/").content.decode()
    assert "First good summary" in page and "Notes typed later" in page and 'id="autosave-parent_summary"' in page
    # Once fixed, the next autosave keeps it and clears the message.
    response = client.post(url, _report_data(cast, parent_summary="Second summary", action=""))
    assert '<div id="autosave-parent_summary" class="invalid-feedback d-block" hx-swap-oob="true"></div>' in (
        response.content.decode()
    )
    assert VisitReport.objects.get().draft["parent_summary"] == ["Second summary"]


def test_home_visit_form_save_draft_with_a_refused_field_stays_on_the_page(client, cast, returned_visit):
    client.force_login(cast.staff)
    data = _report_data(cast, referrals="Early help\x07 team", outcome="", action="draft")
    response = client.post(f"/visits/{returned_visit.pk}/report/", data)
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["referrals"]  # a draft need not be complete: only the refusal is shown
    assert "The draft is saved, except the field marked below." in response.content.decode()
    draft = VisitReport.objects.get().draft
    assert "referrals" not in draft and draft["parent_summary"] == ["We agreed a new bedtime so mornings are calmer."]


def _rows(prefix, count, row, filled=100):
    """A formset post claiming `count` rows, the first `filled` of them typed in (Django refuses a post with more
    than a thousand fields on its own, but not one that only claims many rows)."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(count),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i in range(min(count, filled)):
        data.update({f"{prefix}-{i}-{k}": v for k, v in row.items()})
    return data


def test_a_home_visit_form_with_2000_rows_is_refused_and_saves_nothing(client, cast, returned_visit):
    client.force_login(cast.staff)
    data = _report_data(cast)
    data.update(_rows("present", 2000, {"name": "Someone", "relationship": "aunt"}))
    response = client.post(f"/visits/{returned_visit.pk}/report/", data)
    assert response.status_code == 200
    assert f"At most {FORMSET_MAX_ROWS} rows can be saved at once." in response.content.decode()
    assert len(response.context["present"].forms) <= FORMSET_MAX_ROWS  # the rest were never built
    returned_visit.refresh_from_db()
    assert returned_visit.status == VisitStatus.RETURNED and not PresentPerson.objects.exists()


def test_a_risk_assessment_with_2000_rows_is_refused_and_saves_nothing(client, cast, time_machine):
    time_machine.move_to(NOON)
    household = HouseholdFactory(school=cast.school)
    visit_to(household, lead=cast.staff)
    client.force_login(cast.staff)
    row = {"hazard": "Dog", "people": "Staff", "severity": "serious", "likelihood": "likely", "controls": "Ask"}
    data = _risk_data(rows=[])
    data.update(_rows("rows", 2000, row))
    response = client.post(f"/safeguarding/households/{household.pk}/risk/new/", data)
    assert response.status_code == 200
    assert f"At most {FORMSET_MAX_ROWS} rows can be saved at once." in response.content.decode()
    assert not RiskAssessment.objects.exists()
    # Thirty rows are still fine.
    data = _risk_data(rows=[])
    data.update(_rows("rows", FORMSET_MAX_ROWS, row))
    response = client.post(f"/safeguarding/households/{household.pk}/risk/new/", data)
    assert response.status_code == 302 and RiskAssessment.objects.get().rows.count() == FORMSET_MAX_ROWS


def test_a_csv_with_100000_header_names_is_refused_before_any_other_check(client, cast):
    client.force_login(cast.dsl)
    header = ",".join(f"column_{i}" for i in range(100_000))
    upload = SimpleUploadedFile("wide.csv", f"{header}\n1 Ash Road,EB1 1AA\n".encode(), content_type="text/csv")
    response = client.post("/safeguarding/prohibited/import/", {"file": upload})
    assert response.status_code == 200
    page = response.content.decode()
    assert "The header row has 100000 columns; a list has at most 100." in page
    assert "column_99999" not in page  # refused on its width, not listed name by name
    assert not ProhibitedAddressImport.objects.exists()
    # A hundred columns is still read (and refused for its unknown names, as before).
    header = ",".join(["address_line1", "postcode", *(f"extra_{i}" for i in range(98))])
    upload = SimpleUploadedFile("ok.csv", f"{header}\n1 Ash Road,EB1 1AA\n".encode(), content_type="text/csv")
    response = client.post("/safeguarding/prohibited/import/", {"file": upload})
    assert response.status_code == 200 and "unknown column(s): extra_0" in response.content.decode()


def test_the_child_search_takes_any_text_without_an_error(client, cast):
    ChildFactory(household__school=cast.school, first_name="Juniper")
    client.force_login(cast.staff)
    for query, children, found in [
        ("Jun\x00", [], True),
        ("\x00", [], False),
        ("Jun", ["²", "9" * 30, "x"], True),
        ("Ju\x1bniper", [], True),  # the stray character is left out of the search
        ("Jux\x00", [], False),
    ]:
        response = client.get("/visits/children/search/", {"q": query, "children": children})
        assert response.status_code == 200
        assert ("Juniper" in response.content.decode()) == found, query
    data = _request_data(ChildFactory(household__school=cast.school), cast.staff2, reason="", q="\x00Jun")
    response = client.post("/visits/new/", data)
    assert response.status_code == 200 and not Visit.objects.exists()


def test_hostile_query_parameters_on_the_form_pages_are_not_found_not_an_error(client, cast, subtests):
    client.force_login(cast.staff)
    for url in ["/safeguarding/concerns/new/", "/safeguarding/incidents/new/"]:
        for param in ["visit", "child"]:
            for value in ["\x00", "1\x00", "9" * 30, "-1", "²", "x"]:
                with subtests.test(url=url, param=param, value=value):
                    assert client.get(url, {param: value}).status_code in {200, 404}
