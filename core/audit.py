"""The audit trail: one call, inside the same transaction as the change it records; and its hash chain.

An entry is inserted unsealed and takes no lock, so an audited transaction never waits on another one because of
the trail (a lock held from the first audit row to COMMIT deadlocked the alert sweep against requests). The seal
runs afterwards in its own short transaction: after each audited transaction commits, in the alert sweeper's
thread every tick, and in `manage.py audit_verify`. Only the sealer takes the chain's lock, and it holds no other.
The chain's order is the seal's (`seq`), not the insert's, so transactions that commit out of order are fine.
"""

import datetime
import logging
from dataclasses import dataclass

from django.db import connection, models, transaction
from django.utils import timezone

from .dates import add_years
from .models import AuditCheckpoint, AuditEntry
from .models.audit import AUDIT_KEEP_YEARS, GENESIS_HASH, actor_name_of, chain_hash

logger = logging.getLogger(__name__)

# A transaction-level advisory lock (released at the seal's own commit), taken by sealers only; the key is just a
# fixed number for "the audit chain".
SEAL_LOCK_KEY = 0x4155444954  # "AUDIT"
SEAL_BATCH = 1000
# Older than this and still unsealed: no sealer is running (audit_verify warns).
SEAL_LATE_AFTER = datetime.timedelta(minutes=1)


def audit(*, actor, action: str, obj: models.Model, summary: str, school=None, **details) -> AuditEntry:
    entry = _entry(actor=actor, action=action, obj=obj, summary=summary, school=school, **details)
    entry.save(force_insert=True)
    _seal_after_commit()
    return entry


def audit_many(entries: list[dict]) -> list[AuditEntry]:
    """Several entries in one INSERT, each given as audit()'s arguments and written as audit() writes it: for work
    that records many changes in one transaction (the alert sweep raising a burst of alerts)."""
    rows = [_entry(**entry) for entry in entries]
    if not rows:
        return rows
    for row in rows:
        if row.actor_id:
            row.actor_name = actor_name_of(row.actor)[:300]
    # The manager refuses bulk_create so that every entry is built here, as audit() builds it.
    models.QuerySet.bulk_create(AuditEntry.objects.all(), rows)
    _seal_after_commit()
    return rows


def _entry(*, actor, action: str, obj: models.Model, summary: str, school=None, **details) -> AuditEntry:
    if school is None:
        school = getattr(obj, "school", None)
    return AuditEntry(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        school=school,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        summary=summary[:300],
        details=details,
    )


def _seal_after_commit() -> None:
    """Seal once the caller's transaction commits; once per transaction, however many entries it writes."""
    if connection.in_atomic_block and any(func is audit_seal_or_log for _, func, _ in connection.run_on_commit):
        return
    transaction.on_commit(audit_seal_or_log)


def audit_seal_or_log(*, wait: bool = False) -> int:
    """The seal as the request path and the sweeper run it: never raises. Without `wait`, a seal already under way
    elsewhere is left to finish (it or the sweeper's next tick picks up what it missed), so a request never queues
    behind another's seal."""
    try:
        return audit_seal(wait=wait)
    except Exception:  # noqa: BLE001 - the entries stay unsealed and the next seal chains them
        logger.exception("Sealing the audit trail failed; the next seal will chain these entries")
        return 0


def audit_seal(*, wait: bool = True) -> int:
    """Chain every committed unsealed entry, in id order, after the last sealed one. Returns how many it sealed.

    Each batch is its own durable transaction (never nested in a caller's): the chain's lock, the head, the new
    rows and COMMIT, with no other lock taken. Only sealers update the trail, so the rows need no row lock."""
    unsealed = AuditEntry.objects.filter(seq__isnull=True)
    sealed = 0
    while unsealed.exists():  # a look at the partial index of unsealed rows: nothing to do costs one query
        with transaction.atomic(durable=True):
            if not _take_seal_lock(wait=wait):
                return sealed
            head = AuditEntry.objects.filter(seq__isnull=False).order_by("-seq").values_list("seq", "entry_hash")
            seq, previous = head.first() or (0, GENESIS_HASH)
            rows = []
            for entry in unsealed.order_by("id")[:SEAL_BATCH]:
                seq += 1
                entry_hash = chain_hash(entry, seq=seq, prev_hash=previous)
                rows.append((seq, previous, entry_hash, entry.pk))
                previous = entry_hash
            with connection.cursor() as cursor:
                cursor.executemany(
                    "UPDATE core_auditentry SET seq = %s, prev_hash = %s, entry_hash = %s "
                    "WHERE id = %s AND seq IS NULL",
                    rows,
                )
        sealed += len(rows)
        if len(rows) < SEAL_BATCH:
            break
    return sealed


def _take_seal_lock(*, wait: bool) -> bool:
    # SQLite (the run command) begins every write transaction holding the database's one write lock.
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK_KEY])
            return True
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SEAL_LOCK_KEY])
        return cursor.fetchone()[0]


