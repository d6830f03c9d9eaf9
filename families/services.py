"""Every change to a family's records goes through here, each with its audit entry in the same transaction."""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core.audit import audit
from core.permissions import may_manage_pupil_roll

from .models import Child


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
