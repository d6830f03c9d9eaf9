"""Reading a local authority's CSV of prohibited addresses into a pending import with a row-by-row report.

Whatever the file, the result is either a clear message about the whole file (ValidationError, nothing saved)
or a pending ProhibitedAddressImport that imports nothing until a DSL confirms it.
"""

import csv
import datetime
import io

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from core.audit import audit

from .addresses import normalise_postcode_or_blank, parse_parts
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
# Far more than the six real columns, and small enough that no header check ever has much to look through.
MAX_COLUMNS = 100


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


def _read_text(upload) -> str:
    limit = settings.PROHIBITED_CSV_MAX_BYTES
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise ValidationError(
            f"The file is {size / 1_048_576:.1f} MB; the largest list accepted is {limit / 1_048_576:.0f} MB. "
            "Split it into smaller files."
        )
    raw = upload.read(limit + 1)
    if len(raw) > limit:
        raise ValidationError(f"The file is larger than {limit / 1_048_576:.0f} MB. Split it into smaller files.")
    if not raw.strip():
        raise ValidationError("The file is empty.")
    if raw.startswith(b"PK\x03\x04") or b"\x00" in raw[:4096]:
        raise ValidationError(
            "This is not a CSV file (it looks like a spreadsheet or other binary file). "
            "In your spreadsheet choose Save As, then 'CSV UTF-8', and upload that."
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ValidationError(
            f"The file is not in UTF-8 (unreadable characters on line {line}). "
            "In your spreadsheet choose Save As, then 'CSV UTF-8', and upload again."
        ) from None


def parse_rows(text: str, *, trust_id, school) -> tuple[list[dict], list[dict]]:
    """(accepted rows, report). Raises ValidationError for a problem with the whole file."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header, report, accepted, seen = None, [], [], {}
    on_list = active_keys(trust_id=trust_id, school=school)
    try:
        for values in reader:
            line = reader.line_num
            if header is None and len(values) > MAX_COLUMNS:
                raise ValidationError(
                    f"The header row has {len(values)} columns; a list has at most {MAX_COLUMNS}. "
                    f"The columns are: {', '.join(COLUMNS)}."
                )
            if not any(v.strip() for v in values):
                continue  # blank lines (or lines of bare commas) are spacing, not rows
            if header is None:
                header = [_header_name(v) for v in values]
                _check_header(header)
                continue
            if len(report) >= settings.PROHIBITED_CSV_MAX_ROWS:
                raise ValidationError(
                    f"The file has more than {settings.PROHIBITED_CSV_MAX_ROWS} rows. Split it into smaller files."
                )
            row, problem = _check_row(header, values, on_list=on_list, seen=seen, line=line)
            address = ", ".join(v.strip() for v in values if v.strip())[:200]
            if problem:
                report.append({"line": line, "status": "rejected", "message": problem, "address": address})
            else:
                accepted.append(row)
                report.append({"line": line, "status": "taken", "message": "Will be added", "address": address})
    except csv.Error as error:
        raise ValidationError(f"The file could not be read as CSV (line {reader.line_num}): {error}.") from None
    if header is None:
        raise ValidationError("The file is empty.")
    if not report:
        raise ValidationError("The file has a header row but no addresses.")
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
    data.update({h: v.strip() for h, v in zip(header, values, strict=True)})
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
    text = _read_text(upload)
    accepted, report = parse_rows(text, trust_id=trust.pk, school=school)
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
