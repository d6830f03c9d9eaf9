"""State changes to safeguarding records, each with its audit entry in the same transaction."""

# --- Concerns and incidents (issue 6) -------------------------------------------------------------------------

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .audit import audit
from .models import Concern, Incident, IncidentKind, School
from .roles import Role


def _people_with_role(school: School, *roles: str) -> list:
    return list(
        get_user_model().objects.filter(
            groups__name__in=roles, profile__schools=school, is_active=True
        ).exclude(email="").distinct()
    )


def _notify(recipients: list, subject: str, body: str) -> None:
    """Email after the commit, so nobody is told about a record that was rolled back.

    The email says only that there is something to read and where: the details stay in the restricted record.
    """
    addresses = [u.email for u in recipients]
    if addresses:
        transaction.on_commit(
            lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, addresses, fail_silently=False)
        )


@transaction.atomic
def concern_raise(
    *, child, raised_by, details: str, kind: str = "concern", action_taken: str = "", visit=None
) -> Concern:
    """Record a child-protection concern or disclosure and tell the school's DSLs at once."""
    concern = Concern(
        school=child.school, child=child, visit=visit, kind=kind, details=details, action_taken=action_taken,
        raised_by=raised_by, raised_at=timezone.now(),
    )
    concern.full_clean()
    if visit is not None and not visit.children.filter(pk=child.pk).exists():
        raise ValidationError({"child": "This child was not on that visit."})
    concern.save()
    audit(actor=raised_by, action="concern.raise", obj=concern, summary=f"Raised a {concern.get_kind_display()}")
    raiser = raised_by.get_full_name() or raised_by.username
    _notify(
        _people_with_role(concern.school, Role.DSL),
        f"New safeguarding concern at {concern.school}",
        f"{raiser} has raised a {concern.get_kind_display().lower()} at {concern.raised_at:%H:%M on %d %b %Y}.\n"
        f"Read it in the home-visits system: {reverse('safeguarding:concern', args=[concern.pk])}\n",
    )
    return concern


def concern_viewed(*, concern: Concern, actor) -> None:
    audit(actor=actor, action="concern.view", obj=concern, summary=f"Viewed {concern}")


@transaction.atomic
def concern_close(*, concern: Concern, actor, outcome: str) -> Concern:
    locked = Concern.objects.select_for_update().get(pk=concern.pk)
    if locked.closed_at:
        raise ValidationError("This concern is already closed.")
    if not outcome.strip():
        raise ValidationError({"outcome": "Record the outcome before closing the concern."})
    locked.outcome = outcome.strip()
    locked.closed_by = actor
    locked.closed_at = timezone.now()
    locked.full_clean()
    locked.save()
    audit(actor=actor, action="concern.close", obj=locked, summary=f"Closed {locked}")
    return locked


@transaction.atomic
def incident_record(
    *, visit, recorded_by, kind: str, occurred_at: datetime.datetime, details: str, staff_accused=None
) -> Incident:
    """Record an incident during a visit; an accusation against staff goes to the Principal alone."""
    if occurred_at > timezone.now():
        raise ValidationError({"occurred_at": "The incident cannot be in the future."})
    incident = Incident(
        school=visit.school, visit=visit, kind=kind, occurred_at=occurred_at, details=details,
        staff_accused=staff_accused if kind == IncidentKind.ACCUSATION else None,
        recorded_by=recorded_by, recorded_at=timezone.now(),
    )
    incident.full_clean()
    incident.save()
    audit(actor=recorded_by, action="incident.record", obj=incident, summary=f"Recorded {incident}")
    roles = (Role.PRINCIPAL,) if incident.principal_only else (Role.DSL, Role.PRINCIPAL)
    _notify(
        _people_with_role(visit.school, *roles),
        f"Incident during a home visit at {visit.school}",
        f"An incident ({incident.get_kind_display().lower()}) has been recorded.\n"
        f"Read it in the home-visits system: {reverse('safeguarding:incident', args=[incident.pk])}\n",
    )
    mark_household_risk_assessment_for_review(incident=incident, actor=recorded_by)
    return incident


def mark_household_risk_assessment_for_review(*, incident: Incident, actor) -> None:
    """Any incident marks the household's risk assessment for review (policy 002, Appendix 1).

    Risk assessments arrive with another capability (issue 4); until they are merged this does nothing.
    """
    # MERGE SEAM (issue 4): call here
    # risk_assessment_mark_for_review(household=incident.visit.household, reason=f"Incident: {incident}", actor=actor)
    return None
