"""Template helpers: the pre-departure checklist on the visit page, and small lookups."""

from django import template

from safeguarding import services
from safeguarding.checklist import departure_checklist

register = template.Library()


@register.inclusion_tag("safeguarding/_checklist.html", takes_context=True)
def departure_checklist_for(context, visit):
    """`{% departure_checklist_for visit %}` on the visit page: every item, its state, and what this user can do."""
    user = context["request"].user
    items = departure_checklist(visit)
    for item in items:
        item.user_can_override = item.blocking and services.user_may_override(user, item.override_roles) is not None
    assessment = services.current_risk_assessment(visit.household)
    return {
        "request": context["request"],
        "csrf_token": context.get("csrf_token"),
        "visit": visit,
        "items": items,
        "ready": not any(item.blocking for item in items),
        "assessment": assessment,
        "can_act": services.may_set_safe_word(user, visit),
        "can_see_safe_word": services.may_see_safe_word(user, visit),
    }


@register.filter
def stale_reason(assessment, day):
    return assessment.stale_reason_on(day)


@register.filter
def lookup(mapping, key):
    return (mapping or {}).get(key, "")
