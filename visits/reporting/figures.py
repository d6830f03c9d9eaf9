"""Governors' and trust figures per school and term: pure reads, a fixed number of queries.

Terms are simplified English school terms, said so on the page: autumn is September to December, spring
January to March (Easter moves; we stop at the end of March) and summer April to July. August is in no term.
A visit belongs to the term its scheduled start falls in (school time, Europe/London).
"""

import datetime
import hashlib
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.core.cache import cache
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


# A term this long over has nothing left to fall due (forms are due within days of the visit, actions by the
# term's last day): its figures change only when a record of the term does, so they are kept until then.
SETTLED_AFTER = datetime.timedelta(days=14)


def term_figures(schools: list[School], term: Term, *, now: datetime.datetime | None = None) -> list[SchoolFigures]:
    """Every figure for each school in the term, in a fixed number of queries whatever the data size. A settled
    term's figures are kept per school in the cache, under a key made of what they are worked out from (the
    count and the latest change of the term's visits, actions and overdue alerts at the school): a record of
    the term that changes makes a new key, so the next view works that school out again and no other."""
    now = now or timezone.now()
    due_hours = {pk: policy.report_due_hours for pk, policy in EffectivePolicy.for_schools(schools).items()}
    _, end = local_day_bounds(term.last_day)
    if now < end + SETTLED_AFTER or not schools:
        return _term_figures(schools, term, now=now, due_hours=due_hours)
    versions = _input_versions([school.pk for school in schools], term)
    keys = {
        school.pk: f"figures:{term.slug}:{school.pk}:{due_hours[school.pk]}:{versions[school.pk]}" for school in schools
    }
    kept = cache.get_many(list(keys.values()))
    missing = [school for school in schools if keys[school.pk] not in kept]
    if missing:
        fresh = {keys[fig.school.pk]: fig for fig in _term_figures(missing, term, now=now, due_hours=due_hours)}
        cache.set_many(fresh, timeout=FIGURES_KEPT_SECONDS)
        kept.update(fresh)
    results = []
    for school in schools:
        fig = kept[keys[school.pk]]
        fig.school = school  # the school as read now (its name may have changed; the figures have not)
        results.append(fig)
    return results


FIGURES_KEPT_SECONDS = 7 * 24 * 3600


def _input_versions(school_ids: list[int], term: Term) -> dict[int, str]:
    """Per school, a digest of what its figures for the term are worked out from: three grouped queries."""
    start, _ = local_day_bounds(term.first_day)
    _, end = local_day_bounds(term.last_day)
    parts: dict[int, list] = defaultdict(list)
    visits = (
        Visit.objects.filter(school_id__in=school_ids, scheduled_start__gte=start, scheduled_start__lt=end)
        .values("school_id")
        .annotate(n=Count("id"), changed=Max("updated_at"))
        .order_by()
    )
    for row in visits:
        parts[row["school_id"]] += ["v", row["n"], row["changed"]]
    actions = (
        FollowUpAction.objects.filter(school_id__in=school_ids, due_on__gte=term.first_day, due_on__lte=term.last_day)
        .values("school_id")
        .annotate(n=Count("id"), last=Max("id"), done=Count("completed_at"), done_at=Max("completed_at"))
        .order_by()
    )
    for row in actions:
        parts[row["school_id"]] += ["a", row["n"], row["last"], row["done"], row["done_at"]]
    alerts = (
        VisitAlert.objects.filter(
            visit__school_id__in=school_ids, kind=AlertKind.OVERDUE, raised_at__gte=start, raised_at__lt=end
        )
        .values("visit__school_id")
        .annotate(n=Count("id"), last=Max("id"), answered=Count("acknowledged_at"), at=Max("acknowledged_at"))
        .order_by()
    )
    for row in alerts:
        parts[row["visit__school_id"]] += ["o", row["n"], row["last"], row["answered"], row["at"]]
    return {pk: hashlib.sha256(repr(parts[pk]).encode()).hexdigest()[:24] for pk in school_ids}


def _term_figures(schools: list[School], term: Term, *, now: datetime.datetime, due_hours) -> list[SchoolFigures]:
    today = timezone.localdate(now)
    figures = {school.pk: SchoolFigures(school=school) for school in schools}
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
