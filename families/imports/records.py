"""The file's rows, through the mapping, as pupils (each with their carers and the lines they came from) and the
problems of each row in plain words. Pure: no database."""

import datetime
import functools
import re
from dataclasses import dataclass, field

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from stdnum.gb import upn as upn_number

from core.addresses import normalise_postcode_or_blank, parse_parts
from core.tabular import formula_problem

from ..models import YearGroup
from .layouts import FIELDS

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y", "%d %b %Y", "%d %B %Y"]
YES = {"y", "yes", "true", "1", "x"}
# What the MIS exports call a year group -> ours.
_YEAR_WORDS = {"n": "N", "n1": "N", "n2": "N", "nursery": "N", "r": "R", "rec": "R", "reception": "R", "yr": "R"}
LIMITS = {"first_name": 100, "last_name": 100, "address_line1": 200, "address_line2": 200, "town": 100}


@dataclass
class Carer:
    title: str
    first_name: str
    last_name: str
    relationship: str
    parental_responsibility: bool
    phone: str
    email: str
    language: str
    literacy_support_needed: bool

    @property
    def key(self) -> tuple[str, str]:
        return (self.first_name.casefold(), self.last_name.casefold())

    @property
    def addressed_as(self) -> str:
        return " ".join(p for p in [self.title, self.first_name, self.last_name] if p)


@dataclass
class Pupil:
    key: str  # "upn:..." or "mis:..."
    upn: str
    mis_id: str
    first_name: str
    last_name: str
    date_of_birth: datetime.date | None
    year_group: str
    address_line1: str
    address_line2: str
    town: str
    postcode: str
    home_phone: str
    home_language: str
    lines: list[int] = field(default_factory=list)
    carers: list[Carer] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or "(no name)"

    @property
    def address_key(self) -> tuple[str, str]:
        return (self.postcode, parse_parts(line1=self.address_line1, line2=self.address_line2).key)

    @property
    def address(self) -> str:
        return ", ".join(p for p in [self.address_line1, self.address_line2, self.town, self.postcode] if p)


def parse_date(value: str) -> datetime.date:
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(value, fmt).date()  # noqa: DTZ007 - a calendar date, no time
        except ValueError:
            continue
    raise ValueError(value)


def year_group(value: str) -> str:
    """'Year 3', 'Y3', '3', 'Reception', 'R', 'N2' -> ours; ValueError otherwise."""
    text = re.sub(r"[\s_-]", "", value.lower())
    if text in _YEAR_WORDS:
        return _YEAR_WORDS[text]
    digits = re.fullmatch(r"(?:year|yr|y|nc)?(\d{1,2})", text)
    if digits and str(int(digits.group(1))) in YearGroup.values:
        return str(int(digits.group(1)))
    raise ValueError(value)


def upn_problem(value: str) -> str:
    """Why this is not a UPN ("" if it is one). The local authority's number is not checked against a list: new
    authorities keep being made, and a real pupil must never be refused for that."""
    compact = upn_number.compact(value)
    if len(compact) != 13 or not compact[1:12].isdigit() or compact[12] not in upn_number._alphabet:
        return f"'{value}' is not a UPN (13 characters: a letter, 11 digits, then a digit or a letter)."
    if upn_number.calc_check_digit(compact[1:]) != compact[0]:
        return f"'{value}' is not a UPN: its check letter is wrong (mistyped?)."
    return ""


@functools.lru_cache(maxsize=65536)
def phone_or_problem(value: str, what: str) -> tuple[str, str]:
    """The number in E.164, or why it is not one. Cached: each carer's number is on each sibling's row, and
    parsing is most of the time a preview takes."""
    if not value:
        return "", ""
    try:
        number = phonenumbers.parse(value, "GB")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        return "", f"'{value}' is not a phone number ({what})."
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), ""


class _Row:
    """One row's values by our field name, and the problems found reading it."""

    def __init__(self, line: int, cells: dict[str, str]):
        self.line, self.cells, self.problems = line, cells, []

    def get(self, name: str) -> str:
        return self.cells.get(name, "")

    def problem(self, message: str) -> None:
        self.problems.append(message)


def _cells(values: list[str], header: list[str], mapping: dict[str, list[str]]) -> dict[str, str]:
    index = _column_index(tuple(header))
    cells = {}
    for name, columns in mapping.items():
        parts = [values[index[c]] if index.get(c, len(values)) < len(values) else "" for c in columns]
        cells[name] = " ".join(p for p in parts if p).strip()
    return cells


@functools.lru_cache(maxsize=8)
def _column_index(header: tuple[str, ...]) -> dict[str, int]:
    """Each column name's first position (worked out once per file, not once per row)."""
    return {name: i for i, name in reversed(list(enumerate(header)))}


def read_row(line: int, values: list[str], header: list[str], mapping: dict, *, school_urn: str) -> _Row:
    row = _Row(line, _cells(values, header, mapping))
    for value in values:
        if problem := formula_problem(value):
            row.problem(problem)
            return row
    for name, (label, required) in FIELDS.items():
        if required and not row.get(name):
            row.problem(f"{label} is empty.")
    if not (row.get("upn") or row.get("mis_id")):
        row.problem("The pupil has neither a UPN nor an MIS id: one is needed to find them again next time.")
    for name, limit in LIMITS.items():
        if len(row.get(name)) > limit:
            row.problem(f"{FIELDS[name][0]} is longer than {limit} characters.")
    if row.get("upn") and (problem := upn_problem(row.get("upn"))):
        row.problem(problem)
    urn = row.get("urn")
    if urn and urn != school_urn:
        row.problem(
            f"This pupil is on the roll of the school with URN {urn}, not this one"
            f"{f' ({school_urn})' if school_urn else ' (whose URN is not recorded: a trust admin adds it)'}."
        )
    return row


