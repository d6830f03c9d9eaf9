"""The audit trail: one call, inside the same transaction as the change it records."""

from dataclasses import dataclass

from django.db import models

from .models import AuditEntry
from .models.audit import GENESIS_HASH, chain_hash


def audit(*, actor, action: str, obj: models.Model, summary: str, school=None, **details) -> AuditEntry:
    if school is None:
        school = getattr(obj, "school", None)
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        school=school,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        summary=summary[:300],
        details=details,
    )


@dataclass(frozen=True)
class ChainBreak:
    """The first place the chain does not hold: the entry, and what is wrong with it."""

    entry_id: int
    reason: str


@dataclass(frozen=True)
class ChainReport:
    entries: int
    head: str
    broken: ChainBreak | None


def verify_chain() -> ChainReport:
    """Walk the trail in the order it was written and recompute every hash; stop at the first break."""
    previous, previous_id, count = GENESIS_HASH, None, 0
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        if entry.prev_hash != previous:
            where = f"entry #{previous_id}" if previous_id else "the start of the trail"
            reason = f"does not follow {where}: an entry between them was removed, or {where} was altered"
            return ChainReport(count, previous, ChainBreak(entry.pk, reason))
        if chain_hash(entry) != entry.entry_hash:
            return ChainReport(count, previous, ChainBreak(entry.pk, "its content no longer matches its hash: edited"))
        previous, previous_id, count = entry.entry_hash, entry.pk, count + 1
    return ChainReport(count, previous, None)
