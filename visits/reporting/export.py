"""The visit search's CSV: the list's columns for every filtered visit, streamed.

Rows are read as plain values through one server-side cursor, a chunk at a time, and each chunk's visitors and
children come in one query each: no model objects, so the time and memory per row stay small and the export
streams in constant memory however many rows it holds (bench/national.py measures it).
"""

import csv
import itertools
from collections import defaultdict
from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils import timezone

from families.models import YearGroup

from ..lifecycle import VisitStatus
from ..models import Purpose, Visit, VisitOutcome, VisitPerson, VisitRole

CHUNK = 2000

# What an export may hold: the list's columns, never free text (reasons, notes, concerns), because a
# spreadsheet leaves the system's need-to-know checks behind.
CSV_COLUMNS = [
    "Visit",
    "Date",
    "Start",
    "School",
    "Household",
    "Children",
    "Year groups",
    "Purpose",
    "Status",
    "Outcome",
    "Lead",
    "Other visitors",
    "Announced",
    "Form submitted",
    "Form on time",
]

PURPOSES, STATUSES = dict(Purpose.choices), dict(VisitStatus.choices)
OUTCOMES, YEAR_GROUPS = dict(VisitOutcome.choices), dict(YearGroup.choices)


class _Echo:
    """A file that hands back what is written to it, so csv.writer makes each line for the response to stream."""

    def write(self, value):
        return value


def cell(value) -> str:
    """Neutralise spreadsheet formulas: a cell starting with = + - @ would run when the file is opened."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_lines(visits: QuerySet[Visit]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    rows = visits.prefetch_related(None).values_list(
        "pk",
        "scheduled_start",
        "school__name",
        "household__name",
        "purpose",
        "status",
        "announced",
        "report__outcome",
        "report__submitted_at",
        "report__due_at",
    )
    cursor = rows.iterator(chunk_size=CHUNK)
    while chunk := list(itertools.islice(cursor, CHUNK)):
        ids = [row[0] for row in chunk]
        people, children = _visitors(ids), _children(ids)
        for pk, start, school, household, purpose, status, announced, outcome, submitted, due in chunk:
            start = timezone.localtime(start)
            leads, others = people.get(pk, ([], []))
            names, year_groups = children.get(pk, ([], set()))
            line = [
                pk,
                f"{start:%Y-%m-%d}",
                f"{start:%H:%M}",
                school,
                household,
                "; ".join(names),
                "; ".join(sorted(year_groups)),
                PURPOSES.get(purpose, purpose),
                STATUSES.get(status, status),
                OUTCOMES.get(outcome, outcome) if submitted else "",
                "; ".join(leads),
                "; ".join(others),
                "yes" if announced else "no",
                f"{timezone.localtime(submitted):%Y-%m-%d %H:%M}" if submitted else "",
                ("yes" if submitted <= due else "no") if submitted else "",
            ]
            yield writer.writerow([cell(value) for value in line])


def _visitors(ids) -> dict[int, tuple[list[str], list[str]]]:
    """Each visit's lead and other visitors by name, in the visit page's order (role, then as added)."""
    found = defaultdict(lambda: ([], []))
    for visit_id, role, first, last, username, external in (
        VisitPerson.objects.filter(visit_id__in=ids)
        .order_by("visit_id", "role", "pk")
        .values_list("visit_id", "role", "user__first_name", "user__last_name", "user__username", "external_name")
    ):
        name = (f"{first} {last}".strip() or username) if username else external
        found[visit_id][0 if role == VisitRole.LEAD else 1].append(name)
    return found


def _children(ids) -> dict[int, tuple[list[str], set[str]]]:
    """Each visit's children by name (surname order, as a child list is) and their year groups."""
    found = defaultdict(lambda: ([], set()))
    for visit_id, first, last, year_group in (
        Visit.children.through.objects.filter(visit_id__in=ids)
        .order_by("visit_id", "child__last_name", "child__first_name")
        .values_list("visit_id", "child__first_name", "child__last_name", "child__year_group")
    ):
        found[visit_id][0].append(f"{first} {last}")
        found[visit_id][1].add(YEAR_GROUPS.get(year_group, year_group))
    return found
