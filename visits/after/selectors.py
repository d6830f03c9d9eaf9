"""Reads for the after-visit work: forms still to write or sign off, overdue actions, incidents."""

import datetime
from dataclasses import dataclass

from django.db.models import Max, Q, QuerySet

from core.models import EffectivePolicy
from core.roles import SENIOR, Role, schools_where

from ..access import visible_visits
from ..models import FollowUpAction, Incident, IncidentKind, Visit, VisitPerson, VisitReport, VisitRole, VisitStatus


@dataclass(frozen=True)
class ReportDue:
    visit: Visit
    due_at: datetime.datetime
    late: bool


def reports_due(*, user, now: datetime.datetime, mine_only: bool = False) -> list[ReportDue]:
    """Forms still to write: the user's own as lead, or every one at their schools for a DSL/Principal."""
    qs = visible_visits(user).filter(status=VisitStatus.RETURNED)
    mine = Q(pk__in=VisitPerson.objects.filter(user=user, role=VisitRole.LEAD).values("visit_id"))
    qs = qs.filter(mine if mine_only else mine | Q(school_id__in=schools_where(user, *SENIOR)))
    visits = list(
        qs.select_related("household", "school", "report").annotate(
            returned_at=Max("transitions__at", filter=Q(transitions__to_status=VisitStatus.RETURNED))
        )
    )
    schools = {v.school_id: v.school for v in visits}
    hours = {pk: policy.report_due_hours for pk, policy in EffectivePolicy.for_schools(schools.values()).items()}
    due = []
    for visit in visits:
        report = getattr(visit, "report", None)
        due_at = (
            report.due_at
            if report
            else ((visit.returned_at or visit.expected_return) + datetime.timedelta(hours=hours[visit.school_id]))
        )
        due.append(ReportDue(visit=visit, due_at=due_at, late=now > due_at))
    return sorted(due, key=lambda d: d.due_at)


def reports_awaiting_review(*, user) -> QuerySet[Visit]:
    """Submitted forms a DSL or the Principal has still to sign off (none for anyone else)."""
    return (
        visible_visits(user)
        .filter(status=VisitStatus.REPORTED, school_id__in=schools_where(user, *SENIOR))
        .select_related("household", "report__submitted_by")
        .order_by("report__submitted_at")
    )


def overdue_actions(*, user, today: datetime.date) -> QuerySet[FollowUpAction]:
    """The user's own overdue actions, or every overdue action at their schools for a DSL/Principal."""
    qs = FollowUpAction.objects.for_user(user).overdue(today).select_related("owner", "visit__household")
    return qs.filter(Q(owner=user) | Q(school_id__in=schools_where(user, *SENIOR)))


def visible_incidents(*, user):
    """Incidents go to the DSLs and Principal; an accusation against staff to the Principal alone."""
    principal_at, dsl_at = schools_where(user, Role.PRINCIPAL), schools_where(user, Role.DSL)
    return Incident.objects.filter(
        Q(school_id__in=principal_at) | (Q(school_id__in=dsl_at) & ~Q(kind=IncidentKind.ACCUSATION))
    )


def action_rows() -> QuerySet[FollowUpAction]:
    """Follow-up actions with what their lists show beside them."""
    return FollowUpAction.objects.select_related("owner", "visit__household", "child", "completed_by", "concern")


def report_visit_queryset() -> QuerySet[Visit]:
    """A visit with what the Home Visit Form's pages show of it (get_visit_for applies need to know)."""
    return Visit.objects.select_related("school", "household").prefetch_related("people__user", "children")


def report_of(*, visit) -> VisitReport | None:
    return (
        VisitReport.objects.select_related("submitted_by", "debrief_with", "reviewed_by")
        .prefetch_related("present")
        .filter(visit=visit)
        .first()
    )
