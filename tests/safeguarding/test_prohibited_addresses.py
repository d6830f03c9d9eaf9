"""The prohibited-addresses list: matching (table-driven), keeping the list, and CSV import with a confirm step."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.addresses import compare, parse_address, parse_parts
from core.models import AuditEntry
from core.roles import Role
from safeguarding.models import ProhibitedAddress, ProhibitedAddressImport
from safeguarding.prohibited_csv import prohibited_import_prepare
from safeguarding.selectors import prohibited_address_matches
from safeguarding.services import (
    address_judgement_record,
    prohibited_address_add,
    prohibited_address_expire,
    prohibited_import_confirm,
)
from tests.factories import HouseholdFactory, grant, sign_in, visit_to
from tests.helpers import fresh_case

# (one-line address as staff type it, the list entry as (line 1, line 2, town, postcode))
MUST_MATCH = [
    ("12a High St, LU1 1AA", ("12A High Street", "", "Luton", "LU1 1AA")),
    ("12A HIGH STREET LU11AA", ("12a High St", "", "Luton", "LU1 1AA")),
    ("12 a High Street, lu1 1aa", ("12A High St.", "", "", "LU1 1AA")),
    ("12a high st., Luton, LU1 1AA", ("12A High Street", "", "Luton", "LU1 1AA")),
    ("7 Station Rd, EB2 3DF", ("7 Station Road", "", "Eastbridge", "EB2 3DF")),
    ("7 STATION ROAD EB23DF", ("7, Station Rd", "", "", "EB2 3DF")),
    ("Flat 2, 14 Mill Lane, EB1 4QT", ("14 Mill Ln", "Flat 2", "", "EB1 4QT")),
    ("14 Mill Lane Flat 2 EB1 4QT", ("Flat 2", "14 Mill Lane", "", "EB1 4QT")),
    ("Apartment 5, 3 Quay Court, EB4 1AB", ("Apt 5", "3 Quay Ct", "", "EB4 1AB")),
    ("3 St Johns Road, EB5 2DE", ("3 Saint Johns Rd", "", "", "EB5 2DE")),
    ("3 St. John's Road, EB5 2DE", ("3 St Johns Road", "", "", "EB5 2DE")),
    ("9 Park Avenue North, EB6 3FG", ("9 Park Ave N", "", "", "EB6 3FG")),
    ("22 Orchard Gardens, EB7 8HJ", ("22 Orchard Gdns", "", "", "EB7 8HJ")),
    ("5 Elm Crescent,  EB8  9JX", ("5 Elm Cres", "", "", "EB8 9JX")),
    ("The Old Rectory, Church Lane, EB9 1LN", ("Old Rectory", "Church Ln", "", "EB9 1LN")),
    ("40 Victoria Terrace, EB1 2NP", ("40 Victoria Tce", "", "", "EB1 2NP")),
    ("11 Kings Drive EB2 4PQ", ("11 Kings Dr", "", "", "EB2 4PQ")),
    ("2 Beech Close, Eastbridge EB3 5RS", ("2 Beech Cl", "", "Eastbridge", "EB3 5RS")),
    ("18-20 Market Square, EB4 6ST", ("18-20 Market Sq", "", "", "EB4 6ST")),
    ("Unit 4, 6 Dock Place, EB5 7TU", ("Flat 4", "6 Dock Pl", "", "EB5 7TU")),
    ("1 Rose & Crown Cottages, EB6 8UW", ("1 Rose and Crown Cotts", "", "", "EB6 8UW")),
    ("30 Mount Pleasant Hill, EB7 9WX", ("30 Mt Pleasant Hl", "", "", "EB7 9WX")),
    ("  6   Green   Lane ,  EB8 1XY  ", ("6 Grn Ln", "", "", "EB8 1XY")),
    ("10 Downing St, SW1A 2AA", ("10 Downing Street", "", "", "SW1A2AA")),
]

# Different places: (address, entry, what the DSL sees) - "near" for a judgement, None for nothing at all.
MUST_NOT_MATCH = [
    ("12 High St, LU1 1AA", ("12A High Street", "", "", "LU1 1AA"), "near"),  # same postcode, different house
    ("12b High St, LU1 1AA", ("12A High Street", "", "", "LU1 1AA"), "near"),
    ("14 High St, LU1 1AA", ("12 High Street", "", "", "LU1 1AA"), "near"),
    ("12 High St, LU1 1AB", ("12 High Street", "", "Luton", "LU1 1AA"), "near"),  # same house, postcode differs
    ("12 High St, LU2 7XY", ("14 High Street", "", "", "LU1 1AA"), None),
    ("7 Station Rd, EB2 3DF", ("7 Station Road", "Flat 1", "", "EB2 3DF"), "near"),
    ("Flat 3, 14 Mill Lane, EB1 4QT", ("14 Mill Lane", "Flat 2", "", "EB1 4QT"), "near"),
    ("3 St Johns Road, EB5 2DE", ("3 St Johns Avenue", "", "", "EB9 9ZZ"), None),
    ("9 Park Avenue, EB6 3FG", ("19 Park Avenue", "", "", "EB1 1AA"), None),
    ("22 Orchard Gardens, EB7 8HJ", ("2 Orchard Gardens", "", "", "EB7 8HJ"), "near"),
    ("1 Rose Cottages, EB6 8UW", ("1 Rose and Crown Cottages", "", "", "EB6 8UW"), "near"),
    ("5 Elm Crescent, EB8 9JX", ("5 Elm Close", "", "", "EB8 9JX"), "near"),
]


@pytest.mark.parametrize(("address", "entry"), MUST_MATCH)
def test_addresses_that_are_the_same_place_match_exactly(address, entry):
    line1, line2, town, postcode = entry
    assert (
        compare(parse_address(address), parse_parts(line1=line1, line2=line2, town=town, postcode=postcode)) == "exact"
    )


@pytest.mark.parametrize(("address", "entry", "expected"), MUST_NOT_MATCH)
def test_different_places_do_not_match_exactly(address, entry, expected):
    line1, line2, town, postcode = entry
    assert (
        compare(parse_address(address), parse_parts(line1=line1, line2=line2, town=town, postcode=postcode)) == expected
    )


def test_tables_are_big_enough():
    assert len(MUST_MATCH) >= 20
    assert len(MUST_NOT_MATCH) >= 10


def test_postcode_normalisation_is_localflavors():
    assert parse_address("12a High St lu11aa").postcode == "LU1 1AA"
    assert parse_address("12a High St, not a postcode").postcode == ""


# --- Against the database -------------------------------------------------------------------------------


def _add(cast, line1="12A High Street", postcode="LU1 1AA", school=None, **fields):
    return prohibited_address_add(
        actor=cast.dsl,
        trust=cast.trust,
        school=school,
        address_line1=line1,
        postcode=postcode,
        town=fields.pop("town", "Luton"),
        **fields,
    )


def test_household_matches_exact_and_near_entries(cast):
    exact = _add(cast)
    near = _add(cast, line1="14 High Street")
    _add(cast, line1="1 Far Road", postcode="EB9 9ZZ")
    household = HouseholdFactory(school=cast.school, address_line1="12a High St", town="Luton", postcode="lu11aa")
    matches = prohibited_address_matches(household_or_address=household)
    assert [(m.kind, m.entry) for m in matches] == [("exact", exact), ("near", near)]
    assert all(m.blocks for m in matches)


def test_one_line_address_can_be_checked(cast):
    entry = _add(cast)
    assert [(m.kind, m.entry) for m in prohibited_address_matches(household_or_address="12A HIGH STREET LU11AA")] == [
        ("exact", entry)
    ]


def test_another_schools_own_entry_does_not_apply(cast):
    prohibited_address_add(
        actor=cast.other_dsl,
        trust=cast.trust,
        school=cast.other_school,
        address_line1="12A High Street",
        postcode="LU1 1AA",
    )
    household = HouseholdFactory(school=cast.school, address_line1="12a High St", postcode="LU1 1AA")
    assert prohibited_address_matches(household_or_address=household) == []
    trust_wide = _add(cast)
    assert [m.entry for m in prohibited_address_matches(household_or_address=household)] == [trust_wide]


def test_expired_entries_no_longer_match(cast, time_machine):
    time_machine.move_to(datetime.datetime(2026, 11, 2, 9, 0, tzinfo=datetime.UTC))
    lapsing = _add(cast, expires_on=datetime.date(2026, 11, 10))
    removed = _add(cast, line1="14 High Street")
    household = HouseholdFactory(school=cast.school, address_line1="12a High St", postcode="LU1 1AA")
    assert len(prohibited_address_matches(household_or_address=household)) == 2
    prohibited_address_expire(entry=removed, actor=cast.dsl, reason="Local authority removed it.")
    assert [m.entry for m in prohibited_address_matches(household_or_address=household)] == [lapsing]
    time_machine.move_to(datetime.datetime(2026, 11, 11, 9, 0, tzinfo=datetime.UTC))
    assert prohibited_address_matches(household_or_address=household) == []
    assert AuditEntry.objects.filter(action="prohibited.expire").count() == 1


def test_a_near_match_is_cleared_only_by_a_dsl_judgement_on_the_current_address(cast):
    near = _add(cast, line1="14 High Street")
    household = HouseholdFactory(school=cast.school, address_line1="12 High St", postcode="LU1 1AA")
    with pytest.raises(PermissionDenied):
        address_judgement_record(household=household, entry=near, same_place=False, note="x", actor=cast.staff)
    address_judgement_record(
        household=household,
        entry=near,
        same_place=False,
        note="Checked with the council: different house.",
        actor=cast.dsl,
    )
    [match] = prohibited_address_matches(household_or_address=household)
    assert match.cleared and not match.blocks
    household.address_line1 = "16 High St"  # they moved next door: the old judgement no longer covers them
    household.save()
    [match] = prohibited_address_matches(household_or_address=household)
    assert match.blocks


def test_staff_cannot_keep_the_list(cast):
    with pytest.raises(PermissionDenied):
        prohibited_address_add(
            actor=cast.staff, trust=cast.trust, school=None, address_line1="1 A Road", postcode="EB1 1AA"
        )
    with pytest.raises(PermissionDenied):
        prohibited_address_add(
            actor=cast.other_dsl, trust=cast.trust, school=cast.school, address_line1="1 A Road", postcode="EB1 1AA"
        )


def test_duplicate_and_bad_postcode_are_refused(cast):
    _add(cast)
    with pytest.raises(ValidationError, match="already on the list"):
        _add(cast, line1="12a High St.", postcode="lu11aa")
    with pytest.raises(ValidationError) as error:
        _add(cast, line1="3 Low Road", postcode="NOTAPOSTCODE")
    assert "postcode" in error.value.message_dict
    assert ProhibitedAddress.objects.count() == 1


def test_matching_queries_do_not_grow_with_the_list(cast):
    household = HouseholdFactory(school=cast.school, address_line1="12a High St", postcode="LU1 1AA")
    _add(cast)
    _add(cast, line1="29 High Street")
    with CaptureQueriesContext(connection) as few:
        assert len(prohibited_address_matches(household_or_address=household)) == 2
    for n in range(20):
        _add(cast, line1=f"{n + 30} High Street")
    with CaptureQueriesContext(connection) as many:
        assert len(prohibited_address_matches(household_or_address=household)) == 22
    assert len(many) == len(few)


# --- CSV import ---------------------------------------------------------------------------------------------


def _csv(text: str | bytes, name="list.csv"):
    return SimpleUploadedFile(name, text.encode() if isinstance(text, str) else text, content_type="text/csv")


GOOD_CSV = (
    "Address line 1,Address line 2,Town,Postcode,Note,Expires on\n"
    "12A High Street,,Luton,LU1 1AA,LA ref 101,\n"
    "\n"
    "14 Mill Lane,Flat 2,Eastbridge,eb14qt,LA ref 102,31/12/2099\n"
    ",,,EB1 1AA,no address,\n"
    "5 Elm Close,,Eastbridge,NOT A CODE,,\n"
    "12a High St,,Luton,LU11AA,repeat,\n"
    "6 Green Lane,,Eastbridge,EB8 1XY,,yesterday\n"
    "7 Station Road,,Eastbridge,EB2 3DF,,2001-01-01\n"
    "too,few\n"
)


def test_import_reports_row_by_row_and_imports_nothing_until_confirmed(cast):
    batch = prohibited_import_prepare(upload=_csv(GOOD_CSV), trust=cast.trust, school=cast.school, actor=cast.dsl)
    assert ProhibitedAddress.objects.count() == 0
    report = {row["line"]: (row["status"], row["message"]) for row in batch.report}
    assert report[2] == ("taken", "Will be added")
    assert report[4] == ("taken", "Will be added")
    assert report[5] == ("rejected", "Address line 1 is empty.")
    assert report[6] == ("rejected", "'NOT A CODE' is not a UK postcode.")
    assert report[7] == ("rejected", "Repeats line 2.")
    assert report[8][0] == "rejected" and "not a date" in report[8][1]
    assert report[9][0] == "rejected" and "never apply" in report[9][1]
    assert report[10] == ("rejected", "Has 2 values but the header has 6 columns.")
    created = prohibited_import_confirm(batch=batch, actor=cast.dsl)
    assert sorted(e.postcode for e in created) == ["EB1 4QT", "LU1 1AA"]
    assert ProhibitedAddress.objects.get(postcode="EB1 4QT").expires_on == datetime.date(2099, 12, 31)
    batch.refresh_from_db()
    assert batch.status == ProhibitedAddressImport.Status.CONFIRMED
    with pytest.raises(ValidationError, match="already been decided"):
        prohibited_import_confirm(batch=batch, actor=cast.dsl)


def test_rows_already_on_the_list_are_rejected(cast):
    _add(cast)
    batch = prohibited_import_prepare(
        upload=_csv("address_line1,postcode\n12a high st,LU1 1AA\n"), trust=cast.trust, school=None, actor=cast.dsl
    )
    assert batch.report[0]["message"] == "Already on the list." and batch.accepted == []


def test_confirm_is_all_or_nothing(cast):
    batch = prohibited_import_prepare(
        upload=_csv("address_line1,postcode\n1 Ash Road,EB1 1AA\n2 Ash Road,EB1 1AA\n"),
        trust=cast.trust,
        school=None,
        actor=cast.dsl,
    )
    _add(cast, line1="2 Ash Road", postcode="EB1 1AA")  # someone added row 2 by hand in the meantime
    with pytest.raises(ValidationError, match="Line 3"):
        prohibited_import_confirm(batch=batch, actor=cast.dsl)
    assert ProhibitedAddress.objects.filter(address_line1="1 Ash Road").count() == 0


def test_bad_files_get_a_clear_message_and_save_nothing(cast, subtests):
    for content, message in [
        ("street,postcode\n1 Ash Road,EB1 1AA\n", "missing column(s): address_line1; unknown column(s): street"),
        ("address_line1,postcode,postcode\n1 Ash Road,EB1 1AA,EB1 1AA\n", "repeated column(s): postcode"),
        ("address_line1,postcode\n1 Ash Road,Saint-\xc9tienne\n".encode("cp1252"), "not in UTF-8"),
        (b"PK\x03\x04\x14\x00\x06\x00binary spreadsheet", "not a CSV file"),
        ("", "empty"),
        ("\n\n,,\n", "empty"),
        ("address_line1,postcode\n\n\n", "no addresses"),
        ('address_line1,postcode\n"1 Ash Road,EB1 1AA\n', "could not be read as CSV"),
    ]:
        with subtests.test(content=content, message=message), fresh_case(None):
            with pytest.raises(ValidationError) as error:
                prohibited_import_prepare(upload=_csv(content), trust=cast.trust, school=None, actor=cast.dsl)
            assert message in " ".join(error.value.messages)
            assert ProhibitedAddressImport.objects.count() == 0


def test_a_10_mb_file_is_refused_before_it_is_read(cast):
    big = _csv(b"address_line1,postcode\n" + b"1 Ash Road,EB1 1AA\n" * 560_000)
    assert big.size > 10_000_000
    with pytest.raises(ValidationError, match="largest list accepted is 2 MB"):
        prohibited_import_prepare(upload=big, trust=cast.trust, school=None, actor=cast.dsl)
    assert ProhibitedAddressImport.objects.count() == 0


def test_too_many_rows_is_refused(cast, settings):
    settings.PROHIBITED_CSV_MAX_ROWS = 3
    rows = "".join(f"{n} Ash Road,EB1 1AA\n" for n in range(1, 6))
    with pytest.raises(ValidationError, match="more than 3 rows"):
        prohibited_import_prepare(
            upload=_csv("address_line1,postcode\n" + rows), trust=cast.trust, school=None, actor=cast.dsl
        )
    three = "".join(f"{n} Ash Road,EB1 1AA\n" for n in range(1, 4))
    batch = prohibited_import_prepare(
        upload=_csv("address_line1,postcode\n" + three), trust=cast.trust, school=None, actor=cast.dsl
    )
    assert len(batch.accepted) == 3


# --- Pages ------------------------------------------------------------------------------------------------

KEEPERS = {
    "dsl": 200,
    "principal": 200,
    "staff": 403,
    "staff2": 403,
    "outsider": 403,
    "office": 403,
    "trust_admin": 403,
    "other_dsl": 200,
    "other_staff": 403,
}


def test_list_pages_by_role(client, cast, subtests):
    for who, status in KEEPERS.items():
        for url in ["/safeguarding/prohibited/", "/safeguarding/prohibited/add/", "/safeguarding/prohibited/import/"]:
            with subtests.test(who=who, status=status, url=url), fresh_case(client):
                client.force_login(getattr(cast, who))
                assert client.get(url).status_code == status


def test_school_entry_and_import_pages_by_role(client, cast, subtests):
    for who, status in {**KEEPERS, "other_dsl": 404}.items():
        with subtests.test(who=who, status=status), fresh_case(client):
            entry = _add(cast, school=cast.school)
            batch = prohibited_import_prepare(
                upload=_csv("address_line1,postcode\n1 Ash Road,EB1 1AA\n"),
                trust=cast.trust,
                school=cast.school,
                actor=cast.dsl,
            )
            client.force_login(getattr(cast, who))
            assert client.get(f"/safeguarding/prohibited/{entry.pk}/expire/").status_code == status
            assert client.get(f"/safeguarding/prohibited/import/{batch.pk}/").status_code == status


def test_other_schools_own_entries_are_not_listed(client, cast):
    prohibited_address_add(
        actor=cast.other_dsl,
        trust=cast.trust,
        school=cast.other_school,
        address_line1="1 Secret Row",
        postcode="EB1 1AA",
    )
    _add(cast, line1="2 Shared Row", postcode="EB1 1AA")
    client.force_login(cast.dsl)
    page = client.get("/safeguarding/prohibited/").content
    assert b"2 Shared Row" in page and b"1 Secret Row" not in page


def test_a_dsl_who_is_staff_at_another_school_sees_only_their_own_schools_entries(client, cast):
    """Roles are per school: visiting staff at riverside do not see riverside's list, whatever they are elsewhere."""
    prohibited_address_add(
        actor=cast.other_dsl,
        trust=cast.trust,
        school=cast.other_school,
        address_line1="1 Secret Row",
        postcode="EB1 1AA",
    )
    _add(cast, line1="2 Shared Row", postcode="EB1 1AA")
    grant(cast.dsl, cast.other_school, Role.STAFF)
    client.force_login(cast.dsl)
    page = client.get("/safeguarding/prohibited/").content
    assert b"2 Shared Row" in page and b"1 Secret Row" not in page


