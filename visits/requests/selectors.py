"""Reads for the request pages: the visit list, the visit page, the approvals queue (split by who decides), the
child picker and the second-visitor list."""

import datetime
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.forms import without_control_characters
from core.roles import Role
from core.selectors import member_ids
from families.models import Child

from ..access import visible_visits
from ..models import Visit
from . import policy
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
    return Visit.objects.select_related("household", "school", "requested_by", "driver").prefetch_related(
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


@dataclass
class PendingRequest:
    visit: Visit
    age_text: str
    exceptions: list
    deciders: policy.Deciders
    refusal: str  # why this user may not approve it; "" when it is theirs to decide
    may_decline: bool  # a DSL may still decline (or ask for changes to) a request only the Principal may approve
    group: str  # YOURS, FOR_PRINCIPAL (the Principal alone decides it) or FOR_COLLEAGUE (the user is on it)


YOURS, FOR_PRINCIPAL, FOR_COLLEAGUE = "yours", "for_principal", "for_colleague"


@dataclass
class DecisionQueue:
    """The requests awaiting a decision at the user's schools, oldest first, each with who decides it."""

    rows: list[PendingRequest] = field(default_factory=list)

    def _group(self, name) -> list[PendingRequest]:
        return [row for row in self.rows if row.group == name]

    @property
    def yours(self) -> list[PendingRequest]:
        return self._group(YOURS)

    @property
    def for_principal(self) -> list[PendingRequest]:
        return self._group(FOR_PRINCIPAL)

    @property
    def for_colleague(self) -> list[PendingRequest]:
        return self._group(FOR_COLLEAGUE)


def decision_queue(*, user, now: datetime.datetime | None = None, limit: int = 500) -> DecisionQueue:
    """Who decides each waiting request (policy.who_decides, through policy.decision_refusal): the dashboard and the
    approvals list both show this, so they never disagree. A fixed number of queries, however many rows."""
    now = now or timezone.now()
    policies = {}
    queue = DecisionQueue()
    for visit in approvals_queue(user=user)[:limit]:
        if visit.school_id not in policies:
            policies[visit.school_id] = visit.school.policy()
        school_policy = policies[visit.school_id]
        refusal = policy.decision_refusal(user, visit, approving=True, policy=school_policy)
        involved = visit.requested_by_id == user.pk or any(p.user_id == user.pk for p in visit.people.all())
        queue.rows.append(
            PendingRequest(
                visit=visit,
                age_text=policy.age_words(policy.age(visit, now)),
                exceptions=policy.principal_exceptions(visit, school_policy),
                deciders=policy.who_decides(visit, school_policy),
                refusal=refusal,
                may_decline=not policy.decision_refusal(user, visit, approving=False, policy=school_policy),
                group=YOURS if not refusal else FOR_COLLEAGUE if involved else FOR_PRINCIPAL,
            )
        )
    return queue


def second_visitor_choices(*, school_ids) -> QuerySet:
    """Who may go as the second visitor: visiting staff of these schools. A DSL or the Principal is offered only
    where they also hold the visiting-staff role (they decide requests; the office and trust admins never visit)."""
    return (
        get_user_model()
        .objects.filter(pk__in=member_ids(school_ids=school_ids, roles=[Role.STAFF]), is_active=True)
        .filter(profile__isnull=False)
        .select_related("profile")
        .order_by("first_name", "last_name")
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
