"""What people do about alerts: the office acknowledges one, a check-in answers them, the code word raises duress,
and a DSL or the Principal confirms the pair safe. Each change is audited in its own transaction."""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from core.audit import audit
from core.models import EscalationAction

from ..changes import board_changed
from ..lifecycle import now_or
from ..models import (
    CLOSED_BY_A_PERSON,
    CONFIRMED_SAFE,
    AlertKind,
    AlertOutcome,
    CheckIn,
    CheckInKind,
    Visit,
    VisitAlert,
    VisitRole,
)
from ..permissions import may_act_on_alerts, may_check_in, may_confirm_safe
from .sweep import store_alert


def resolve_open_alerts(*, visit: Visit, actor, outcome: str, now, kinds=None) -> int:
    """Close the visit's open alerts (a check-in or 'all fine' answers them). Call with the visit locked.
    Never a duress alert: only a DSL or the Principal confirming the pair are safe closes that (alert_confirm_safe);
    nor a child-in-danger one, which a DSL answers."""
    open_alerts = visit.alerts.filter(acknowledged_at__isnull=True).exclude(kind__in=CLOSED_BY_A_PERSON)
    if kinds:
        open_alerts = open_alerts.filter(kind__in=kinds)
    return open_alerts.update(acknowledged_at=now, acknowledged_by=actor, outcome=outcome, next_repeat_at=None)


def start_new_round(visit: Visit, *, due_back: datetime.datetime) -> None:
    """A new return time: the overdue chain (and the lead's reminder) start again if they are late again."""
    visit.due_back_at = due_back
    visit.overdue_round += 1
    visit.escalation_level = 0
    visit.reminder_queued = False


ROUND_FIELDS = ["due_back_at", "overdue_round", "escalation_level", "reminder_queued"]


def recompute_timer(visit: Visit) -> None:
    """Store when the sweep must next look at the visit, from its current fields (after healthchecks'
    alert_after, recomputed on every write). Call with the visit locked, after its other changes are saved."""
    visit.alert_due_at = visit.alert_due()
    Visit.objects.filter(pk=visit.pk).update(alert_due_at=visit.alert_due_at)
    board_changed(visit.school_id)


def rebased_due_back(visit: Visit, checked_out_at: datetime.datetime) -> datetime.datetime:
    """Due back follows what happened: the check-out time plus the planned length, plus any extension."""
    return checked_out_at + visit.planned_length + datetime.timedelta(minutes=visit.extended_minutes)


OVERDUE_OUTCOMES = {
    AlertOutcome.RANG_ALL_FINE,
    AlertOutcome.RANG_NO_ANSWER,
    AlertOutcome.POLICE_CALLED,
    AlertOutcome.CHECKED_FINE,
}
# What the board records on a duress alert: calling the police, a step that leaves it up. Only
# alert_confirm_safe closes it.
DURESS_OUTCOMES = {AlertOutcome.POLICE_CALLED}
# Each doorstep alert's answers; the office's answer to "nobody answers" is what the pair read at the door.
DOORSTEP_OUTCOMES = {
    AlertKind.NO_ANSWER: {AlertOutcome.FAMILY_COMING, AlertOutcome.FAMILY_NO_ANSWER},
    AlertKind.CHILD_DANGER: {AlertOutcome.DSL_SPOKE},
}
FAMILY_CALL_CHECKINS = {
    AlertOutcome.FAMILY_COMING: CheckInKind.FAMILY_COMING,
    AlertOutcome.FAMILY_NO_ANSWER: CheckInKind.FAMILY_NO_ANSWER,
}


