"""Address normalisation: pure functions, no database. The prohibited-addresses list matches with it, and the
MIS import finds the household at an address with it.

Two addresses are the same place when their postcodes are equal (normalised by django-localflavor) and their
premises (house number or name, street, flat) have the same words once case, punctuation, spacing and common
abbreviations are made uniform. Same postcode with different premises is a *near* match for a DSL to judge.
"""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from .fields import normalise_postcode

# Both spellings map to one canonical word, so "High St" and "High Street" agree. "St" can also mean "Saint"
# ("St Johns Road"), so street, saint and st all become "st": the position of the word keeps them apart.
ABBREVIATIONS = {
    "street": "st",
    "saint": "st",
    "str": "st",
    "road": "rd",
    "avenue": "ave",
    "av": "ave",
    "avn": "ave",
    "lane": "ln",
    "drive": "dr",
    "drv": "dr",
    "close": "cl",
    "court": "ct",
    "crt": "ct",
    "crescent": "cres",
    "cresc": "cres",
    "cr": "cres",
    "gardens": "gdns",
    "gdn": "gdns",
    "garden": "gdns",
    "place": "pl",
    "square": "sq",
    "terrace": "ter",
    "terr": "ter",
    "tce": "ter",
    "park": "pk",
    "green": "grn",
    "grove": "gr",
    "gro": "gr",
    "gv": "gr",
    "house": "ho",
    "hse": "ho",
    "flat": "flat",
    "flt": "flat",
    "apartment": "flat",
    "apt": "flat",
    "unit": "flat",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "mount": "mt",
    "way": "way",
    "parade": "pde",
    "hill": "hl",
    "cottages": "cotts",
    "cottage": "cott",
    "and": "and",
    "&": "and",
    "the": "",  # "The Old Rectory" and "Old Rectory" are one house
}

POSTCODE_IN_TEXT = re.compile(r"\b(GIR\s*0AA|[A-Z]{1,2}[0-9][0-9A-Z]?\s*[0-9][A-Z]{2})\s*$", re.IGNORECASE)
_NON_WORD = re.compile(r"[^0-9a-z&-]+")
# "12 a" and "12a" are the same house: join a lone letter to the number before it.
_SPLIT_HOUSE_LETTER = re.compile(r"\b(\d+)\s+([a-z])\b")


def normalise_postcode_or_blank(value: str) -> str:
    """The postcode in django-localflavor's normal form ('LU1 1AA'), or '' if it is not a UK postcode."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        return normalise_postcode(re.sub(r"\s+", "", value))
    except ValidationError:
        return ""


def premises_tokens(text: str, *, town: str = "") -> tuple[str, ...]:
    """The premises as canonical words, sorted so 'Flat 2, 12 High St' equals '12 High Street, Flat 2'.

    A trailing town (if given) is dropped, so '12 High St, Luton' equals '12 High Street' in Luton.
    """
    words = _words(text)
    town_words = _words(town)
    if town_words and len(words) > len(town_words) and words[-len(town_words) :] == town_words:
        words = words[: -len(town_words)]
    return tuple(sorted(w for w in words if w))


def _words(text: str) -> list[str]:
    text = re.sub(r"['\u2019`]", "", (text or "").lower()).replace("&", " & ")  # "John's" is "Johns"
    text = _SPLIT_HOUSE_LETTER.sub(r"\1\2", text)
    text = _NON_WORD.sub(" ", text)
    # "12-14" stays one token (a range of houses); any other hyphen is spacing.
    text = re.sub(r"(?<!\d)-|-(?!\d)", " ", text)
    return [ABBREVIATIONS.get(w, w) for w in text.split()]


@dataclass(frozen=True)
class ParsedAddress:
    premises: tuple[str, ...]
    postcode: str  # normal form, or '' when none was found
    town: str = ""

    @property
    def key(self) -> str:
        """What the database indexes: premises words joined, for a quick equality lookup."""
        return " ".join(self.premises)


def parse_address(text: str, *, town: str = "") -> ParsedAddress:
    """Split a one-line address ('12a High St, LU1 1AA') into premises words and a postcode."""
    text = (text or "").strip().rstrip(",. ")
    postcode = ""
    found = POSTCODE_IN_TEXT.search(text)
    if found:
        postcode = normalise_postcode_or_blank(found.group(1))
        if postcode:
            text = text[: found.start()].rstrip(",. ")
    return ParsedAddress(premises=premises_tokens(text, town=town), postcode=postcode, town=town)


def parse_parts(*, line1: str, line2: str = "", town: str = "", postcode: str = "") -> ParsedAddress:
    lines = ", ".join(p for p in [line1, line2] if p and p.strip())
    return ParsedAddress(
        premises=premises_tokens(lines), postcode=normalise_postcode_or_blank(postcode), town=town.strip()
    )


def compare(candidate: ParsedAddress, entry: ParsedAddress) -> str | None:
    """'exact', 'near' or None. A candidate given as one line may still carry the entry's town at its end."""
    cand_premises = candidate.premises
    if entry.town and not candidate.town:
        # One-line input: drop the entry's town words if the candidate ends with them (order lost by sorting,
        # so remove them as a multiset).
        town_words = [w for w in _words(entry.town) if w]
        remaining = list(cand_premises)
        if all(w in remaining for w in town_words) and len(remaining) > len(town_words):
            for w in town_words:
                remaining.remove(w)
            if tuple(remaining) == entry.premises:
                cand_premises = tuple(remaining)
    same_premises = cand_premises == entry.premises and bool(entry.premises)
    if candidate.postcode and entry.postcode:
        if candidate.postcode == entry.postcode:
            return "exact" if same_premises else "near"
        return "near" if same_premises and _same_town(candidate, entry) else None
    # One side has no postcode: the premises alone cannot prove it, so a DSL judges.
    return "near" if same_premises else None


def _same_town(a: ParsedAddress, b: ParsedAddress) -> bool:
    if not a.town or not b.town:
        return True
    return _words(a.town) == _words(b.town)
