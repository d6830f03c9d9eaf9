"""{% letters_by_post as by_post %}: whether letters can go by post here (GOV.UK Notify is connected).
{% both "..." %}: a letter's sentence in English, and in the family's language beneath it."""

import datetime

from django import template
from django.utils import formats, translation
from django.utils.html import format_html
from django.utils.translation import gettext

from ..after.letter_language import family_language, needs_plain_words
from ..alerts.providers.govuk_notify import letters_by_post_enabled

register = template.Library()


@register.simple_tag
def letters_by_post() -> bool:
    return letters_by_post_enabled()


@register.simple_tag(takes_context=True)
def both(context, msgid: str, date_format: str = "j F Y", **values):
    """A letter's sentence in English and, when the family reads another language, in that language beneath it
    (right to left where it is written so). `values` fill the sentence's %(name)s places; dates are written in each
    language's own month and day names; a value that is itself one of our sentences (a visit's purpose) is
    translated too. The English is the msgid itself, so it reads the same whatever language is active."""
    english = msgid % {k: _value(v, date_format) for k, v in values.items()} if values else msgid
    language = context.get("family_language")
    if not language:
        return english
    with translation.override(language.code):
        filled = {k: _value(v, date_format, translate=True, rtl=language.rtl) for k, v in values.items()}
        translated = gettext(msgid) % filled
    return format_html(
        '{}<span class="tr" lang="{}" dir="{}">{}</span>', english, language.code, language.direction, translated
    )


def _value(value, date_format: str, translate: bool = False, rtl: bool = False):
    if isinstance(value, datetime.datetime | datetime.date):
        return formats.date_format(value, date_format)
    if translate and isinstance(value, str):
        translated = gettext(value)
        if rtl and translated == value:
            # A phone number, a name or an address inside right-to-left text keeps its own left-to-right order
            # (without this, "020 7946 0001" prints as "0001 7946 020").
            return f"\u2066{value}\u2069"
        return translated
    if rtl and value is not None:
        return f"\u2066{value}\u2069"
    return value


@register.simple_tag
def letters_for(household) -> dict:
    """{% letters_for visit.household as letters %}: the language the family's letters add to English, and whether
    they need the plain-words version (and the lead to read it with them)."""
    carers = list(household.carers.all())
    return {"language": family_language(household, carers), "plain": needs_plain_words(household, carers)}
