"""Reading an uploaded table (a CSV file, or an Excel workbook where the caller allows one) whatever is in it.

Every import of the product reads its file through here: the prohibited-addresses list, the MIS export of pupils
and carers, the staff list. The result is either a ValidationError with a plain message about the whole file
(too big, empty, not text, not UTF-8, UTF-16, too many rows or columns, unreadable) or a Table of text cells with
the line each row came from. Nothing is saved here. Checks are cheap before expensive: the size before reading,
NUL bytes and the encoding before parsing, the header's width before looking at any name in it, the row count as
rows are read (so a file of a million rows stops at the first one too many).

A cell that would run as a formula when the file is opened again in a spreadsheet is for the caller to refuse
beside its row (formula_problem), so the person sees which cell to fix.
"""

import csv
import datetime
import io
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError

# Far more than any layout's real columns, and small enough that no header check ever has much to look through.
MAX_COLUMNS = 100
MB = 1_048_576
SAVE_AS_CSV = "In your spreadsheet choose Save As, then 'CSV UTF-8', and upload that."


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (line or spreadsheet row number, the cells as text, stripped)


def read_table(
    upload, *, max_bytes: int, max_rows: int, max_columns: int = MAX_COLUMNS, excel: bool = False, what: str = "file"
) -> Table:
    """The upload as a header and rows of text. Raises ValidationError (a message about the whole file)."""
    raw = _read_bytes(upload, max_bytes=max_bytes, what=what)
    if raw.startswith(b"PK\x03\x04"):
        if not excel:
            raise ValidationError(
                f"This is not a CSV file (it looks like a spreadsheet or other binary file). {SAVE_AS_CSV}"
            )
        return _read_workbook(raw, max_rows=max_rows, max_columns=max_columns, what=what)
    return _read_csv(decode_text(raw), max_rows=max_rows, max_columns=max_columns, what=what)


def _read_bytes(upload, *, max_bytes: int, what: str) -> bytes:
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise ValidationError(
            f"The file is {size / MB:.1f} MB; the largest {what} accepted is {max_bytes / MB:.0f} MB. "
            "Split it into smaller files."
        )
    raw = upload.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise ValidationError(f"The file is larger than {max_bytes / MB:.0f} MB. Split it into smaller files.")
    if not raw.strip():
        raise ValidationError("The file is empty.")
    return raw


def decode_text(raw: bytes) -> str:
    """UTF-8 text (a byte-order mark allowed), or a message saying how to save the file so that it is."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValidationError(
            f"The file is saved as 'Unicode text' (UTF-16), which this import does not read. {SAVE_AS_CSV}"
        )
    if b"\x00" in raw:
        raise ValidationError(
            f"This is not a CSV file (it has binary content: NUL bytes, as in a spreadsheet or a document). "
            f"{SAVE_AS_CSV}"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ValidationError(
            f"The file is not in UTF-8 (unreadable characters on line {line}; it may have been saved as "
            f"'CSV' or 'Windows' text). {SAVE_AS_CSV}"
        ) from None


def _too_wide(count: int, max_columns: int, what: str) -> ValidationError:
    return ValidationError(f"The header row has {count} columns; a {what} has at most {max_columns}.")


def _too_long(max_rows: int) -> ValidationError:
    return ValidationError(f"The file has more than {max_rows:,} rows. Split it into smaller files.")


def _read_csv(text: str, *, max_rows: int, max_columns: int, what: str) -> Table:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header, rows = None, []
    try:
        for values in reader:
            if header is None and len(values) > max_columns:
                raise _too_wide(len(values), max_columns, what)
            if not any(v.strip() for v in values):
                continue  # blank lines (or lines of bare commas) are spacing, not rows
            if header is None:
                header = [v.strip() for v in values]
                continue
            if len(rows) >= max_rows:
                raise _too_long(max_rows)
            rows.append((reader.line_num, [v.strip() for v in values]))
    except csv.Error as error:
        raise ValidationError(f"The file could not be read as CSV (line {reader.line_num}): {error}.") from None
    if header is None:
        raise ValidationError("The file is empty.")
    return Table(header=header, rows=rows)


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_workbook(raw: bytes, *, max_rows: int, max_columns: int, what: str) -> Table:
    """The first sheet of an .xlsx workbook. Formulas come back as their text ("=..."), never as the value Excel
    last worked out, so the caller refuses them as it does in a CSV. openpyxl reads the XML through defusedxml."""
    import openpyxl  # only an Excel upload needs it

    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
        if unpacked > settings.IMPORT_MAX_UNZIPPED_BYTES:
            raise ValidationError(
                f"The workbook unpacks to {unpacked / MB:.0f} MB; the most accepted is "
                f"{settings.IMPORT_MAX_UNZIPPED_BYTES / MB:.0f} MB. {SAVE_AS_CSV}"
            )
        workbook = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=False)
    except ValidationError:
        raise
    except Exception:  # noqa: BLE001 - any damaged or foreign zip: one message, never a server error
        raise ValidationError(f"The file could not be read as an Excel workbook (.xlsx). {SAVE_AS_CSV}") from None
    try:
        sheet = workbook.worksheets[0]
        header, rows = None, []
        for number, cells in enumerate(sheet.iter_rows(max_col=max_columns + 1, values_only=True), start=1):
            values = [_cell_text(v) for v in cells]
            while values and not values[-1]:
                values.pop()
            if header is None and len(values) > max_columns:
                raise _too_wide(len(values), max_columns, what)
            if not any(values):
                continue
            if header is None:
                header = values
                continue
            if len(rows) >= max_rows:
                raise _too_long(max_rows)
            rows.append((number, values))
    finally:
        workbook.close()
    if header is None:
        raise ValidationError("The workbook's first sheet is empty.")
    return Table(header=header, rows=rows)


# A cell starting with one of these runs as a formula when the file is opened in a spreadsheet ("+44..." and
# "-1" are numbers, not formulas, so + and - count only before something that is not a digit or a space).
def formula_problem(value: str) -> str:
    """A message if this cell is a spreadsheet formula (refused: it would run when someone opens the file)."""
    if not value:
        return ""
    first, rest = value[0], value[1:2]
    if first in "=@" or (first in "+-" and rest and not (rest.isdigit() or rest in " (")):
        return f"'{value[:30]}' is a spreadsheet formula, not a value: type the value itself."
    return ""
