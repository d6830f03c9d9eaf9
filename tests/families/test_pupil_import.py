"""The MIS import: a realistic export in every preset layout, re-imports that change, move and remove pupils, the
preview's need to know, and every bad file refused with a message and nothing saved."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from core.models import AuditEntry, PendingImport
from families.imports.services import pupil_import_confirm, pupil_import_discard, pupil_import_prepare
from families.models import Child, Household, ParentCarer
from tests.families import mis_exports
from visits.models import Visit

PRESETS = ["sims", "arbor", "bromcom", "scholarpack", "template"]


def _upload(content: bytes, name="export.csv"):
    return SimpleUploadedFile(name, content)


def _prepare(cast, content, actor=None, name="export.csv", **kwargs):
    return pupil_import_prepare(upload=_upload(content, name), school=cast.school, actor=actor or cast.dsl, **kwargs)


@pytest.fixture(scope="module")
def roll():
    return mis_exports.school()


def test_the_factory_makes_about_400_pupils_and_700_carers(roll):
    carers = {id(c) for p in roll for c in p.home.carers}
    assert len(roll) == 400 and 650 <= len(carers) <= 750


@pytest.mark.parametrize("preset", PRESETS)
def test_a_whole_school_imports_from_each_layout(cast, roll, preset):
    name = "export.xlsx" if preset == "arbor" else "export.csv"
    data = mis_exports.table(roll, preset)
    content = mis_exports.as_xlsx(data) if name.endswith("xlsx") else mis_exports.as_csv(data)
    pending = _prepare(cast, content, name=name)
    assert pending.layout == preset
    counts = pending.preview["counts"]
    assert (counts["new"], counts["changed"], counts["left"], counts["errors"]) == (400, 0, 0, 0), pending.preview
    assert pupil_import_confirm(pending=pending, actor=cast.dsl)["new"] == 400
    homes = {id(p.home) for p in roll}
    assert Child.objects.filter(school=cast.school).count() == 400
    assert Household.objects.filter(school=cast.school).count() == len(homes)
    assert ParentCarer.objects.filter(household__school=cast.school).count() == len(
        {id(c) for p in roll for c in p.home.carers}
    )
    assert not PendingImport.objects.exists()
    entry = AuditEntry.objects.get(action="pupils.import")
    assert "400 new" in entry.summary
    # Carers come in as the MIS holds them: their own title and surname, not the child's.
    carer = roll[0].home.carers[1]
    saved = ParentCarer.objects.get(email=carer.email)
    assert (saved.title, saved.last_name, saved.relationship) == (carer.title, carer.last_name, carer.relationship)
    # The same file again changes nothing.
    again = _prepare(cast, content, name=name)
    assert again.preview["counts"]["unchanged"] == 400 and again.preview["counts"]["left"] == 0


def _first_import(cast, roll):
    pending = _prepare(cast, mis_exports.as_csv(mis_exports.table(roll, "template")))
    pupil_import_confirm(pending=pending, actor=cast.dsl)


def _with_siblings(roll):
    return next(p for p in roll if sum(1 for q in roll if q.home is p.home) == 2)


def test_a_re_import_is_a_sync(cast, roll):
    """Year groups, a carer's number, a family moving, a sibling moving house alone, leavers and a newcomer."""
    _first_import(cast, roll)
    rows = list(roll)
    older = _with_siblings(rows)
    younger = next(p for p in rows if p.home is older.home and p is not older)
    old_home_pk = Child.objects.get(upn=older.upn).household_id
    movers = next(p for p in rows if sum(1 for q in rows if q.home is p.home) == 1 and p.home.carers)
    mover_home_pk = Child.objects.get(upn=movers.upn).household_id
    leavers = [p for p in rows if p not in (older, younger, movers)][-3:]
    rows = [p for p in rows if p not in leavers]
    promoted = next(p for p in rows if p not in (older, younger, movers))
    newcomer = mis_exports.PupilRow(
        upn=mis_exports.make_upn(999),
        mis_id="9999",
        first_name="Nell",
        last_name="Brackwell",
        date_of_birth=datetime.date(2016, 5, 1),
        year="Year 2",
        home=younger.home,  # joins the siblings' household
    )
    rows.append(newcomer)
    new_home = mis_exports.Home(number="7", street="Rook Lane", town="Eastbridge", postcode="EB9 9ZZ", phone="")
    new_home.carers = [younger.home.carers[0]]

    def override(pupil, carer):
        if pupil is promoted:
            return {"year_group": "Year 6"}
        if pupil is older:  # moves in with one carer, at a new address, on their own
            return {"address_line1": "7 Rook Lane", "postcode": "EB9 9ZZ"}
        if pupil is movers:  # the whole household moves
            return {"address_line1": "3 Kestrel Road", "postcode": "EB8 8YY"}
        if carer is younger.home.carers[0]:
            return {"carer_phone": "0117 496 0500"}
        return None

    pending = _prepare(cast, mis_exports.as_csv(mis_exports.table(rows, "template", override=override)))
    counts = pending.preview["counts"]
    assert counts["errors"] == 0, pending.preview
    assert (counts["new"], counts["left"]) == (1, 3)
    changed = {row["name"]: row["changes"] for row in pending.preview["pupils"] if row["status"] == "changed"}
    assert any("Year group" in c for c in changed[f"{promoted.first_name} {promoted.last_name}"])
    assert f"{older.first_name} {older.last_name}" in changed
    assert not AuditEntry.objects.filter(action="child.left").exists()  # nothing saved before confirmation

    pupil_import_confirm(pending=pending, actor=cast.dsl)

    today = datetime.date.today()
    for leaver in leavers:
        child = Child.objects.get(upn=leaver.upn)
        assert child.left_on is not None and not child.is_on_roll()  # marked, never deleted
    assert Child.objects.get(upn=promoted.upn).year_group == "6"
    # The whole household moved: same household (its history and risk assessments follow), new address.
    moved = Household.objects.get(pk=mover_home_pk)
    assert moved.address_line1 == "3 Kestrel Road" and Child.objects.get(upn=movers.upn).household_id == moved.pk
    # A sibling moving house alone joins a household at the new address; the other stays with the newcomer.
    assert Child.objects.get(upn=younger.upn).household_id == old_home_pk
    assert Child.objects.get(upn=newcomer.upn).household_id == old_home_pk
    sibling_home = Child.objects.get(upn=older.upn).household
    assert sibling_home.pk != old_home_pk and sibling_home.postcode == "EB9 9ZZ"
    # The household's history says what changed and where the sibling went.
    history = " ".join(
        AuditEntry.objects.filter(action="household.import", object_id=str(old_home_pk)).values_list(
            "summary", flat=True
        )
    )
    assert "moved to 7 Rook Lane" in history and "Joined: Nell Brackwell" in history
    assert "phone changed" in history
    moved_history = (
        AuditEntry.objects.filter(action="household.import", object_id=str(mover_home_pk)).latest("id").summary
    )
    assert "Moved from" in moved_history and "3 Kestrel Road" in moved_history
    assert AuditEntry.objects.filter(action="pupils.import").count() == 2
    assert AuditEntry.objects.filter(action="child.left").count() == 3
    assert today  # the leavers left on the import's day
    assert {c.left_on for c in Child.objects.filter(upn__in=[p.upn for p in leavers])} == {today}


