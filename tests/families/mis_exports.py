"""A factory of realistic MIS exports: a fictional school of about 400 pupils and 700 carers, written out in any
preset's layout (families/imports/layouts.py) as CSV or .xlsx bytes. Names are invented; phone numbers are in
Ofcom's drama ranges; UPNs are well formed (check letter included) but belong to nobody."""

import csv
import datetime
import io
import random
from dataclasses import dataclass, field

from stdnum.gb import upn as upn_number

from families.imports.layouts import PRESETS

FIRST = ["Ellis", "Noor", "Kit", "Amara", "Jonah", "Safiya", "Remi", "Tobi", "Ines", "Zane", "Lula", "Oren", "Mira"]
SURNAMES = ["Quillfield", "Ashdown", "Brackwell", "Lorrimer", "Tansey", "Fennimore", "Okonjo", "Varga", "Pellingham"]
ADULTS = ["Rowan", "Sam", "Jo", "Alex", "Morgan", "Priya", "Tomasz", "Grace", "Idris", "Mei", "Callum", "Zainab"]
STREETS = ["Willow Lane", "Chestnut Row", "Mill Street", "Orchard Close", "Kiln Road", "Heron Way", "Sedge Court"]
LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # those a postcode's last two may be
RELATIONSHIPS = [("Mother", "Ms"), ("Father", "Mr"), ("Grandmother", "Mrs"), ("Foster carer", "Mx"), ("Aunt", "Dr")]


def make_upn(serial: int, la: int = 380, school: int = 2001, year: int = 17) -> str:
    # A UPN holds three digits of serial per year of allocation: a school of more than 1,000 spans years.
    body = f"{la:03d}{school:04d}{year + serial // 1000:02d}{serial % 1000:03d}"
    return upn_number.calc_check_digit(body) + body


@dataclass
class Person:
    title: str
    first_name: str
    last_name: str
    relationship: str
    mobile: str
    email: str
    parental_responsibility: bool = True
    language: str = "English"


@dataclass
class Home:
    number: str
    street: str
    town: str
    postcode: str
    phone: str
    carers: list = field(default_factory=list)


@dataclass
class PupilRow:
    upn: str
    mis_id: str
    first_name: str
    last_name: str
    date_of_birth: datetime.date
    year: str
    home: Home


def school(pupils: int = 400, carers: int = 700, seed: int = 7) -> list[PupilRow]:
    """About `pupils` pupils in households of one to three siblings, with `carers` carers between them."""
    rng = random.Random(seed)
    rows, homes, serial, carer_count = [], [], 0, 0
    while len(rows) < pupils:
        n = len(homes)
        home = Home(
            number=str(n + 1),
            street=STREETS[n % len(STREETS)],
            town="Eastbridge",
            postcode=f"EB{1 + n % 9} {1 + n % 9}{LETTERS[n % 20]}{LETTERS[(n // 20) % 20]}",
            phone=f"020 7946 {n % 1000:04d}",
        )
        surname = SURNAMES[n % len(SURNAMES)] + ("" if n < len(SURNAMES) else f"-{n}")
        remaining_pupils = pupils - len(rows)
        homes_left = max(1, round(remaining_pupils / 1.67))  # the siblings below average 1.67 a household
        wanted = max(1, min(3, round((carers - carer_count) / homes_left)))
        for c in range(wanted):
            relationship, title = RELATIONSHIPS[(n + c) % len(RELATIONSHIPS)]
            # Carers' own surnames, as the MIS holds them: not always the child's.
            last = surname if c == 0 else SURNAMES[(n + 3 * c) % len(SURNAMES)]
            home.carers.append(
                Person(
                    title=title,
                    first_name=ADULTS[(n + c) % len(ADULTS)],
                    last_name=last,
                    relationship=relationship,
                    mobile=f"0121 496 {(n * 3 + c) % 1000:04d}",
                    email=f"carer{n}-{c}@example.org",
                    parental_responsibility=relationship not in ("Aunt",),
                    language=["English", "Polish", "Urdu", "Somali"][(n + c) % 4],
                )
            )
        carer_count += wanted
        homes.append(home)
        for _sibling in range(1 if remaining_pupils <= 1 else rng.choice([1, 1, 1, 2, 2, 3])):
            if len(rows) >= pupils:
                break
            serial += 1
            year = 1 + serial % 6
            rows.append(
                PupilRow(
                    upn=make_upn(serial),
                    mis_id=str(5000 + serial),
                    first_name=FIRST[serial % len(FIRST)],
                    last_name=surname,
                    date_of_birth=datetime.date(2019 - year, 1 + serial % 12, 1 + serial % 28),
                    year=f"Year {year}",
                    home=home,
                )
            )
    return rows


def _values(pupil: PupilRow, carer: Person | None) -> dict[str, str]:
    home = pupil.home
    values = {
        "upn": pupil.upn,
        "mis_id": pupil.mis_id,
        "first_name": pupil.first_name,
        "last_name": pupil.last_name,
        "date_of_birth": pupil.date_of_birth.strftime("%d/%m/%Y"),
        "year_group": pupil.year,
        "address_line1": f"{home.number} {home.street}",
        "house_number": home.number,
        "street": home.street,
        "address_line2": "",
        "town": home.town,
        "postcode": home.postcode,
        "home_phone": home.phone,
        "home_language": "English",
        "urn": "",
    }
    if carer is not None:
        values.update(
            carer_title=carer.title,
            carer_first_name=carer.first_name,
            carer_last_name=carer.last_name,
            carer_relationship=carer.relationship,
            carer_parental_responsibility="Yes" if carer.parental_responsibility else "No",
            carer_phone=carer.mobile,
            carer_email=carer.email,
            carer_language=carer.language,
            carer_literacy_support="No",
        )
    return values


def columns(preset: str) -> list[tuple[str, str]]:
    """(the file's column name, which value goes in it) in this preset's layout."""
    found = []
    for name, options in PRESETS[preset][1].items():
        option = options[0]
        if isinstance(option, tuple):  # SIMS's house number and street
            found += [(option[0], "house_number"), (option[1], "street")]
        else:
            found.append((option, name))
    return found


def table(rows: list[PupilRow], preset: str, *, override=None) -> list[list[str]]:
    """The export as a list of rows (header first): one row per pupil and carer."""
    cols = columns(preset)
    out = [[name for name, _ in cols]]
    for pupil in rows:
        for carer in pupil.home.carers or [None]:
            values = _values(pupil, carer)
            if override:
                values.update(override(pupil, carer) or {})
            out.append([values.get(key, "") for _, key in cols])
    return out


def as_csv(data: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(data)
    return buffer.getvalue().encode("utf-8")


def as_xlsx(data: list[list]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in data:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