def test_address_check_page_by_role(client, cast, subtests):
    for who, status in [("staff", 200), ("outsider", 404), ("dsl", 200), ("office", 404), ("other_dsl", 404)]:
        with subtests.test(who=who, status=status), fresh_case(client):
            _add(cast, line1="14 High Street")
            household = HouseholdFactory(school=cast.school, address_line1="12 High St", postcode="LU1 1AA")
            visit_to(household, lead=cast.staff)  # the outsider is on no visit there
            client.force_login(getattr(cast, who))
            response = client.get(f"/safeguarding/households/{household.pk}/address-check/")
            assert response.status_code == status
            assert (b"Near match" in response.content) == (status == 200)


def test_only_a_senior_records_a_judgement_through_the_page(client, cast):
    entry = _add(cast, line1="14 High Street")
    household = HouseholdFactory(school=cast.school, address_line1="12 High St", postcode="LU1 1AA")
    visit_to(household, lead=cast.staff)
    data = {"entry": entry.pk, "same_place": "no", "note": "Different house."}
    client.force_login(cast.staff)
    assert client.post(f"/safeguarding/households/{household.pk}/address-check/", data).status_code == 403
    client.force_login(cast.dsl)
    assert client.post(f"/safeguarding/households/{household.pk}/address-check/", data).status_code == 302
    assert prohibited_address_matches(household_or_address=household)[0].cleared


