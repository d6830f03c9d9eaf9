"""After the visit: incidents and the concerns raised from a visit, each audited in its own transaction."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.audit import audit
from core.mail import notify_by_email
from core.roles import Role
from core.selectors import users_with_role
from safeguarding.models import Concern
from safeguarding.services import concern_raise, risk_assessment_mark_for_review

from ..models import Incident, IncidentKind, VisitConcern


@transaction.atomic
def visit_concern_raise(
    *, visit, child, raised_by, details: str, kind: str = "concern", action_taken: str = ""
) -> Concern:
    """A concern raised from a visit: the safeguarding record (the DSLs hear at once) and its link to the visit."""
    if not visit.children.filter(pk=child.pk).exists():
        raise ValidationError({"child": "This child was not on that visit."})
    concern = concern_raise(child=child, raised_by=raised_by, details=details, kind=kind, action_taken=action_taken)
    VisitConcern.objects.create(concern=concern, visit=visit)
    return concern


@transaction.atomic
def incident_record(
    *, visit, recorded_by, kind: str, occurred_at: datetime.datetime, details: str, staff_accused=None
) -> Incident:
    """Record an incident during a visit; an accusation against staff goes to the Principal alone."""
    if occurred_at > timezone.now():
        raise ValidationError({"occurred_at": "The incident cannot be in the future."})
    incident = Incident(
        school=visit.school,
        visit=visit,
        kind=kind,
        occurred_at=occurred_at,
        details=details,
        staff_accused=staff_accused if kind == IncidentKind.ACCUSATION else None,
        recorded_by=recorded_by,
        recorded_at=timezone.now(),
    )
    incident.full_clean()
    incident.save()
    audit(actor=recorded_by, action="incident.record", obj=incident, summary=f"Recorded {incident}")
    roles = (Role.PRINCIPAL,) if incident.principal_only else (Role.DSL, Role.PRINCIPAL)
    notify_by_email(
        users_with_role(school=visit.school, roles=roles).exclude(email=""),
        f"Incident during a home visit at {visit.school}",
        f"An incident ({incident.get_kind_display().lower()}) has been recorded.\n"
        f"Read it in the home-visits system: {incident.get_absolute_url()}\n",
    )
    mark_household_risk_assessment_for_review(incident=incident, actor=recorded_by)
    return incident


def mark_household_risk_assessment_for_review(*, incident: Incident, actor) -> None:
    """Any incident marks the household's risk assessment for review (policy 002, Appendix 1)."""
    risk_assessment_mark_for_review(household=incident.visit.household, reason=f"Incident: {incident}", actor=actor)