def test_a_preview_made_before_another_import_was_confirmed_is_refused(cast, roll):
    content = mis_exports.as_csv(mis_exports.table(roll[:50], "template"))
    first = _prepare(cast, content)
    second = _prepare(cast, content, actor=cast.trust_admin)
    pupil_import_confirm(pending=second, actor=cast.trust_admin)
    with pytest.raises(ValidationError, match="changed since this preview"):
        pupil_import_confirm(pending=first, actor=cast.dsl)
    assert Child.objects.count() == 50


def test_only_the_uploader_confirms_and_only_the_dsl_and_principal_see_others_previews(cast, roll, client):
    pending = _prepare(cast, mis_exports.as_csv(mis_exports.table(roll[:5], "template")), actor=cast.trust_admin)
    url = f"/imports/pupils/{pending.pk}/"
    for user, status in [
        (cast.trust_admin, 200),
        (cast.dsl, 200),
        (cast.principal, 200),
        (cast.staff, 404),
        (cast.office, 404),
        (cast.other_dsl, 404),
    ]:
        client.force_login(user)
        assert client.get(url).status_code == status, user
    assert AuditEntry.objects.filter(action="pupils.import_view").count() == 3
    with pytest.raises(PermissionDenied):
        pupil_import_confirm(pending=pending, actor=cast.dsl)
    with pytest.raises(PermissionDenied):
        _prepare(cast, b"upn\n", actor=cast.staff)
    pupil_import_discard(pending=pending, actor=cast.trust_admin)
    assert not PendingImport.objects.exists() and Child.objects.count() == 0


def test_previews_are_deleted_after_a_day(cast, roll):
    pending = _prepare(cast, mis_exports.as_csv(mis_exports.table(roll[:5], "template")))
    later = pending.uploaded_at + datetime.timedelta(hours=25)
    _prepare(cast, mis_exports.as_csv(mis_exports.table(roll[:5], "template")), now=later)
    assert list(PendingImport.objects.values_list("pk", flat=True)) != [pending.pk]
    assert PendingImport.objects.count() == 1


