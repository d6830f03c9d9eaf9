"""Which language a family's letters are written in besides English, and whether they get the plain-words version.

Chosen from what the school recorded: a carer's preferred language first (those with parental responsibility
before others), then the household's home languages. The translations (locale/<code>/LC_MESSAGES/django.po) were
machine-prepared and need a native speaker's check (README, "Letters in the family's language").
"""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class LetterLanguage:
    code: str
    name: str  # in English, as staff see it
    own_name: str  # in the language itself, as the letter names it
    rtl: bool = False

    @property
    def direction(self) -> str:
        return "rtl" if self.rtl else "ltr"


LETTER_LANGUAGES = {
    lang.code: lang
    for lang in (
        LetterLanguage("pl", "Polish", "Polski"),
        LetterLanguage("ro", "Romanian", "Română"),
        LetterLanguage("ur", "Urdu", "اردو", rtl=True),
        LetterLanguage("pa", "Punjabi", "ਪੰਜਾਬੀ"),
        LetterLanguage("bn", "Bengali", "বাংলা"),
        LetterLanguage("ar", "Arabic", "العربية", rtl=True),
        LetterLanguage("pt", "Portuguese", "Português"),
        LetterLanguage("es", "Spanish", "Español"),
        LetterLanguage("so", "Somali", "Soomaali"),
        LetterLanguage("lt", "Lithuanian", "Lietuvių"),
    )
}
# How schools write them in the MIS and on the forms (lower case), to our codes.
NAMES = {
    "polish": "pl",
    "polski": "pl",
    "romanian": "ro",
    "urdu": "ur",
    "punjabi": "pa",
    "panjabi": "pa",
    "bengali": "bn",
    "bangla": "bn",
    "sylheti": "bn",
    "arabic": "ar",
    "portuguese": "pt",
    "spanish": "es",
    "somali": "so",
    "lithuanian": "lt",
    **{code: code for code in ("pl", "ro", "ur", "pa", "bn", "ar", "pt", "es", "so", "lt")},
}


def language_named(text: str) -> LetterLanguage | None:
    """The first language we write letters in among those named in `text` ("English, Polish"), else None."""
    for part in re.split(r"[,;/&]| and ", (text or "").lower()):
        code = NAMES.get(part.strip())
        if code:
            return LETTER_LANGUAGES[code]
    return None


def family_language(household, carers=None) -> LetterLanguage | None:
    carers = list(household.carers.all()) if carers is None else carers
    for carer in sorted(carers, key=lambda c: not c.parental_responsibility):
        found = language_named(carer.language)
        if found:
            return found
    return language_named(household.home_languages)


def needs_plain_words(household, carers=None) -> bool:
    carers = list(household.carers.all()) if carers is None else carers
    return any(c.literacy_support_needed for c in carers)
