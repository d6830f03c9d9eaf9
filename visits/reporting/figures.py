"""Governors' and trust figures per school and term: pure reads, a fixed number of queries.

Terms are simplified English school terms, said so on the page: autumn is September to December, spring
January to March (Easter moves; we stop at the end of March) and summer April to July. August is in no term.
A visit belongs to the term its scheduled start falls in (school time, Europe/London).
"""

import datetime
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from core.dates import local_day_bounds
from core.models import EffectivePolicy, School

from ..lifecycle import BACK, TOOK_PLACE
from ..models import (
    AlertKind,
    AlertOutcome,
    Decision,
    FollowUpAction,
    Purpose,
    Visit,
    VisitAlert,
    VisitOutcome,
    VisitStatus,
)

SEASONS = {  # season: (first month, last month)
    "autumn": (9, 12),
    "spring": (1, 3),
    "summer": (4, 7),
}
SEASON_ORDER = ["spring", "summer", "autumn"]

NOT_WRITTEN = "Form not written yet"


@dataclass(frozen=True)
class Term:
    season: str
    year: int

    @property
    def first_day(self) -> datetime.date:
        return datetime.date(self.year, SEASONS[self.season][0], 1)

    @property
    def last_day(self) -> datetime.date:
        month = SEASONS[self.season][1]
        return datetime.date(self.year + (month == 12), month % 12 + 1, 1) - datetime.timedelta(days=1)

    @property
    def slug(self) -> str:
        return f"{self.year}-{self.season}"

    @property
    def label(self) -> str:
        return f"{self.season.capitalize()} term {self.year}"

    def previous(self) -> "Term":
        i = SEASON_ORDER.index(self.season)
        return Term(SEASON_ORDER[i - 1], self.year - (i == 0))

    @classmethod
    def containing(cls, day: datetime.date) -> "Term":
        """The term this day is in; in August, the summer term just ended."""
        for season, (first, last) in SEASONS.items():
            if first <= day.month <= last:
                return cls(season, day.year)
        return cls("summer", day.year)

    @classmethod
    def from_slug(cls, slug: str) -> "Term | None":
        year, _, season = (slug or "").partition("-")
        if season not in SEASONS or not year.isdigit() or not 2000 <= int(year) <= 2100:
            return None
        return cls(season, int(year))


def recent_terms(today: datetime.date, count: int = 6) -> list[Term]:
    terms = [Term.containing(today)]
    while len(terms) < count:
        terms.append(terms[-1].previous())
    return terms


@dataclass
class Share:
    """`part` of `whole`, e.g. forms written on time out of forms due; no percentage when nothing was due."""

    part: int = 0
    whole: int = 0

    @property
    def percent(self) -> float | None:
        return round(100 * self.part / self.whole, 1) if self.whole else None


@dataclass
class SchoolFigures:
    school: School
    visits: int = 0
    by_purpose: dict[str, int] = field(default_factory=dict)
    by_outcome: dict[str, int] = field(default_factory=dict)
    reports_on_time: Share = field(default_factory=Share)
    authorised_before: Share = field(default_factory=Share)
    decision_hours: list[float] = field(default_factory=list)
    actions_on_time: Share = field(default_factory=Share)
    families_declined: int = 0
    # Overdue alerts raised in the term, by how the office resolved them ("Still open" when not yet).
    overdue_alerts: dict[str, int] = field(default_factory=dict)

    @property
    def overdue_alerts_raised(self) -> int:
        return sum(self.overdue_alerts.values())

    @property
    def median_decision_hours(self) -> float | None:
        return round(statistics.median(self.decision_hours), 1) if self.decision_hours else None


STILL_OPEN = "Still open"


def overdue_alert_figures(school_ids, term: Term) -> dict[int, dict[str, int]]:
    """Overdue alerts raised in the term and how each was resolved, per school: one grouped query."""
    start, _ = local_day_bounds(term.first_day)
    _, end = local_day_bounds(term.last_day)
    rows = (
        VisitAlert.objects.filter(
            visit__school_id__in=school_ids, kind=AlertKind.OVERDUE, raised_at__gte=start, raised_at__lt=end
        )
        .values_list("visit__school_id", "outcome")
        .annotate(n=Count("id"))
        .order_by()
    )
    result: dict[int, dict[str, int]] = {school_id: {} for school_id in school_ids}
    for school_id, outcome, n in rows:
        label = AlertOutcome(outcome).label if outcome else STILL_OPEN
        result[school_id][label] = result[school_id].get(label, 0) + n
    return result