# --- Bad files: a clear message, and nothing saved ---------------------------------------------------------------


def _small(roll, **override):
    return mis_exports.table(roll[:20], "template", override=(lambda p, c: override) if override else None)


def test_bad_files_are_refused_whole_with_a_message(cast, roll, settings, subtests):
    settings.IMPORT_MAX_ROWS = 9_999
    good = mis_exports.as_csv(_small(roll))
    header = good.split(b"\r\n")[0]
    cases = [
        ("wrong encoding", "Chlo\xe9,Z\xfcrich\n".encode("cp1252").join([header + b"\r\n", b""]), "not in UTF-8"),
        ("UTF-16", good.decode().encode("utf-16"), "UTF-16"),
        ("NUL bytes", good.replace(b"Eastbridge", b"East\x00bridge"), "NUL"),
        ("binary", b"PK\x03\x04\x14\x00\x06\x00not really a workbook", "could not be read as an Excel"),
        ("empty", b"", "empty"),
        ("header only", header + b"\r\n", "no pupils"),
        ("a 20 MB file", header + b"\r\n" + b"x," * 10_500_000, "largest export accepted is 10 MB"),
        ("10,000 rows", header + b"\r\n" + b"\r\n".join([good.split(b"\r\n")[1]] * 10_000), "more than 9,999 rows"),
        ("a wide header", b",".join(b"c%d" % n for n in range(5000)) + b"\r\n1\r\n", "has 5000 columns"),
        ("repeated column", header + b",upn\r\n", "repeats column(s): upn"),
    ]
    for what, content, message in cases:
        with subtests.test(what):
            with pytest.raises(ValidationError) as error:
                _prepare(cast, content)
            assert message in " ".join(error.value.messages)
            assert not PendingImport.objects.exists()
    assert Child.objects.count() == 0


def test_bad_rows_are_named_in_the_preview_and_nothing_can_be_imported(cast, roll, subtests):
    cast.school.urn = "100001"
    cast.school.save()
    first, second = roll[0], roll[1]
    cases = [
        ("duplicate UPN", {"upn": first.upn}, second, "is also on line"),
        ("another school's URN", {"urn": "999999"}, second, "URN 999999, not this one (100001)"),
        ("date that is not a date", {"date_of_birth": "31/02/2015"}, second, "'31/02/2015' is not a date"),
        ("formula", {"last_name": '=HYPERLINK("http://x","y")'}, second, "is a spreadsheet formula"),
        ("no year group", {"year_group": "Year 14"}, second, "not a year group"),
        ("bad UPN", {"upn": "A123"}, second, "is not a UPN"),
        ("bad postcode", {"postcode": "NOT A CODE"}, second, "is not a UK postcode"),
    ]
    for what, values, who, message in cases:
        with subtests.test(what):
            data = mis_exports.table(roll[:20], "template", override=lambda p, c: values if p is who else None)  # noqa: B023
            pending = _prepare(cast, mis_exports.as_csv(data))
            errors = [e for row in pending.preview["pupils"] for e in row["errors"]]
            assert any(message in e for e in errors), errors
            with pytest.raises(ValidationError, match="Nothing was imported"):
                pupil_import_confirm(pending=pending, actor=cast.dsl)
            assert Child.objects.count() == 0
            pending.delete()


def test_a_formula_in_a_workbook_is_refused_too(cast, roll):
    data = _small(roll)
    data[1][data[0].index("last_name")] = "=1+1"
    pending = _prepare(cast, mis_exports.as_xlsx(data), name="export.xlsx")
    assert any("spreadsheet formula" in e for row in pending.preview["pupils"] for e in row["errors"])


def test_missing_required_columns_ask_for_the_mapping_once(cast, roll, client):
    data = _small(roll)
    data[0] = [{"upn": "Pupil UPN", "postcode": "Zip"}.get(name, name) for name in data[0]]
    pending = _prepare(cast, mis_exports.as_csv(data))
    assert pending.preview == {}
    with pytest.raises(ValidationError, match="Map the file's columns first"):
        pupil_import_confirm(pending=pending, actor=cast.dsl)
    client.force_login(cast.dsl)
    page = client.get(f"/imports/pupils/{pending.pk}/").content.decode()
    assert "Which columns hold what?" in page and "did not say where to find: Postcode." in page, page
    mapping = {name: name for name in data[0] if name in {"mis_id", "first_name", "last_name"}}
    mapping.update(
        upn="Pupil UPN", postcode="Zip", date_of_birth="date_of_birth", year_group="year_group",
        address_line1="address_line1", town="town",
    )  # fmt: skip
    response = client.post(f"/imports/pupils/{pending.pk}/", {"action": "map", **mapping})
    assert response.status_code == 302
    client.post(f"/imports/pupils/{pending.pk}/", {"action": "confirm"})
    assert Child.objects.count() == 20
    # The school keeps the mapping: the same layout next time needs no choosing.
    again = _prepare(cast, mis_exports.as_csv(data))
    assert again.preview["counts"]["unchanged"] == 20


