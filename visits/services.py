"""Every change to a visit goes through here, with its audit entry in the same transaction."""

from django.db import transaction
from django.utils import timezone

from .lifecycle import transition
from .models import (
    Visit,
    VisitStatus,
)

S = VisitStatus
# The visit's life (DESIGN.md). Anything not listed here is refused.
ALLOWED: dict[str, set[str]] = {
    S.DRAFT: {S.REQUESTED, S.CANCELLED, S.FAMILY_DECLINED},
    S.REQUESTED: {S.AUTHORISED, S.DECLINED, S.CHANGES_REQUESTED, S.CANCELLED, S.FAMILY_DECLINED},
    S.CHANGES_REQUESTED: {S.REQUESTED, S.CANCELLED, S.FAMILY_DECLINED},
    S.AUTHORISED: {S.OUT, S.CANCELLED, S.REQUESTED, S.FAMILY_DECLINED},
    S.OUT: {S.ON_SITE, S.RETURNED},
    S.ON_SITE: {S.LEFT},
    S.LEFT: {S.RETURNED},
    S.RETURNED: {S.REPORTED},
    S.REPORTED: {S.REVIEWED},
    S.DECLINED: set(),
    S.FAMILY_DECLINED: set(),
    S.CANCELLED: set(),
    S.REVIEWED: set(),
}


@transaction.atomic
def visit_transition(*, visit: Visit, to_status: str, actor, note: str = "", at=None) -> Visit:
    """Move a visit to its next state, if its life allows it (visits/lifecycle.py)."""
    return transition(visit, to_status=to_status, actor=actor, now=at or timezone.now(), note=note)


# --- requests, decisions and the family's answer ------------------------------------------------------------


# --- After the visit: the Home Visit Form, debrief, DSL review and follow-up actions (issue 6) ---------------
