"""Every change to a family's records goes through here, each with its audit entry in the same transaction."""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core.audit import audit
from core.permissions import may_manage_pupil_roll

from .models import Child, Household

# What the apps above do when a household's address changes (visits sends authorised visits back for a new
# decision). Families may not import them, so they register here.
_household_moved_hooks: list = []


def register_household_moved(hook) -> None:
    _household_moved_hooks.append(hook)


def household_moved(*, household: Household, actor, was: str) -> None:
    """A household's address changed (the caller has saved it, in its transaction, and written its audit entry):
    everything that depended on the old address is told, in the same transaction."""
    if not may_manage_pupil_roll(actor, household.school):
        raise PermissionDenied("Only a DSL, the Principal or a trust admin of the school changes its households.")
    for hook in _household_moved_hooks:
        hook(household=household, actor=actor, was=was)


@transaction.atomic
def child_mark_left(*, child: Child, actor, left_on: datetime.date, reason: str = "") -> Child:
    """The child has left the school's roll on `left_on`. Nothing is deleted: their visits, concerns and chronology
    keep pointing at them; from that day they cannot be chosen for a new visit. Marking again moves the date."""
    if not may_manage_pupil_roll(actor, child.school):
        raise PermissionDenied("Only a DSL, the Principal or a trust admin of the school changes its roll.")
    if left_on is None:
        raise ValidationError({"left_on": "Give the day the child left."})
    if left_on > timezone.localdate() + datetime.timedelta(days=366):
        raise ValidationError({"left_on": "Give a day within the next year."})
    locked = Child.objects.select_for_update().get(pk=child.pk)
    if locked.left_on == left_on:
        return locked
    before = locked.left_on
    locked.left_on = left_on
    locked.save(update_fields=["left_on"])
    audit(
        actor=actor,
        action="child.left",
        obj=locked,
        summary=f"Left the roll on {left_on:%-d %B %Y}",
        left_on=left_on.isoformat(),
        before=before.isoformat() if before else None,
        reason=reason[:300],
    )
    child.left_on = left_on
    return locked


@transaction.atomic
def child_return_to_roll(*, child: Child, actor) -> Child:
    """A leaver marked by mistake (or who came back) is on the roll again."""
    if not may_manage_pupil_roll(actor, child.school):
        raise PermissionDenied("Only a DSL, the Principal or a trust admin of the school changes its roll.")
    locked = Child.objects.select_for_update().get(pk=child.pk)
    if locked.left_on is None:
        return locked
    before = locked.left_on
    locked.left_on = None
    locked.save(update_fields=["left_on"])
    audit(actor=actor, action="child.back_on_roll", obj=locked, summary="Back on the roll", before=before.isoformat())
    child.left_on = None
    return locked