def term_figures(schools: list[School], term: Term, *, now: datetime.datetime | None = None) -> list[SchoolFigures]:
    """Every figure for each school in the term, in a fixed number of queries whatever the data size."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    figures = {school.pk: SchoolFigures(school=school) for school in schools}
    due_hours = {pk: policy.report_due_hours for pk, policy in EffectivePolicy.for_schools(schools).items()}
    start, _ = local_day_bounds(term.first_day)
    _, end = local_day_bounds(term.last_day)
    purposes, outcomes = dict(Purpose.choices), dict(VisitOutcome.choices)

    rows = (
        Visit.objects.filter(school__in=figures, scheduled_start__gte=start, scheduled_start__lt=end)
        .exclude(status=VisitStatus.DRAFT)
        .annotate(
            first_request=Min("transitions__at", filter=Q(transitions__to_status=VisitStatus.REQUESTED)),
            returned_at=Max("transitions__at", filter=Q(transitions__to_status=VisitStatus.RETURNED)),
            first_decision=Min("decisions__decided_at"),
            first_approval=Min("decisions__decided_at", filter=Q(decisions__decision=Decision.APPROVED)),
        )
        .values_list(
            "school_id",
            "household_id",
            "purpose",
            "status",
            "scheduled_start",
            "expected_return",
            "report__outcome",
            "report__submitted_at",
            "report__due_at",
            "first_request",
            "returned_at",
            "first_decision",
            "first_approval",
        )
    )
    declined = defaultdict(set)
    for (
        school_id,
        household_id,
        purpose,
        status,
        scheduled,
        expected_return,
        outcome,
        submitted,
        due_at,
        first_request,
        returned_at,
        first_decision,
        first_approval,
    ) in rows:
        fig = figures[school_id]
        if first_request and first_decision and first_decision >= first_request:
            fig.decision_hours.append((first_decision - first_request).total_seconds() / 3600)
        if status == VisitStatus.FAMILY_DECLINED or outcome == VisitOutcome.DECLINED:
            declined[school_id].add(household_id)
        if status not in TOOK_PLACE:
            continue
        fig.visits += 1
        label = purposes.get(purpose, purpose)
        fig.by_purpose[label] = fig.by_purpose.get(label, 0) + 1
        outcome_label = outcomes.get(outcome, outcome) if submitted else NOT_WRITTEN
        fig.by_outcome[outcome_label] = fig.by_outcome.get(outcome_label, 0) + 1
        fig.authorised_before.whole += 1
        fig.authorised_before.part += bool(first_approval and first_approval <= scheduled)
        if status in BACK:
            due = due_at or (returned_at or expected_return) + datetime.timedelta(hours=due_hours[school_id])
            if submitted or due < now:  # a form still within its time is neither on time nor late yet
                fig.reports_on_time.whole += 1
                fig.reports_on_time.part += bool(submitted and submitted <= due)
    for school_id, households in declined.items():
        figures[school_id].families_declined = len(households)

    actions = FollowUpAction.objects.filter(
        school__in=figures, due_on__gte=term.first_day, due_on__lte=term.last_day
    ).values_list("school_id", "due_on", "completed_at")
    for school_id, due_on, completed_at in actions:
        if completed_at is None and due_on >= today:
            continue  # not due yet and still open: neither on time nor late
        share = figures[school_id].actions_on_time
        share.whole += 1
        share.part += bool(completed_at and timezone.localdate(completed_at) <= due_on)

    for school_id, by_resolution in overdue_alert_figures(list(figures), term).items():
        figures[school_id].overdue_alerts = dict(sorted(by_resolution.items(), key=lambda kv: (-kv[1], kv[0])))
    for fig in figures.values():
        fig.by_purpose = dict(sorted(fig.by_purpose.items(), key=lambda kv: (-kv[1], kv[0])))
        fig.by_outcome = dict(sorted(fig.by_outcome.items(), key=lambda kv: (-kv[1], kv[0])))
    return [figures[school.pk] for school in schools]


def purpose_table(figures: list[SchoolFigures], key: str) -> list[tuple[str, list[int]]]:
    """Rows of label -> count per school (0 where a school had none), for a side-by-side table."""
    labels = Counter()
    for fig in figures:
        labels.update(getattr(fig, key))
    return [(label, [getattr(fig, key).get(label, 0) for fig in figures]) for label, _ in labels.most_common()]
