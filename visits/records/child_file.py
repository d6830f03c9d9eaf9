"""The child's file: everything the system holds about one child's visits and safeguarding, gathered once (a fixed
number of queries however long the history) into plain values for the PDF template, and its chronology."""

import datetime

from django.db.models import Prefetch
from django.utils import timezone

from families.models import Child
from safeguarding.models import Concern

from ..models import FollowUpAction, IncidentKind


def _name(user) -> str:
    return (user.get_full_name() or user.username) if user else ""


def _action(action: FollowUpAction) -> dict:
    return {
        "description": action.description,
        "owner": _name(action.owner),
        "due_on": action.due_on,
        "done": timezone.localtime(action.completed_at) if action.completed_at else None,
        "outcome": action.completion_outcome,
    }


def child_file_context(*, child: Child, produced_by, now=None) -> dict:
    """What the file holds: the child, their family's contact details, the chronology, each visit with its Home
    Visit Form, concerns with their actions and outcomes, incidents (never an accusation against a member of staff:
    that is a staff record, not the child's) and where the file has been sent."""
    now = now or timezone.now()
    child = Child.objects.select_related("school", "household").prefetch_related("household__carers").get(pk=child.pk)
    actions = FollowUpAction.objects.select_related("owner").order_by("due_on", "pk")
    visits = list(
        child.visits.select_related("report", "report__submitted_by", "report__reviewed_by")
        .prefetch_related("people__user", "report__present", Prefetch("actions", queryset=actions), "incidents")
        .order_by("scheduled_start", "pk")
    )
    concerns = list(
        Concern.objects.filter(child=child)
        .select_related("raised_by", "closed_by")
        .prefetch_related(Prefetch("actions", queryset=actions))
        .order_by("raised_at", "pk")
    )
    transfers = list(child.file_transfers.select_related("recorded_by").order_by("sent_on", "pk"))

    chronology, visit_rows, incident_rows = [], [], []
    for visit in visits:
        start = timezone.localtime(visit.scheduled_start)
        report = getattr(visit, "report", None)
        submitted = report if report and report.submitted_at else None
        chronology.append({"at": start, "what": f"Visit ({visit.get_purpose_display()}): {visit.get_status_display()}"})
        if submitted:
            chronology.append(
                {
                    "at": timezone.localtime(report.submitted_at),
                    "what": f"Home Visit Form: {report.get_outcome_display()}",
                }
            )
        visit_actions = [a for a in visit.actions.all() if a.concern_id is None]
        for incident in visit.incidents.all():
            if incident.kind == IncidentKind.ACCUSATION:
                continue
            at = timezone.localtime(incident.occurred_at)
            incident_rows.append({"at": at, "kind": incident.get_kind_display(), "details": incident.details})
            chronology.append({"at": at, "what": f"Incident: {incident.get_kind_display()}"})
        visit_rows.append(
            {
                "start": start,
                "purpose": visit.get_purpose_display(),
                "status": visit.get_status_display(),
                "reason": visit.reason,
                "outcome_wanted": visit.outcome_wanted,
                "people": [f"{p.name} ({p.get_role_display()})" for p in visit.people.all()],
                "report": submitted
                and {
                    "arrived": timezone.localtime(report.arrived_at) if report.arrived_at else None,
                    "departed": timezone.localtime(report.departed_at) if report.departed_at else None,
                    "outcome": report.get_outcome_display(),
                    "child_seen": report.child_seen,
                    "present": [f"{p.name} ({p.relationship})" for p in report.present.all()],
                    "summary": report.parent_summary,
                    "internal_notes": report.internal_notes,
                    "referrals": report.referrals,
                    "next_visit_on": report.next_visit_on,
                    "by": _name(report.submitted_by),
                    "reviewed_by": _name(report.reviewed_by),
                },
                "actions": [_action(a) for a in visit_actions],
            }
        )
    concern_rows = []
    for concern in concerns:
        at = timezone.localtime(concern.raised_at)
        chronology.append({"at": at, "what": f"{concern.get_kind_display()} raised"})
        if concern.closed_at:
            chronology.append({"at": timezone.localtime(concern.closed_at), "what": "Concern closed"})
        concern_rows.append(
            {
                "at": at,
                "kind": concern.get_kind_display(),
                "details": concern.details,
                "action_taken": concern.action_taken,
                "raised_by": _name(concern.raised_by),
                "outcome": concern.outcome,
                "closed_at": timezone.localtime(concern.closed_at) if concern.closed_at else None,
                "closed_by": _name(concern.closed_by),
                "actions": [_action(a) for a in concern.actions.all()],
            }
        )
    for transfer in transfers:
        what = f"File sent to {transfer.new_school} ({transfer.get_method_display()})"
        chronology.append({"at": transfer.sent_on, "day_only": True, "what": what})
    household = child.household
    return {
        "child_protection": bool(concerns),
        "produced_at": timezone.localtime(now),
        "produced_by": _name(produced_by),
        "school": {"name": child.school.name, "address": child.school.address},
        "child": {
            "name": f"{child.first_name} {child.last_name}",
            "date_of_birth": child.date_of_birth,
            "year_group": child.get_year_group_display(),
            "upn": child.upn,
            "left_on": child.left_on,
            "social_worker": ", ".join(
                str(x) for x in (child.social_worker_name, child.social_worker_agency, child.social_worker_phone) if x
            ),
        },
        "household": {
            "name": household.name,
            "address": household.address,
            "languages": household.home_languages,
            "carers": [
                {
                    "name": c.addressed_as,
                    "relationship": c.relationship,
                    "parental_responsibility": c.parental_responsibility,
                    "phone": str(c.phone or ""),
                }
                for c in household.carers.all()
            ],
        },
        "chronology": sorted(chronology, key=lambda e: _sort_key(e["at"])),
        "visits": visit_rows,
        "concerns": concern_rows,
        "incidents": incident_rows,
        "transfers": [
            {
                "new_school": t.new_school,
                "sent_to": t.sent_to,
                "method": t.get_method_display(),
                "sent_on": t.sent_on,
                "receipt_on": t.receipt_on,
                "receipt_from": t.receipt_from,
            }
            for t in transfers
        ],
    }


def _sort_key(at):
    # Dates (a transfer's day) and times (everything else) in one order: a day sorts at its start.
    if isinstance(at, datetime.datetime):
        return at.replace(tzinfo=None)
    return datetime.datetime.combine(at, datetime.time.min)
