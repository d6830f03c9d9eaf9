"""Reading a local authority's CSV of prohibited addresses into a pending import with a row-by-row report.

The file is read by core.tabular (its size, encoding, width and length). Whatever the file, the result is either a
clear message about the whole file (ValidationError, nothing saved) or a pending ProhibitedAddressImport that imports
nothing until a DSL confirms it.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from core.addresses import normalise_postcode_or_blank, parse_parts
from core.audit import audit
from core.tabular import formula_problem, read_table

from .models import ProhibitedAddressImport
from .selectors import active_keys
from .services import _may_keep_list

COLUMNS = ["address_line1", "address_line2", "town", "postcode", "note", "expires_on"]
REQUIRED = ["address_line1", "postcode"]
ALIASES = {
    "address": "address_line1",
    "address1": "address_line1",
    "address_1": "address_line1",
    "line1": "address_line1",
    "line_1": "address_line1",
    "address_line_1": "address_line1",
    "address2": "address_line2",
    "address_2": "address_line2",
    "line2": "address_line2",
    "line_2": "address_line2",
    "address_line_2": "address_line2",
    "post_code": "postcode",
    "postal_code": "postcode",
    "city": "town",
    "reference": "note",
    "reason": "note",
    "notes": "note",
    "expires": "expires_on",
    "expiry": "expires_on",
    "expiry_date": "expires_on",
    "expires_on_date": "expires_on",
}
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y"]


def _header_name(raw: str) -> str:
    name = "_".join(raw.strip().lower().replace("-", " ").split())
    return ALIASES.get(name, name)


def _parse_date(value: str) -> datetime.date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(value, fmt).date()  # noqa: DTZ007 - a calendar date, no time
        except ValueError:
            continue
    raise ValueError


def read_list(upload, *, trust_id, school) -> tuple[list[dict], list[dict]]:
    """(accepted rows, report). Raises ValidationError for a problem with the whole file (core.tabular)."""
    table = read_table(
        upload, max_bytes=settings.PROHIBITED_CSV_MAX_BYTES, max_rows=settings.PROHIBITED_CSV_MAX_ROWS, what="list"
    )
    header = [_header_name(v) for v in table.header]
    _check_header(header)
    if not table.rows:
        raise ValidationError("The file has a header row but no addresses.")
    report, accepted, seen = [], [], {}
    on_list = active_keys(trust_id=trust_id, school=school)
    for line, values in table.rows:
        row, problem = _check_row(header, values, on_list=on_list, seen=seen, line=line)
        address = ", ".join(v for v in values if v)[:200]
        if problem:
            report.append({"line": line, "status": "rejected", "message": problem, "address": address})
        else:
            accepted.append(row)
            report.append({"line": line, "status": "taken", "message": "Will be added", "address": address})
    return accepted, report


def _check_header(header: list[str]) -> None:
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    repeated = sorted({h for h in header if header.count(h) > 1})
    problems = []
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s): {', '.join(unknown)}")
    if repeated:
        problems.append(f"repeated column(s): {', '.join(repeated)}")
    if problems:
        raise ValidationError(
            f"The header row is wrong ({'; '.join(problems)}). The columns are: {', '.join(COLUMNS)} "
            f"({' and '.join(REQUIRED)} required)."
        )


def _check_row(header, values, *, on_list, seen, line) -> tuple[dict | None, str]:
    if len(values) != len(header):
        return None, f"Has {len(values)} values but the header has {len(header)} columns."
    data = dict.fromkeys(COLUMNS, "")
    data.update(dict(zip(header, values, strict=True)))
    formula = next((problem for v in values if (problem := formula_problem(v))), "")
    if formula:
        return None, formula
    if not data["address_line1"]:
        return None, "Address line 1 is empty."
    for column, limit in [("address_line1", 200), ("address_line2", 200), ("town", 100), ("note", 300)]:
        if len(data[column]) > limit:
            return None, f"{column.replace('_', ' ').capitalize()} is longer than {limit} characters."
    postcode = normalise_postcode_or_blank(data["postcode"])
    if not postcode:
        return None, f"'{data['postcode']}' is not a UK postcode." if data["postcode"] else "The postcode is empty."
    expires = ""
    if data["expires_on"]:
        try:
            day = _parse_date(data["expires_on"])
        except ValueError:
            return None, f"'{data['expires_on']}' is not a date (use 2027-03-31 or 31/03/2027)."
        if day < datetime.date.today():
            return None, f"Expired on {day:%d %b %Y}: it would never apply."
        expires = day.isoformat()
    parsed = parse_parts(line1=data["address_line1"], line2=data["address_line2"], postcode=postcode)
    key = (parsed.postcode, parsed.key)
    if key in seen:
        return None, f"Repeats line {seen[key]}."
    if key in on_list:
        return None, "Already on the list."
    seen[key] = line
    return {**data, "postcode": postcode, "expires_on": expires, "line": line}, ""


@transaction.atomic
def prohibited_import_prepare(*, upload, trust, school, actor) -> ProhibitedAddressImport:
    """Read the upload into a pending import. Raises ValidationError (saving nothing) for an unreadable file."""
    _may_keep_list(actor, trust.pk, school)
    accepted, report = read_list(upload, trust_id=trust.pk, school=school)
    batch = ProhibitedAddressImport(
        trust=trust,
        school=school,
        filename=(getattr(upload, "name", "") or "upload.csv")[:200],
        uploaded_by=actor,
        accepted=accepted,
        report=report,
    )
    batch.full_clean()
    batch.save()
    audit(
        actor=actor,
        action="prohibited.import_prepare",
        obj=batch,
        school=school,
        summary=f"Uploaded {batch.filename}: {len(accepted)} rows taken, {batch.rejected_count} rejected"[:300],
    )
    return batch
