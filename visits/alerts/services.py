"""What people do about alerts: the office acknowledges one, a check-in answers them, the code word raises duress.
Each change is audited in its own transaction."""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from core.audit import audit
from core.models import EscalationAction

from ..changes import board_changed
from ..lifecycle import now_or
from ..models import (
    AlertKind,
    AlertOutcome,
    CheckIn,
    CheckInKind,
    Visit,
    VisitAlert,
    VisitRole,
)
from ..permissions import may_act_on_alerts, may_check_in
from .sweep import store_alert


def resolve_open_alerts(*, visit: Visit, actor, outcome: str, now, kinds=None) -> int:
    """Close the visit's open alerts (a check-in or 'all fine' answers them). Call with the visit locked."""
    open_alerts = visit.alerts.filter(acknowledged_at__isnull=True)
    if kinds:
        open_alerts = open_alerts.filter(kind__in=kinds)
    return open_alerts.update(acknowledged_at=now, acknowledged_by=actor, outcome=outcome)


def start_new_round(visit: Visit, *, due_back: datetime.datetime) -> None:
    """A new return time: the overdue chain starts again from its first step if they are late again."""
    visit.due_back_at = due_back
    visit.overdue_round += 1
    visit.escalation_level = 0


@transaction.atomic
def alert_acknowledge(
    *,
    alert: VisitAlert,
    actor,
    outcome: str,
    new_return: datetime.datetime | None = None,
    police_reference: str = "",
    note: str = "",
    now=None,
) -> VisitAlert:
    """The office says what it did about an alert. 'Rang, all fine' with a new return time resolves the visit's
    overdue alerts and restarts the chain; 'no answer' and 'police called' leave the chain running."""
    now = now_or(now)
    visit = Visit.objects.locked(alert.visit)
    if not may_act_on_alerts(actor, visit):
        raise PermissionDenied("The board's alerts are for the office, the DSLs and the Principal of this school.")
    alert = VisitAlert.objects.select_for_update().get(pk=alert.pk)
    if alert.acknowledged_at:
        raise ValidationError("This alert has already been acknowledged.")
    if outcome not in {
        AlertOutcome.RANG_ALL_FINE,
        AlertOutcome.RANG_NO_ANSWER,
        AlertOutcome.POLICE_CALLED,
        AlertOutcome.CHECKED_FINE,
    }:
        raise ValidationError({"outcome": "Choose what you did."})
    police_reference = police_reference.strip()
    if outcome == AlertOutcome.POLICE_CALLED and not police_reference:
        raise ValidationError({"police_reference": "Give the police reference number."})
    if outcome == AlertOutcome.RANG_ALL_FINE:
        if new_return is None:
            raise ValidationError({"new_return": "Give the new return time they agreed."})
        if new_return <= now:
            raise ValidationError({"new_return": "The new return time must be in the future."})
    alert.acknowledged_at, alert.acknowledged_by, alert.outcome = now, actor, outcome
    alert.police_reference, alert.note = police_reference, note.strip()
    alert.full_clean()
    alert.save()
    if outcome == AlertOutcome.RANG_ALL_FINE and visit.is_away:
        resolve_open_alerts(
            visit=visit,
            actor=actor,
            outcome=AlertOutcome.RANG_ALL_FINE,
            now=now,
            kinds=[AlertKind.OVERDUE, AlertKind.ON_SITE_TOO_LONG],
        )
        start_new_round(visit, due_back=new_return)
        visit.alert_due_at = visit.next_alert_due(visit.school.policy())
        visit.save(update_fields=["due_back_at", "overdue_round", "escalation_level", "alert_due_at", "updated_at"])
    board_changed()
    audit(
        actor=actor,
        action="alert.acknowledge",
        obj=alert,
        school=visit.school,
        summary=f"{alert.title}: {alert.get_outcome_display()}",
        outcome=outcome,
        police_reference=police_reference,
        new_return=new_return.isoformat() if new_return else None,
    )
    return alert


@transaction.atomic
def visit_raise_duress(*, visit: Visit, actor, from_office: bool, now=None) -> VisitAlert:
    """The code word, from the field's discreet control or the office's button: the top escalation at once.
    A second press while one is open adds nothing (the office is already acting)."""
    now = now_or(now)
    visit = Visit.objects.locked(visit)
    if not (may_act_on_alerts(actor, visit) if from_office else may_check_in(actor, visit)):
        raise PermissionDenied("Only the pair, the office, a DSL or the Principal raise a duress alert.")
    if not visit.is_away:
        raise ValidationError("Duress alerts are for visits that are out.")
    kind = CheckInKind.OFFICE_CODE_WORD if from_office else CheckInKind.DURESS
    pair = set(visit.people.filter(role__in=[VisitRole.LEAD, VisitRole.SECOND]).values_list("user_id", flat=True))
    checkin = CheckIn.objects.create(visit=visit, kind=kind, at=now, recorded_by=actor, on_behalf=actor.pk not in pair)
    existing = visit.alerts.filter(kind=AlertKind.DURESS, acknowledged_at__isnull=True).first()
    if existing:
        return existing
    alert = store_alert(
        visit=visit,
        key=f"duress:{checkin.pk}",
        kind=AlertKind.DURESS,
        due_at=now,
        now=now,
        action=EscalationAction.POLICE_PROMPT,
    )
    audit(actor=actor, action="visit.duress", obj=visit, summary="Duress alert raised", from_office=from_office)
    return alert