def test_add_page_keeps_typed_input_on_error(client, cast):
    client.force_login(cast.dsl)
    response = client.post("/safeguarding/prohibited/add/", {"address_line1": "9 Kite Lane", "postcode": "XX"})
    assert response.status_code == 200
    assert b"Enter a UK postcode" in response.content and b"9 Kite Lane" in response.content
    assert ProhibitedAddress.objects.count() == 0
    response = client.post(
        "/safeguarding/prohibited/add/",
        {"address_line1": "9 Kite Lane", "postcode": "eb11aa", "school": cast.school.pk},
    )
    assert response.status_code == 302
    assert ProhibitedAddress.objects.get().school == cast.school


def test_upload_review_and_confirm_through_the_pages(client, cast):
    client.force_login(cast.dsl)
    assert b'enctype="multipart/form-data"' in client.get("/safeguarding/prohibited/import/").content
    response = client.post("/safeguarding/prohibited/import/", {"file": _csv(GOOD_CSV)})
    batch = ProhibitedAddressImport.objects.get()
    assert response.status_code == 302 and response.url == f"/safeguarding/prohibited/import/{batch.pk}/"
    report = client.get(response.url).content.decode()
    assert "NOT A CODE&#x27; is not a UK postcode." in report and "Import 2 addresses" in report
    assert ProhibitedAddress.objects.count() == 0
    client.post(response.url, {"action": "confirm"})
    assert ProhibitedAddress.objects.count() == 2


