"""A fuzz of the product's forms on PostgreSQL: from a valid post, hypothesis changes, drops or adds fields with
hostile values (control characters, huge text, impossible dates and numbers, lists where one value is expected,
unknown keys). Whatever it sends, no form answers with a server error, and a post that is not accepted saves
nothing: the record, its rows and the audit trail are as they were. Each example runs in its own savepoint.

The examples are derandomised (the same every run, so CI never flakes) and few; `-m "not fuzz"` leaves them out.
"""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.forms import control_character_problem
from core.models import AuditEntry
from safeguarding.models import Concern, ProhibitedAddress, RiskAssessment, RiskRow
from tests.factories import ChildFactory, HouseholdFactory
from tests.helpers import fresh_case
from tests.visits import test_hostile_input as hostile
from tests.visits.after.test_reports import _form as _report_data
from visits.models import FollowUpAction, Incident, PresentPerson, Visit, VisitPerson, VisitReport

pytestmark = pytest.mark.fuzz
returned_visit = hostile.returned_visit  # the same fixture: a visit back at school, its form not yet written

FUZZ = settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ODD = [
    "",
    " ",
    "0",
    "-1",
    "2000",
    "1e309",
    "99999999999999999999999",
    "2026-02-30",
    "2026-12-01T25:61",
    "31/12/9999",
    "none",
    "on",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\x00",
    "a\x00b",
    "\u202e\u200b",
    "x" * 5000,
]
VALUES = st.one_of(
    st.sampled_from(ODD),
    st.text(max_size=30),
    st.text(alphabet=st.characters(max_codepoint=0xA0), max_size=15),  # ASCII, C0 and C1 controls, DEL
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
EXTRA_KEYS = ["\x00", "q", "action", "csrfmiddlewaretoken", "pk", "school", "child", "children", "rows-TOTAL_FORMS"]
WATCHED = [Visit, VisitPerson, Concern, Incident, ProhibitedAddress, RiskAssessment, RiskRow, PresentPerson]
WATCHED += [FollowUpAction, AuditEntry]


def _counts():
    counts = {model.__name__: model.objects.count() for model in WATCHED}
    # Reading a page may be audited; a refused post changes nothing else.
    reads = AuditEntry.objects.filter(Q(action__endswith="view") | Q(action="prohibited.check"))
    counts["AuditEntry"] = AuditEntry.objects.count() - reads.count()
    counts["submitted reports"] = VisitReport.objects.filter(submitted_at__isnull=False).count()
    counts["visit statuses"] = sorted(Visit.objects.values_list("pk", "status"))
    counts["open concerns"] = Concern.objects.filter(closed_at__isnull=True).count()
    counts["open actions"] = FollowUpAction.objects.filter(completed_at__isnull=True).count()
    counts["live addresses"] = ProhibitedAddress.objects.filter(expired_at__isnull=True).count()
    return counts


def _mutations(keys):
    return st.lists(
        st.tuples(st.sampled_from([*keys, *EXTRA_KEYS]), st.one_of(st.none(), VALUES, st.lists(VALUES, max_size=3))),
        min_size=1,
        max_size=4,
    )


def _mutated(data, mutations):
    post = dict(data)
    for key, value in mutations:
        if value is None:
            post.pop(key, None)
        else:
            post[key] = value
    return post


def _case_names():
    return ["request", "request single-line", "concern", "incident", "prohibited address", "risk assessment"]


@pytest.mark.parametrize("name", _case_names())
@FUZZ
@given(data=st.data())
def test_no_form_answers_a_hostile_post_with_an_error_or_saves_half_of_it(
    name, data, client, cast, returned_visit, time_machine
):
    with fresh_case(client):
        household = HouseholdFactory(school=cast.school, name="Marlowe family", postcode="EB1 4QT")
        child = ChildFactory(household__school=cast.school, first_name="Juniper")
        cases = hostile._form_cases(cast, returned_visit, household, child)
        who, url, valid, _field, rows = cases[_case_names().index(name)]
        post = _mutated(valid, data.draw(_mutations(list(valid))))
        if name == "risk assessment":
            time_machine.move_to(hostile.NOON)
        client.force_login(getattr(cast, who))
        before, main_before = _counts(), rows.count()
        response = client.post(url, post)  # a server error raises here
        assert response.status_code in {200, 302, 400, 403, 404}
        if response.status_code == 302:
            assert rows.count() == main_before + 1  # accepted: saved whole
        else:
            assert _counts() == before  # refused: nothing saved, nothing audited


@FUZZ
@given(data=st.data())
def test_the_home_visit_form_and_its_autosave_never_fail_and_the_draft_is_always_storable(
    data, client, cast, returned_visit
):
    valid = _report_data(cast)
    post = _mutated(valid, data.draw(_mutations(list(valid))))
    autosave = data.draw(st.booleans())
    url = f"/visits/{returned_visit.pk}/report/" + ("autosave/" if autosave else "")
    with fresh_case(client):
        client.force_login(cast.staff)
        before = _counts()
        response = client.post(url, post)
        assert response.status_code in {200, 302}
        report = VisitReport.objects.filter(visit=returned_visit).first()
        submitted = response.status_code == 302 and post.get("action") != "draft"
        if submitted and report and report.submitted_at:
            assert PresentPerson.objects.filter(report=report).count() >= (report.outcome == "seen")
        else:
            assert _counts() == before  # only the draft changed
            for key, values in (report.draft if report else {}).items():
                assert not control_character_problem([key, *values], multiline=True)
                assert key in valid or key.split("-")[0] in {"present", "action"}


def test_the_draft_service_refuses_what_postgresql_could_not_store(cast, returned_visit):
    from visits.after.services import report_save_draft

    with pytest.raises(ValidationError):
        report_save_draft(visit=returned_visit, actor=cast.staff, data={"parent_summary": ["a\x00b"]})
    assert not VisitReport.objects.filter(draft__has_key="parent_summary").exists()


def _other_form_views(cast):
    """(who, url, form class) for the product's other form posts, each on a record in the state it needs (built
    once per test: each example runs in a savepoint)."""
    from safeguarding.forms import ConcernCloseForm, ExpireForm, JudgementForm, TrainingRecordForm
    from safeguarding.services import concern_raise, prohibited_address_add
    from tests.factories import make_reported_visit, make_visit, tomorrow_at, walk_visit
    from visits.after.forms import ActionCompleteForm, ActionForm, DebriefForm, ReviewForm
    from visits.departure.forms import SafeWordForm
    from visits.field.forms import ExtendForm
    from visits.requests.forms import CancelForm, DecisionForm, ParentNotificationForm, VisitRequestForm

    # Each at its own hour, so the pair is never booked twice.
    draft = make_visit(lead=cast.staff, second=cast.staff2, start=tomorrow_at(9))
    requested = make_visit(lead=cast.staff, second=cast.staff2, start=tomorrow_at(10))
    walk_visit(requested, cast.staff, "requested")
    authorised = make_visit(lead=cast.staff, second=cast.staff2, start=tomorrow_at(11))
    walk_visit(authorised, cast.staff, "authorised")
    out = make_visit(lead=cast.staff, second=cast.staff2, start=tomorrow_at(13))
    walk_visit(out, cast.staff, "on_site")
    due = timezone.localdate() + datetime.timedelta(days=7)
    reported = make_reported_visit(
        lead=cast.staff,
        visit_fields={"start": tomorrow_at(14)},
        actions=[{"description": "Phone mum", "owner": cast.staff, "due_on": due, "agreed_with_family": False}],
    )
    action = FollowUpAction.objects.get(visit=reported)
    concern = concern_raise(child=draft.children.get(), raised_by=cast.staff, details="Arrived hungry.")
    entry = prohibited_address_add(
        actor=cast.dsl, trust=cast.school.trust, school=cast.school, address_line1="9 Kite Lane", postcode="EB1 1AA"
    )
    views = [
        ("staff", f"/visits/{draft.pk}/edit/", VisitRequestForm),
        ("dsl", f"/approvals/{requested.pk}/", DecisionForm),
        ("staff", f"/visits/{requested.pk}/cancel/", CancelForm),
        ("staff", f"/visits/{authorised.pk}/parents/", ParentNotificationForm),
        ("staff", f"/visits/{authorised.pk}/safe-word/", SafeWordForm),
        ("staff", f"/visits/{out.pk}/field/", ExtendForm),
        ("staff", f"/visits/{reported.pk}/report/debrief/", DebriefForm),
        ("dsl", f"/visits/{reported.pk}/report/review/", ReviewForm),
        ("dsl", f"/safeguarding/concerns/{concern.pk}/close/", ConcernCloseForm),
        ("dsl", f"/safeguarding/concerns/{concern.pk}/actions/", ActionForm),
        ("dsl", f"/safeguarding/prohibited/{entry.pk}/expire/", ExpireForm),
        ("dsl", f"/safeguarding/households/{draft.household.pk}/address-check/", JudgementForm),
        ("dsl", "/safeguarding/training/add/", TrainingRecordForm),
    ]
    views.append(("staff", f"/visits/actions/{action.pk}/complete/", ActionCompleteForm))
    return views


@pytest.fixture
def other_views(cast):
    return _other_form_views(cast)


@settings(FUZZ, max_examples=50)  # fourteen forms share these
@given(data=st.data())
def test_every_other_form_post_answers_without_an_error_and_a_refusal_changes_nothing(data, client, cast, other_views):
    with fresh_case(client):
        who, url, form_class = data.draw(st.sampled_from(other_views))
        keys = [*form_class.base_fields, "kind", "decision", "note"]
        post = dict(data.draw(st.lists(st.tuples(st.sampled_from([*keys, *EXTRA_KEYS]), VALUES), max_size=6)))
        client.force_login(getattr(cast, who))
        before = _counts()
        response = client.post(url, post)  # a server error raises here
        assert response.status_code in {200, 302, 400, 403, 404, 409}, url
        if response.status_code == 200:
            assert _counts() == before, url  # the form came back with its messages: nothing changed