def unsealed_late(*, now=None):
    """Entries still unsealed a minute after they were written, oldest first: a sign no sealer is running."""
    now = now or timezone.now()
    return AuditEntry.objects.filter(seq__isnull=True, created_at__lt=now - SEAL_LATE_AFTER).order_by("id")


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
    """Walk the sealed trail in seal order and recompute every hash; stop at the first break. After a prune the
    walk starts at the latest checkpoint: its hash stands in for the removed entries'."""
    previous, previous_id, count = GENESIS_HASH, None, 0
    checkpoint = AuditCheckpoint.objects.order_by("-through_seq").first()
    if checkpoint:
        previous, count = checkpoint.head_hash, checkpoint.through_seq
    start = f"the checkpoint after entry number {count}" if checkpoint else "the start of the trail"
    sealed = AuditEntry.objects.filter(seq__gt=count).order_by("seq")
    for entry in sealed.iterator(chunk_size=2000):
        where = f"entry #{previous_id}" if previous_id else start
        if entry.seq != count + 1:
            missing = f"{count + 1}" if entry.seq == count + 2 else f"{count + 1} to {entry.seq - 1}"
            reason = f"is sealed as number {entry.seq}, but number {missing} after {where} is missing: removed"
            return ChainReport(count, previous, ChainBreak(entry.pk, reason))
        if chain_hash(entry, seq=entry.seq, prev_hash=entry.prev_hash) != entry.entry_hash:
            return ChainReport(count, previous, ChainBreak(entry.pk, "its content no longer matches its hash: edited"))
        if entry.prev_hash != previous:
            reason = f"does not follow {where}: {where} was altered, or an entry between them was replaced"
            return ChainReport(count, previous, ChainBreak(entry.pk, reason))
        previous, previous_id, count = entry.entry_hash, entry.pk, count + 1
    return ChainReport(count, previous, None)


def audit_listing(*, actor, action: str, what: str, objects) -> AuditEntry:
    """One entry for a page that lists people's records: what was listed and which rows, never one per row."""
    ids = [obj.pk for obj in objects]
    return audit(
        actor=actor,
        action=action,
        obj=actor,
        school=None,
        summary=f"Viewed {what} ({len(ids)} shown)",
        object_ids=ids,
    )


def audit_prunable_through(*, now=None) -> int | None:
    """The highest entry number that may go: every sealed entry up to it is over six years old. None when nothing
    may go (or it already has)."""
    now = now or timezone.now()
    cutoff = add_years(now, -AUDIT_KEEP_YEARS)
    sealed = AuditEntry.objects.filter(seq__isnull=False)
    first_young = sealed.filter(created_at__gte=cutoff).order_by("seq").values_list("seq", flat=True).first()
    through = (first_young - 1) if first_young else sealed.order_by("-seq").values_list("seq", flat=True).first()
    done = AuditCheckpoint.objects.order_by("-through_seq").values_list("through_seq", flat=True).first() or 0
    return through if through and through > done else None


def audit_prune(*, actor, through_seq: int, rule: str, now=None) -> AuditCheckpoint:
    """Remove the sealed entries numbered up to `through_seq` (all over six years old), leaving a checkpoint so the
    rest of the chain still verifies. The trail is one chain for the whole installation, so only a superuser may.

    In PostgreSQL the app's role may not DELETE audit entries at all: the owner's core_audit_prune function (SECURITY
    DEFINER) writes the checkpoint and deletes, and the trigger lets through only entries that old and behind it."""
    now = now or timezone.now()
    if not getattr(actor, "is_superuser", False):
        raise PermissionError("Only a superuser may prune the audit trail: it is one chain for every trust.")
    if through_seq != audit_prunable_through(now=now):
        raise ValueError("The entries to remove have changed since they were listed: list them again.")
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT core_audit_prune(%s, %s, %s, %s)",
                    [through_seq, actor.pk, actor_name_of(actor)[:300], rule[:300]],
                )
        else:
            doomed = AuditEntry.objects.filter(seq__isnull=False, seq__lte=through_seq)
            last = AuditEntry.objects.get(seq=through_seq)
            AuditCheckpoint.objects.create(
                through_seq=through_seq,
                head_hash=last.entry_hash,
                through_created_at=last.created_at,
                removed=doomed.count(),
                made_at=now,
                made_by=actor,
                made_by_name=actor_name_of(actor)[:300],
                rule=rule[:300],
            )
            doomed._raw_delete(doomed.db)
        checkpoint = AuditCheckpoint.objects.get(through_seq=through_seq)
        audit(
            actor=actor,
            action="audit.prune",
            obj=checkpoint,
            school=None,
            summary=f"Removed {checkpoint.removed} audit entries over {AUDIT_KEEP_YEARS} years old "
            f"(through number {through_seq}) under: {rule}",
            through_seq=through_seq,
        )
    return checkpoint