def test_discard_imports_nothing(client, cast):
    client.force_login(cast.dsl)
    client.post("/safeguarding/prohibited/import/", {"file": _csv(GOOD_CSV)})
    batch = ProhibitedAddressImport.objects.get()
    client.post(f"/safeguarding/prohibited/import/{batch.pk}/", {"action": "discard"})
    batch.refresh_from_db()
    assert batch.status == "discarded" and ProhibitedAddress.objects.count() == 0


def test_bad_uploads_get_a_message_beside_the_field_never_a_500(client, cast, subtests):
    for content, message in [
        (b"street,postcode\n1 Ash Road,EB1 1AA\n", b"The header row is wrong"),
        ("address_line1,postcode\n1 Ash Road,\xc9\n".encode("latin-1"), b"not in UTF-8"),
        (b"address_line1,postcode\n" + b"1 Ash Road,EB1 1AA\n" * 560_000, b"largest list accepted"),
        (b"\n\n\n", b"The file is empty"),
    ]:
        with subtests.test(content=content, message=message), fresh_case(client):
            client.force_login(cast.dsl)
            response = client.post("/safeguarding/prohibited/import/", {"file": _csv(content)})
            assert response.status_code == 200
            assert message in response.content
            assert ProhibitedAddressImport.objects.count() == 0


def test_expire_through_the_page_needs_a_reason(client, cast):
    entry = _add(cast)
    client.force_login(cast.dsl)
    assert client.post(f"/safeguarding/prohibited/{entry.pk}/expire/", {"reason": ""}).status_code == 200
    assert (
        client.post(f"/safeguarding/prohibited/{entry.pk}/expire/", {"reason": "Removed by the LA"}).status_code == 302
    )
    entry.refresh_from_db()
    assert entry.expired_at is not None and entry.expired_by == cast.dsl


def test_list_page_query_count_does_not_grow(client, cast):
    sign_in(client, cast.dsl)
    _add(cast, line1="1 Ash Road")
    with CaptureQueriesContext(connection) as few:
        client.get("/safeguarding/prohibited/")
    for n in range(2, 12):
        _add(cast, line1=f"{n} Ash Road", school=cast.school if n % 2 else None)
    with CaptureQueriesContext(connection) as many:
        client.get("/safeguarding/prohibited/")
    assert len(many) == len(few)
