"""{% setup_checklist %}: the set-up checklist of each school this person keeps, while it is not complete (the
dashboard and the Roles page each show it with one line)."""

from django import template
from django.utils import timezone

from ..setup.checklist import checklist, schools_to_set_up

register = template.Library()


@register.inclusion_tag("safeguarding/_setup_checklist.html", takes_context=True)
def setup_checklist(context):
    user = context["request"].user
    today = timezone.localdate()
    rows = []
    for school in schools_to_set_up(user).order_by("name"):
        items = checklist(school=school, today=today, user=user)
        if not all(item.done for item in items):
            rows.append((school, items))
    return {"rows": rows}