def outcomes_for(alert: VisitAlert) -> set[str]:
    """The answers the board may record on this alert."""
    if alert.is_duress:
        return DURESS_OUTCOMES
    return DOORSTEP_OUTCOMES.get(alert.kind, OVERDUE_OUTCOMES)


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
    overdue alerts and restarts the chain; 'no answer' and 'police called' leave the chain running.

    On a duress alert the only answer is "police called" with its reference: it stops the repeats and leaves the
    alert up until a DSL or the Principal confirms the pair are safe (alert_confirm_safe)."""
    now = now_or(now)
    visit = Visit.objects.locked(alert.visit)
    if not may_act_on_alerts(actor, visit):
        raise PermissionDenied("The board's alerts are for the office, the DSLs and the Principal of this school.")
    alert = VisitAlert.objects.select_for_update().get(pk=alert.pk)
    if alert.acknowledged_at:
        raise ValidationError("This alert has already been acknowledged.")
    if alert.is_duress and outcome in CONFIRMED_SAFE:
        raise ValidationError(
            {"outcome": "Only a DSL or the Principal confirms the pair are safe, on the alert's confirm page."}
        )
    if alert.is_duress and alert.police_called_at:
        raise ValidationError(
            f"The police call is already recorded (reference {alert.police_reference}): "
            "a DSL or the Principal confirms the pair are safe."
        )
    if outcome not in outcomes_for(alert):
        raise ValidationError({"outcome": "Choose what you did."})
    police_reference = police_reference.strip()
    if outcome == AlertOutcome.POLICE_CALLED and not police_reference:
        raise ValidationError({"police_reference": "Give the police reference number."})
    if outcome == AlertOutcome.RANG_ALL_FINE:
        if new_return is None:
            raise ValidationError({"new_return": "Give the new return time they agreed."})
        if new_return <= now:
            raise ValidationError({"new_return": "The new return time must be in the future."})
    if alert.is_duress and outcome == AlertOutcome.POLICE_CALLED:
        alert.police_reference, alert.police_called_at = police_reference, now
        alert.note = "\n".join(filter(None, [alert.note, note.strip()]))
        alert.next_repeat_at = None  # someone is acting: no more rounds, but it stays up
        alert.full_clean()
        alert.save()
        recompute_timer(visit)
        audit(
            actor=actor,
            action="alert.police_called",
            obj=alert,
            school=visit.school,
            summary=f"{alert.title}: police called, reference {police_reference}",
            police_reference=police_reference,
        )
        return alert
    alert.acknowledged_at, alert.acknowledged_by, alert.outcome = now, actor, outcome
    alert.police_reference = police_reference or alert.police_reference
    alert.note = "\n".join(filter(None, [alert.note, note.strip()]))
    alert.next_repeat_at = None
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
        visit.save(update_fields=[*ROUND_FIELDS, "updated_at"])
    if outcome in FAMILY_CALL_CHECKINS:
        _tell_the_pair(visit, actor=actor, kind=FAMILY_CALL_CHECKINS[outcome], now=now)
    recompute_timer(visit)
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


def _tell_the_pair(visit: Visit, *, actor, kind: str, now) -> None:
    """The office's answer to "nobody answers", as a check-in on the pair's behalf: the field page reads it (so the
    pair know to wait, or to post the letter and leave) and the timeline shows it. The wait starts now."""
    minutes = visit.school.policy().wait_if_late_minutes if kind == CheckInKind.FAMILY_COMING else None
    CheckIn.objects.create(visit=visit, kind=kind, at=now, recorded_by=actor, on_behalf=True, minutes=minutes)
    visit.save(update_fields=["updated_at"])


SAFE_NOTE_MISSING = "Say how you know they are safe: who spoke to or saw them, where and when."


@transaction.atomic
def alert_confirm_safe(*, alert: VisitAlert, actor, how: str, note: str, now=None) -> VisitAlert:
    """A DSL or the Principal of the visit's school confirms the pair are safe and says how they know (spoke to
    them, saw them, the police confirmed it) in a note: the only way a duress alert closes. Its repeats stop."""
    now = now_or(now)
    visit = Visit.objects.locked(alert.visit)
    if not may_confirm_safe(actor, visit):
        raise PermissionDenied(
            f"Only a DSL or the Principal of {visit.school.name} can confirm the pair are safe and close a "
            "duress alert."
        )
    alert = VisitAlert.objects.select_for_update().get(pk=alert.pk)
    if not alert.is_duress:
        raise ValidationError("Only a duress alert is confirmed safe; answer this one on the board.")
    if alert.acknowledged_at:
        raise ValidationError("This duress alert is already closed: someone has confirmed the pair are safe.")
    errors = {}
    if how not in CONFIRMED_SAFE:
        errors["how"] = "Choose how you know they are safe."
    if not note.strip():
        errors["note"] = SAFE_NOTE_MISSING
    if errors:
        raise ValidationError(errors)
    alert.acknowledged_at, alert.acknowledged_by, alert.outcome = now, actor, how
    alert.note = "\n".join(filter(None, [alert.note, note.strip()]))
    alert.next_repeat_at = None
    alert.full_clean()
    alert.save()
    recompute_timer(visit)
    audit(
        actor=actor,
        action="alert.confirmed_safe",
        obj=alert,
        school=visit.school,
        summary=f"{alert.title}: {alert.get_outcome_display()}",
        outcome=how,
        note=note.strip(),
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
    recompute_timer(visit)
    audit(actor=actor, action="visit.duress", obj=visit, summary="Duress alert raised", from_office=from_office)
    return alert
