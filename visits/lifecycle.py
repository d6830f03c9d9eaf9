"""The visit's life (DESIGN.md): its statuses, the groups of them the product speaks of, the moves allowed
between them, and the one function that makes a move.

    draft -> requested -> authorised -> out -> on site -> left -> returned -> reported -> reviewed
                  |  \\-> declined            \\-> cancelled
                  \\-> changes requested -> requested

`_transition` is private: the public verbs in requests/, departure/, field/ and after/ call it after checking
who is acting and what the school's policy says, so no row reaches a state the product cannot reach.
"""

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from core.audit import audit

from .changes import board_changed


class VisitStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    REQUESTED = "requested", "Awaiting authorisation"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    DECLINED = "declined", "Declined"
    FAMILY_DECLINED = "family_declined", "Declined by the family"
    AUTHORISED = "authorised", "Authorised"
    CANCELLED = "cancelled", "Cancelled"
    OUT = "out", "Out of school"
    ON_SITE = "on_site", "On site"
    LEFT = "left", "Left the property"
    RETURNED = "returned", "Returned"
    REPORTED = "reported", "Report written"
    REVIEWED = "reviewed", "Reviewed"


S = VisitStatus

# Being planned: the request can still be changed or called off, and the checklist is the thing to work through.
BEFORE_DEPARTURE = (S.DRAFT, S.REQUESTED, S.CHANGES_REQUESTED, S.AUTHORISED)
# The requester can send it (again) for a decision.
SUBMITTABLE = (S.DRAFT, S.CHANGES_REQUESTED)
# Staff are away from school and the office must know when they are back.
AWAY = (S.OUT, S.ON_SITE, S.LEFT)
# Authorised, and still authorised once they have set off (the checklist's first item).
CLEARED_TO_GO = (S.AUTHORISED, *AWAY)
# Back at school: the Home Visit Form is to write, or written.
BACK = (S.RETURNED, S.REPORTED, S.REVIEWED)
REPORT_WRITTEN = (S.REPORTED, S.REVIEWED)
# The pair left school: the visit took place (whatever they found at the door).
TOOK_PLACE = (*AWAY, *BACK)
# What the office sees of today: ready to go, out, or back.
ON_THE_DAY = (*CLEARED_TO_GO, *BACK)
# Holding the visitors' time: nobody may be booked on two of these at once (drafts hold nobody's time).
BOOKED = (S.REQUESTED, S.CHANGES_REQUESTED, *CLEARED_TO_GO)
# Not finished: something is still to happen (a decision, a check-out, a return, a form, a review).
IN_PROGRESS = (*BOOKED, S.RETURNED, S.REPORTED)
# Still open for the people on it: from the first draft until the DSL reviews the form (or it is called off,
# declined or refused). While a visit is in one of these, its requester and pair see the family's records.
OPEN_FOR_FAMILY = (S.DRAFT, *IN_PROGRESS)

# The moves the life allows; anything not listed is refused.
ALLOWED: dict[str, set[str]] = {
    S.DRAFT: {S.REQUESTED, S.CANCELLED, S.FAMILY_DECLINED},
    S.REQUESTED: {S.AUTHORISED, S.DECLINED, S.CHANGES_REQUESTED, S.CANCELLED, S.FAMILY_DECLINED},
    S.CHANGES_REQUESTED: {S.REQUESTED, S.CANCELLED, S.FAMILY_DECLINED},
    S.AUTHORISED: {S.OUT, S.CANCELLED, S.REQUESTED, S.FAMILY_DECLINED},
    S.OUT: {S.ON_SITE, S.RETURNED},
    S.ON_SITE: {S.LEFT},
    S.LEFT: {S.RETURNED},
    # Back to where it was: "Returned" tapped by mistake, undone within two minutes (field.services.visit_undo_return).
    S.RETURNED: {S.REPORTED, S.OUT, S.ON_SITE, S.LEFT},
    S.REPORTED: {S.REVIEWED},
    S.DECLINED: set(),
    S.FAMILY_DECLINED: set(),
    S.CANCELLED: set(),
    S.REVIEWED: set(),
}


@transaction.atomic
def _transition(visit, *, to_status: str, actor, now, note: str = ""):
    """Move a visit to its next status, if its life allows it, with its timeline entry and audit row.

    Locks the row so two clicks cannot race. Only the public verbs call this.
    """
    locked = type(visit).objects.select_for_update().get(pk=visit.pk)
    if to_status not in ALLOWED[locked.status]:
        raise ValidationError(
            f"A visit that is {locked.get_status_display().lower()} cannot become "
            f"{VisitStatus(to_status).label.lower()}."
        )
    from_status = locked.status
    locked.status = to_status
    locked.save(update_fields=["status", "updated_at"])
    locked.transitions.create(from_status=from_status, to_status=to_status, actor=actor, at=now, note=note)
    audit(
        actor=actor,
        action="visit.transition",
        obj=locked,
        summary=f"{from_status} -> {to_status}",
        from_status=from_status,
        to_status=to_status,
    )
    visit.status = to_status
    board_changed(locked.school_id)
    return locked


def now_or(now):
    """The time a verb acts at: the caller's (a test, the demo seed replaying a term) or the clock's."""
    return now or timezone.now()
