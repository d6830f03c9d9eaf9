"""Need to know for families (families/access.py): staff see a household, its children and its risk assessments
only while they are on, or requesting, an open visit there; the office sees a safe word only for a visit out
today; and every view of a family's personal data leaves one audit entry."""

import datetime
import zoneinfo

import pytest
from django.db import connection
from django.db.models import Max
from django.test.utils import CaptureQueriesContext

from core.models import AuditEntry
from families.access import may_see_family, visible_children, visible_households
from safeguarding.services import RiskRowInput, risk_assessment_create
from tests.factories import ChildFactory, HouseholdFactory, make_visit, sign_in, walk_visit
from tests.helpers import fresh_case
from visits.departure.services import safe_word_set
from visits.models import VisitStatus
from visits.requests.services import visit_cancel

LONDON = zoneinfo.ZoneInfo("Europe/London")
MONDAY_9AM = datetime.datetime(2026, 10, 12, 9, 0, tzinfo=LONDON)
MARKER = "Marlowe-Quillfeather"  # the carer's surname: only on the household page


def _family(cast):
    """A household with a child, a carer and a risk assessment, and no visit yet."""
    household = HouseholdFactory(
        school=cast.school, name="Quill family", address_line1="7 Heron Row", postcode="EB1 4QT"
    )
    household.carers.create(first_name="Ada", last_name=MARKER, relationship="mother")
    child = ChildFactory(
        household=household, first_name="Juniper", last_name="Quill", date_of_birth=datetime.date(2017, 3, 14)
    )
    assessment = risk_assessment_create(
        household=household,
        actor=cast.dsl,
        rows=[RiskRowInput(hazard="Loose dog", people="Staff", severity="major", likelihood="remote", controls="x")],
        vulnerable_persons="Toddler in the home",
    )
    return household, child, assessment


@pytest.fixture
def family(cast):
    return _family(cast)


def _urls(household, child, assessment):
    return {
        "household": f"/visits/households/{household.pk}/",
        "child": f"/visits/children/{child.pk}/",
        "chronology": f"/visits/children/{child.pk}/chronology/",
        "risk list": f"/safeguarding/households/{household.pk}/risk/",
        "risk": f"/safeguarding/risk/{assessment.pk}/",
        "new risk": f"/safeguarding/households/{household.pk}/risk/new/",
        "address check": f"/safeguarding/households/{household.pk}/address-check/",
    }


def _statuses(client, user, urls):
    client.force_login(user)
    return {name: client.get(url).status_code for name, url in urls.items()}


def test_staff_on_no_visit_there_get_a_404_with_words_in_the_sites_layout(client, cast, family):
    urls = _urls(*family)
    for who in ["staff", "office", "trust_admin", "other_staff", "other_dsl"]:
        assert set(_statuses(client, getattr(cast, who), urls).values()) == {404}, who
    client.force_login(cast.staff)
    response = client.get(urls["household"])
    page = response.content.decode()
    assert "ask your DSL" in page and 'class="navbar' in page  # the site's own page, with words
    assert MARKER not in page and "7 Heron Row" not in page


def test_dsl_and_principal_see_every_family_of_their_school(client, cast, family):
    urls = _urls(*family)
    for who in ["dsl", "principal"]:
        assert set(_statuses(client, getattr(cast, who), urls).values()) == {200}, who


def test_lead_second_and_requester_of_an_open_visit_see_the_family(client, cast, family):
    household, child, assessment = family
    # staff2 requests a visit that staff leads with outsider as second: all three now need to know.
    make_visit(lead=cast.staff, second=cast.outsider, requested_by=cast.staff2, child=child)
    urls = _urls(household, child, assessment)
    for who in ["staff", "outsider", "staff2"]:
        with fresh_case(client):
            assert set(_statuses(client, getattr(cast, who), urls).values()) == {200}, who
    client.force_login(cast.staff)
    page = client.get(urls["household"]).content.decode()
    assert MARKER in page and "7 Heron Row" in page
    assert "14 March 2017" in client.get(urls["child"]).content.decode()
    # The visit opens the whole household: a brother not on the visit too.
    brother = ChildFactory(household=household, first_name="Rowan")
    assert client.get(f"/visits/children/{brother.pk}/").status_code == 200


def test_a_cancelled_visit_opens_nothing(client, cast, family):
    household, child, assessment = family
    visit = make_visit(lead=cast.staff, child=child)
    visit_cancel(visit=visit, actor=cast.staff, reason="The family moved the appointment.")
    assert set(_statuses(client, cast.staff, _urls(*family)).values()) == {404}
    assert not may_see_family(cast.staff, household)


