"""Reads for the request pages: the visit list, the visit page, the approvals queue and the child picker."""

from django.db.models import Q, QuerySet

from core.forms import without_control_characters
from families.models import Child

from ..access import visible_visits
from ..models import Visit
from .policy import pending_for


def visit_list(*, user) -> QuerySet[Visit]:
    """The visits this user may see, latest first, with what the list shows."""
    return (
        visible_visits(user)
        .select_related("household", "school")
        .prefetch_related("people__user", "children")
        .order_by("-scheduled_start")
    )


def visit_page_queryset() -> QuerySet[Visit]:
    """A visit with everything its page and the decision page show (get_visit_for applies need to know)."""
    return Visit.objects.select_related("household", "school", "requested_by").prefetch_related(
        "people__user",
        "children",
        "transitions__actor",
        "checkins__recorded_by",
        "decisions__decided_by",
        "parent_notifications__recorded_by",
    )


def approvals_queue(*, user) -> QuerySet[Visit]:
    """Requests awaiting a decision at the user's schools, oldest first."""
    return (
        visible_visits(user, pending_for(user=user))
        .select_related("household", "school", "requested_by")
        .prefetch_related("people__user", "children")
    )


def child_options(*, user, query: str, selected_ids) -> tuple[list[Child], set[int]]:
    """The ticked children first, then up to 20 at the user's schools whose name matches the query."""
    base = Child.objects.for_user(user).on_roll().select_related("household").order_by("last_name", "first_name")
    selected_ids = {int(i) for i in map(str, selected_ids) if i.isascii() and i.isdigit() and len(i) < 10}
    chosen = list(base.filter(pk__in=selected_ids))
    found = []
    words = without_control_characters(query).split()  # PostgreSQL cannot even compare with a NUL
    if words:
        matches = base.exclude(pk__in=selected_ids)
        for word in words[:4]:
            matches = matches.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word))
        found = list(matches[:20])
    return chosen + found, {c.pk for c in chosen}
