"""Letters in the family's language: the parent copy and the "sorry we missed you" letter carry each sentence in
English and, beneath it, in the language the school recorded for the family (right to left for Arabic and Urdu);
a family who needs help with reading gets a few plain words first, and the lead is told to read it with them."""

import unicodedata

import pytest
from django.urls import reverse

from tests.factories import ChildFactory, ParentCarerFactory, make_reported_visit, make_visit
from tests.visits.after.test_parent_copy import pages, pdf_text
from visits.after.letter_language import LETTER_LANGUAGES, family_language, language_named
from visits.after.pdf import missed_you_pdf, parent_copy_pdf

# A sentence of each letter as the family reads it (from locale/<code>/LC_MESSAGES/django.po).
MISSED_YOU = {
    "pl": "Przepraszamy, że Państwa nie zastaliśmy",
    "ro": "Ne pare rău că nu v-am găsit acasă",
    "ur": "ہم آپ سے نہیں مل سکے",
    "pa": "ਮਾਫ਼ ਕਰਨਾ, ਅਸੀਂ ਤੁਹਾਨੂੰ ਨਹੀਂ ਮਿਲ ਸਕੇ",
    "bn": "দুঃখিত, আমরা আপনাকে পাইনি",
    "ar": "نأسف لأننا لم نجدكم",
    "pt": "Lamentamos não o ter encontrado",
    "es": "Sentimos no haberle encontrado",
    "so": "Waan ka xunnahay inaanan ku helin",
    "lt": "Atsiprašome, kad jūsų neradome namuose",
}
PARENT_COPY = {
    "pl": "O czym rozmawialiśmy i co ustaliliśmy",
    "ro": "Despre ce am vorbit și ce am convenit",
    "ur": "ہم نے کس بارے میں بات کی اور کیا طے کیا",
    "pa": "ਅਸੀਂ ਕਿਸ ਬਾਰੇ ਗੱਲ ਕੀਤੀ ਅਤੇ ਕੀ ਤੈਅ ਕੀਤਾ",
    "bn": "আমরা কী নিয়ে কথা বলেছি এবং কী ঠিক করেছি",
    "ar": "ما تحدثنا عنه واتفقنا عليه",
    "pt": "O que falámos e combinámos",
    "es": "De qué hablamos y qué acordamos",
    "so": "Waxa aan ka wada hadalnay oo aan isku raacnay",
    "lt": "Apie ką kalbėjome ir ką sutarėme",
}


def _letters(text: str) -> str:
    """A text's letters as extraction can give them back: compatibility forms folded (Arabic presentation forms),
    bidi controls, vowel signs and other combining marks dropped (pdftotext loses the Bengali and Gurmukhi vowel
    signs written before their consonant), and no spaces or punctuation (it splits words at conjuncts)."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LN")


def _holds(text: str, sentence: str) -> bool:
    letters, wanted = _letters(text), _letters(sentence)
    return wanted in letters or wanted[::-1] in letters


@pytest.fixture
def household(cast):
    return ChildFactory(household__school=cast.school).household


def test_the_language_comes_from_the_carer_then_the_household():
    assert language_named("English, Polish").code == "pl"
    assert language_named("Panjabi").code == "pa"
    assert language_named("English") is None and language_named("") is None


@pytest.mark.parametrize("code", sorted(LETTER_LANGUAGES))
def test_each_languages_letters_have_the_english_and_the_translation(cast, household, code):
    language = LETTER_LANGUAGES[code]
    ParentCarerFactory(household=household, language=language.name)
    assert family_language(household) == language
    child = household.children.get()

    missed = missed_you_pdf(make_visit(lead=cast.staff, child=child))
    text = pdf_text(missed)
    assert "Sorry we missed you" in text and "nobody answered the door" in text
    assert _holds(text, MISSED_YOU[code]), (code, text)
    assert pages(missed) == 1  # English and the family's language on the same page

    visit = make_reported_visit(lead=cast.staff, visit_fields={"child": child})
    text = pdf_text(parent_copy_pdf(visit))
    assert "What we talked about and agreed" in text and "Signature" in text
    assert _holds(text, PARENT_COPY[code]), (code, text)


def test_a_phone_number_in_right_to_left_text_keeps_its_order(cast, household):
    ParentCarerFactory(household=household, language="Arabic")
    text = pdf_text(missed_you_pdf(make_visit(lead=cast.staff, child=household.children.get())))
    assert "0001 7946 020" not in text and text.count("020 7946 0001") >= 3


def test_an_english_family_gets_english_only(cast, household):
    ParentCarerFactory(household=household, language="English")
    text = pdf_text(missed_you_pdf(make_visit(lead=cast.staff, child=household.children.get())))
    assert "Sorry we missed you" in text and not any(_holds(text, s) for s in MISSED_YOU.values())
    assert "In short" not in text


def test_literacy_support_gets_plain_words_and_a_prompt_to_the_lead(cast, household, client):
    ParentCarerFactory(household=household, language="Somali", literacy_support_needed=True)
    visit = make_reported_visit(lead=cast.staff, visit_fields={"child": household.children.get()})
    text = pdf_text(parent_copy_pdf(visit))
    assert "In short" in text and "Someone from the school will read this letter with you." in text
    assert _holds(text, "Qof ka mid ah dugsiga ayaa warqaddan kula akhrin doona.")
    client.force_login(cast.staff)
    page = client.get(reverse("visits:detail", args=[visit.pk])).content.decode()
    assert "Read the letter with the family." in page and "English and Somali" in page
