"""Template filters for the safeguarding records' pages."""

from django import template

register = template.Library()


@register.filter
def stale_reason(assessment, day):
    return assessment.stale_reason_on(day)


@register.filter
def lookup(mapping, key):
    return (mapping or {}).get(key, "")