def test_once_the_visit_is_reviewed_the_pair_no_longer_see_the_family(client, cast, time_machine):
    time_machine.move_to(MONDAY_9AM, tick=False)
    family = _family(cast)
    household, child, assessment = family
    visit = make_visit(lead=cast.staff, second=cast.staff2, child=child, start=MONDAY_9AM + datetime.timedelta(hours=1))
    walk_visit(visit, cast.staff, VisitStatus.OUT)
    for status, minute in [(VisitStatus.ON_SITE, 5), (VisitStatus.LEFT, 35), (VisitStatus.RETURNED, 50)]:
        time_machine.move_to(MONDAY_9AM + datetime.timedelta(hours=1, minutes=minute), tick=False)
        walk_visit(visit, cast.staff, status)
    urls = _urls(*family)
    # Back at school, the Home Visit Form still to write: the lead still needs the family's details.
    assert set(_statuses(client, cast.staff, urls).values()) == {200}
    walk_visit(visit, cast.staff, VisitStatus.REVIEWED)
    for who in ["staff", "staff2"]:
        with fresh_case(client):
            assert set(_statuses(client, getattr(cast, who), urls).values()) == {404}, who
    # The visit's own page stays theirs, without the family's address.
    client.force_login(cast.staff)
    page = client.get(f"/visits/{visit.pk}/").content.decode()
    assert "Quill family" in page and "7 Heron Row" not in page and "ask your DSL" in page


def test_the_key_worker_sees_their_childs_page_only(client, cast, family):
    household, child, assessment = family
    child.key_worker = cast.outsider
    child.save()
    statuses = _statuses(client, cast.outsider, _urls(*family))
    assert (statuses["child"], statuses["chronology"]) == (200, 200)
    assert {statuses[k] for k in ["household", "risk list", "risk", "new risk", "address check"]} == {404}


def test_lists_and_the_predicate_agree(cast, family):
    household, child, assessment = family
    other = ChildFactory(household__school=cast.school)
    make_visit(lead=cast.staff, child=other)
    assert list(visible_households(cast.staff)) == [other.household]
    assert list(visible_children(cast.staff)) == [other]
    assert set(visible_households(cast.dsl)) == {household, other.household}
    assert not visible_households(cast.office).exists() and not visible_children(cast.trust_admin).exists()
    for h in [household, other.household]:
        assert may_see_family(cast.staff, h) == (h in visible_households(cast.staff))


def test_the_picker_shows_name_and_year_group_only(client, cast, family):
    household, child, assessment = family
    child.key_worker = cast.staff2
    child.save()
    client.force_login(cast.staff)  # on no visit there: they may still start a request for the child
    for url in ["/visits/children/search/?q=Juniper", "/visits/new/?q=Juniper"]:
        page = client.get(url).content.decode()
        assert "Juniper Quill" in page and "Year 3" in page, url
        for private in ["2017-03-14", "14 March 2017", "14/03/2017", "7 Heron Row", "EB1 4QT", MARKER]:
            assert private not in page, (url, private)
    # The options themselves do not name the key worker (the second-visitor list on the form names colleagues).
    options = client.get("/visits/children/search/?q=Juniper").content.decode()
    assert cast.staff2.get_full_name() not in options and cast.staff2.username not in options


# --- Every view of personal data leaves one audit entry --------------------------------------------------------


def _last_entry_id() -> int:
    """The trail cannot be emptied between cases (it is append-only): each case counts what came after this."""
    return AuditEntry.objects.aggregate(last=Max("id"))["last"] or 0


def _one_entry(action, actor, obj=None, *, since=0):
    entries = AuditEntry.objects.filter(action=action, actor=actor, id__gt=since)
    assert entries.count() == 1, (action, list(entries.values_list("summary", flat=True)))
    entry = entries.get()
    if obj is not None:
        assert (entry.object_type, entry.object_id) == (obj._meta.label_lower, str(obj.pk))
    return entry


def test_each_family_page_leaves_one_audit_entry(client, cast, family, subtests):
    household, child, assessment = family
    urls = _urls(household, child, assessment)
    for name, action, obj in [
        ("household", "household.view", household),
        ("child", "child.view", child),
        ("chronology", "chronology.view", child),
        ("risk list", "risk.list", household),
        ("risk", "risk.view", assessment),
        ("new risk", "risk.view", assessment),  # the new form starts from the last assessment's answers
        ("address check", "prohibited.check", household),
    ]:
        with subtests.test(page=name), fresh_case(client):
            since = _last_entry_id()
            client.force_login(cast.dsl)
            assert client.get(urls[name]).status_code == 200
            entry = _one_entry(action, cast.dsl, obj, since=since)
            assert entry.school == cast.school


def test_a_refused_view_leaves_no_audit_entry(client, cast, family):
    client.force_login(cast.staff)
    for url in _urls(*family).values():
        assert client.get(url).status_code == 404
    assert not AuditEntry.objects.filter(actor=cast.staff).exclude(action__startswith="signin.").exists()