def pupils_from(
    rows: list, header: list[str], mapping: dict, *, school_urn: str, today: datetime.date
) -> tuple[list[Pupil], list[tuple[int, str]]]:
    """The file's pupils in file order, and the problems of rows that belong to no pupil (no key at all)."""
    pupils: dict[str, Pupil] = {}
    loose: list[tuple[int, str]] = []
    for line, values in rows:
        row = read_row(line, values, header, mapping, school_urn=school_urn)
        upn = upn_number.compact(row.get("upn")) if row.get("upn") else ""
        mis_id = row.get("mis_id")[:50]
        key = f"upn:{upn}" if upn else (f"mis:{mis_id}" if mis_id else "")
        if not key:
            loose.extend((line, p) for p in row.problems)
            continue
        pupil = _pupil_of(row, key, upn, mis_id, today)
        found = pupils.get(key)
        if found is None:
            pupils[key] = found = pupil
        else:
            _merge(found, pupil, line)
        found.lines.append(line)
        found.errors.extend((line, p) for p in row.problems)
        carer = _carer_of(row, found)
        if carer and carer.key not in {c.key for c in found.carers}:
            found.carers.append(carer)
    _duplicate_ids(list(pupils.values()))
    return list(pupils.values()), loose


def _pupil_of(row: _Row, key: str, upn: str, mis_id: str, today: datetime.date) -> Pupil:
    dob = None
    if row.get("date_of_birth"):
        try:
            dob = parse_date(row.get("date_of_birth"))
        except ValueError:
            row.problem(f"'{row.get('date_of_birth')}' is not a date (use 2017-03-14 or 14/03/2017).")
        else:
            if dob > today:
                row.problem(f"The date of birth, {dob:%-d %B %Y}, is in the future.")
            elif dob.year < 1990:
                row.problem(f"The date of birth, {dob:%-d %B %Y}, is not a pupil's.")
    year = ""
    if row.get("year_group"):
        try:
            year = year_group(row.get("year_group"))
        except ValueError:
            row.problem(f"'{row.get('year_group')}' is not a year group (Nursery, Reception, or Year 1 to 13).")
    postcode = normalise_postcode_or_blank(row.get("postcode"))
    if row.get("postcode") and not postcode:
        row.problem(f"'{row.get('postcode')}' is not a UK postcode.")
    home_phone, problem = phone_or_problem(row.get("home_phone"), "home telephone")
    if problem:
        row.problem(problem)
    return Pupil(
        key=key,
        upn=upn,
        mis_id=mis_id,
        first_name=row.get("first_name"),
        last_name=row.get("last_name"),
        date_of_birth=dob,
        year_group=year,
        address_line1=row.get("address_line1"),
        address_line2=row.get("address_line2"),
        town=row.get("town"),
        postcode=postcode,
        home_phone=home_phone,
        home_language=row.get("home_language")[:200],
    )


# What must agree on every row of one pupil (a pupil with three carers is three rows of the same pupil).
_SAME = ["upn", "mis_id", "first_name", "last_name", "date_of_birth", "year_group", "address_key"]


def _merge(found: Pupil, again: Pupil, line: int) -> None:
    differs = [name for name in _SAME if getattr(found, name) != getattr(again, name)]
    if not differs:
        return
    if any(name in differs for name in ("first_name", "last_name", "date_of_birth")):
        ident = f"UPN {found.upn}" if found.upn else f"MIS id {found.mis_id}"
        found.errors.append(
            (line, f"{ident} is also on line {found.lines[0]} for another pupil ({found.name}): a UPN is one pupil's.")
        )
    else:
        labels = {"address_key": "address", "year_group": "year group", "upn": "UPN", "mis_id": "MIS id"}
        what = ", ".join(labels.get(d, d) for d in differs)
        found.errors.append((line, f"Gives this pupil a different {what} from line {found.lines[0]}."))


def _duplicate_ids(pupils: list[Pupil]) -> None:
    """An MIS id shared by two UPNs: two pupils the file says are one."""
    by_mis: dict[str, Pupil] = {}
    for pupil in pupils:
        if not pupil.mis_id:
            continue
        other = by_mis.setdefault(pupil.mis_id, pupil)
        if other is not pupil:
            pupil.errors.append(
                (pupil.lines[0], f"MIS id {pupil.mis_id} is also {other.name}'s (line {other.lines[0]}).")
            )


def _carer_of(row: _Row, pupil: Pupil) -> Carer | None:
    first, last = row.get("carer_first_name"), row.get("carer_last_name")
    if not (first or last):
        return None
    if not (first and last):
        pupil.errors.append((row.line, "The carer needs a first name and a surname, as the MIS holds them."))
        return None
    phone, problem = phone_or_problem(row.get("carer_phone"), "carer's mobile")
    if problem:
        pupil.errors.append((row.line, problem))
    email = row.get("carer_email")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            pupil.errors.append((row.line, f"'{email}' is not an email address."))
            email = ""
    pr = row.get("carer_parental_responsibility")
    return Carer(
        title=row.get("carer_title")[:20],
        first_name=first[:100],
        last_name=last[:100],
        relationship=(row.get("carer_relationship") or "Contact")[:50],
        parental_responsibility=pr.lower() in YES if "carer_parental_responsibility" in row.cells else True,
        phone=phone,
        email=email[:254],
        language=row.get("carer_language")[:50],
        literacy_support_needed=row.get("carer_literacy_support").lower() in YES,
    )
