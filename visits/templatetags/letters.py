"""{% letters_by_post as by_post %}: whether letters can go by post here (GOV.UK Notify is connected)."""

from django import template

from ..alerts.providers.govuk_notify import letters_by_post_enabled

register = template.Library()


@register.simple_tag
def letters_by_post() -> bool:
    return letters_by_post_enabled()