def test_the_preview_page_costs_the_same_queries_for_400_pupils(cast, roll, client, django_assert_max_num_queries):
    pending = _prepare(cast, mis_exports.as_csv(mis_exports.table(roll, "template")))
    client.force_login(cast.dsl)
    with django_assert_max_num_queries(12):
        page = client.get(f"/imports/pupils/{pending.pk}/")
    assert page.status_code == 200 and page.content.decode().count("<tr") >= 400


def test_the_purge_command_deletes_previews_nobody_finished(cast, roll):
    from django.core.management import call_command

    pending = _prepare(cast, mis_exports.as_csv(mis_exports.table(roll[:3], "template")))
    PendingImport.objects.filter(pk=pending.pk).update(uploaded_at=pending.uploaded_at - datetime.timedelta(days=2))
    call_command("purge_imports")
    assert not PendingImport.objects.exists()


def test_the_documented_templates_are_the_ones_the_pages_serve():
    from pathlib import Path

    from core.staff_import import template_csv as staff_template
    from families.imports.layouts import template_csv

    docs = Path(__file__).resolve().parents[2] / "docs"
    for name, made in [("pupil-import-template.csv", template_csv()), ("staff-import-template.csv", staff_template())]:
        with open(docs / name, newline="") as documented:
            assert documented.read() == made, name


def test_our_templates_example_row_imports(cast):
    from families.imports.layouts import template_csv

    pending = _prepare(cast, template_csv().encode())
    assert pending.layout == "template" and pending.preview["counts"]["new"] == 1, pending.preview
    assert pending.preview["counts"]["errors"] == 0


def test_the_household_page_shows_its_history_from_the_imports(cast, roll, client):
    _first_import(cast, roll[:10])
    moved = roll[0]
    data = mis_exports.table(
        roll[:10], "template", override=lambda p, c: {"address_line1": "9 Rook Lane"} if p.home is moved.home else None
    )
    pupil_import_confirm(pending=_prepare(cast, mis_exports.as_csv(data)), actor=cast.dsl)
    household = Child.objects.get(upn=moved.upn).household
    client.force_login(cast.dsl)
    page = client.get(f"/visits/households/{household.pk}/").content.decode()
    assert "History" in page and "Moved from" in page and "9 Rook Lane" in page and "Added at" in page


def test_an_authorised_visit_to_a_family_that_moved_goes_back_for_a_decision(
    cast, roll, mailoutbox, django_capture_on_commit_callbacks
):
    """It was judged on the old address (prohibited list, risk, travel): the import sends it back and the deciders
    hear of it; a visit to a family that did not move stays authorised."""
    from tests.factories import make_authorised_visit, tomorrow_at
    from visits.models import VisitStatus

    _first_import(cast, roll[:10])
    mover, stayer = roll[0], next(p for p in roll[:10] if p.home is not roll[0].home)
    visits = {
        who.upn: make_authorised_visit(
            lead=cast.staff,
            second=cast.staff2,
            authoriser=cast.dsl,
            child=Child.objects.get(upn=who.upn),
            start=tomorrow_at(hour),
        )
        for who, hour in ((mover, 10), (stayer, 13))
    }
    cast.dsl.email = "dsl@example.org"
    cast.dsl.save(update_fields=["email"])
    mailoutbox.clear()
    data = mis_exports.table(
        roll[:10], "template", override=lambda p, c: {"address_line1": "9 Rook Lane"} if p.home is mover.home else None
    )
    with django_capture_on_commit_callbacks(execute=True):
        pupil_import_confirm(pending=_prepare(cast, mis_exports.as_csv(data)), actor=cast.dsl)

    moved, stayed = (Visit.objects.get(pk=visits[who.upn].pk) for who in (mover, stayer))
    assert moved.status == VisitStatus.REQUESTED and stayed.status == VisitStatus.AUTHORISED
    note = moved.transitions.latest("pk").note
    assert "address changed" in note and f"{mover.home.number} {mover.home.street}" in note
    assert [m.to for m in mailoutbox] == [["dsl@example.org"]], "the deciders are told a request is waiting"