def test_the_visit_edit_form_and_the_lists_leave_one_entry_each(client, cast, family, subtests):
    household, child, assessment = family
    visit = make_visit(lead=cast.staff, child=child)
    for who, url, action, obj in [
        ("staff", f"/visits/{visit.pk}/edit/", "visit.view", visit),
        ("staff", "/visits/", "visit.list", None),
        ("staff", "/visits/search/", "visit.list", None),
        ("dsl", "/approvals/", "visit.list", None),
        ("office", "/board/timetable/", "visit.list", None),
    ]:
        with subtests.test(url=url), fresh_case(client):
            since = _last_entry_id()
            user = getattr(cast, who)
            client.force_login(user)
            assert client.get(url).status_code == 200
            entry = _one_entry(action, user, obj, since=since)
            if action == "visit.list":
                assert "shown)" in entry.summary and isinstance(entry.details["object_ids"], list)
    since = _last_entry_id()
    client.force_login(cast.staff)
    client.get("/visits/")
    assert _one_entry("visit.list", cast.staff, since=since).details["object_ids"] == [visit.pk]


def test_the_csv_export_leaves_one_entry(client, cast, family):
    make_visit(lead=cast.staff, child=family[1])
    client.force_login(cast.dsl)
    response = client.get("/visits/search/?format=csv")
    b"".join(response.streaming_content)
    _one_entry("visit.export", cast.dsl)


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_list_audit_and_address_masking_add_no_query_per_row(client, cast):
    sign_in(client, cast.staff)
    for _ in range(3):
        make_visit(lead=cast.staff)
    few = {url: _queries(client, url) for url in ["/visits/", "/visits/search/"]}
    for _ in range(12):
        make_visit(lead=cast.staff)
    many = {url: _queries(client, url) for url in ["/visits/", "/visits/search/"]}
    assert few == many


def test_household_page_query_count_does_not_grow_with_visits(client, cast, family):
    household, child, assessment = family
    make_visit(lead=cast.staff, child=child)
    sign_in(client, cast.staff)
    url = f"/visits/households/{household.pk}/"
    few = _queries(client, url)
    for _ in range(8):
        make_visit(lead=cast.staff, child=ChildFactory(household=household))
    assert _queries(client, url) == few


# --- The office's safe word ----------------------------------------------------------------------------------

WORD = "Periwinkle lighthouse"


def _office_sees_word(client, cast, visit) -> bool:
    client.force_login(cast.office)
    response = client.get(f"/safeguarding/visits/{visit.pk}/safe-word/")
    assert response.status_code in (200, 404)
    return response.status_code == 200 and WORD in response.content.decode()


def test_the_office_sees_the_safe_word_only_while_the_visit_is_out_today(client, cast, time_machine):
    time_machine.move_to(MONDAY_9AM, tick=False)
    family = _family(cast)
    household, child, assessment = family
    visit = make_visit(lead=cast.staff, second=cast.staff2, child=child, start=MONDAY_9AM + datetime.timedelta(hours=1))
    walk_visit(visit, cast.staff, VisitStatus.AUTHORISED)
    safe_word_set(visit=visit, word=WORD, actor=cast.staff)
    assert not _office_sees_word(client, cast, visit)  # planned for today, not yet out
    time_machine.move_to(MONDAY_9AM + datetime.timedelta(minutes=55), tick=False)
    walk_visit(visit, cast.staff, VisitStatus.OUT)
    assert _office_sees_word(client, cast, visit)
    _one_entry("safe_word.view", cast.office)
    # Still out the next morning: another day, so the office no longer sees it (the DSLs still do).
    time_machine.move_to(MONDAY_9AM + datetime.timedelta(days=1), tick=False)
    assert not _office_sees_word(client, cast, visit)
    client.force_login(cast.dsl)
    assert WORD in client.get(f"/safeguarding/visits/{visit.pk}/safe-word/").content.decode()


def test_the_office_does_not_see_the_safe_word_once_the_pair_are_back(client, cast, time_machine):
    time_machine.move_to(MONDAY_9AM, tick=False)
    family = _family(cast)
    household, child, assessment = family
    visit = make_visit(lead=cast.staff, second=cast.staff2, child=child, start=MONDAY_9AM + datetime.timedelta(hours=1))
    walk_visit(visit, cast.staff, VisitStatus.AUTHORISED)
    safe_word_set(visit=visit, word=WORD, actor=cast.staff)
    walk_visit(visit, cast.staff, VisitStatus.OUT)
    assert _office_sees_word(client, cast, visit)
    for status, minute in [(VisitStatus.ON_SITE, 5), (VisitStatus.LEFT, 35), (VisitStatus.RETURNED, 50)]:
        time_machine.move_to(MONDAY_9AM + datetime.timedelta(hours=1, minutes=minute), tick=False)
        walk_visit(visit, cast.staff, status)
    assert not _office_sees_word(client, cast, visit)
    client.force_login(cast.staff)
    assert WORD in client.get(f"/safeguarding/visits/{visit.pk}/safe-word/").content.decode()
