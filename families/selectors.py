"""Reads about families that more than one page needs."""

from core.models import AuditEntry

from .models import Household

# What the household's history shows: the changes the MIS import made to it (the audit trail is the history: one
# record of what changed, who did it and when, which nobody can edit).
HISTORY_ACTIONS = ["household.import"]


def household_history(*, household: Household, limit: int = 50):
    return (
        AuditEntry.objects.filter(
            object_type=Household._meta.label_lower, object_id=str(household.pk), action__in=HISTORY_ACTIONS
        )
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )
