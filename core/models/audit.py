"""The audit trail's rows: append-only, each one sealed into a hash chain after it commits."""

import datetime
import hashlib
import json

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone

GENESIS_HASH = "0" * 64
# The audit trail is kept this long (the retention schedule's "audit entries"); the database refuses to delete a
# younger entry whatever the schedule says, so shortening the schedule cannot shorten the trail.
AUDIT_KEEP_YEARS = 6
# Written once, by the sealer (core.audit.audit_seal), from NULL; every other column never changes.
SEAL_FIELDS = ("seq", "prev_hash", "entry_hash")


class AuditEntryQuerySet(models.QuerySet):
    def bulk_create(self, *args, **kwargs):
        raise TypeError("Audit entries are written one by one: use core.audit.audit().")


class _NotTheSeal(pgtrigger.Condition):
    """True for any UPDATE other than the seal: a content column changes, a sealed row is touched again, or the
    seal is left incomplete. Worked out from the model's fields, so a column added later is covered too."""

    sql = "set in resolve()"

    def resolve(self, model):
        content_changed = pgtrigger.AnyChange(exclude=list(SEAL_FIELDS)).resolve(model)
        unsealed_after = " OR ".join(f'NEW."{name}" IS NULL' for name in SEAL_FIELDS)
        # The outer brackets are the trigger's WHEN (...), which pgtrigger leaves to the condition.
        return f'(({content_changed}) OR OLD."seq" IS NOT NULL OR {unsealed_after})'


class AuditEntry(models.Model):
    """Who did what, to which record, when: written beside every state change and sensitive view.

    Inserted unsealed (no lock, so an audited transaction never waits on another); the sealer then gives each
    committed entry the next `seq`, the hash of the entry before it (`prev_hash`) and its own `entry_hash` over its
    content and `prev_hash`. In PostgreSQL a trigger refuses every DELETE and every UPDATE but that one seal, so an
    edit or a removal made behind the trigger's back breaks the chain `manage.py audit_verify` walks.
    """

    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    # PROTECT, not SET_NULL: blanking the actor would be an UPDATE the trigger refuses and would lose who acted. A
    # person in the trail is deactivated instead; their name is kept as text beside the link.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(max_length=300, blank=True, help_text="The actor's username and name as they acted.")
    school = models.ForeignKey("core.School", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=60, db_index=True)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=40)
    summary = models.CharField(max_length=300)
    details = models.JSONField(default=dict, blank=True)
    # The seal. Unique `seq`: two sealers can never give one place in the chain to two entries (no fork).
    seq = models.PositiveBigIntegerField(null=True, blank=True, unique=True, editable=False)
    prev_hash = models.CharField(max_length=64, null=True, blank=True, editable=False)
    entry_hash = models.CharField(max_length=64, null=True, blank=True, editable=False)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            # The sealer's "anything to do?" is one look at this (empty, once sealed) index.
            models.Index(fields=["id"], condition=models.Q(seq__isnull=True), name="core_audit_unsealed"),
        ]
        triggers = [
            # The only DELETE allowed: a sealed entry over six years old, at or before the latest checkpoint (the
            # checkpoint is written first, by the core_audit_prune function, in the same transaction).
            pgtrigger.Trigger(
                name="append_only",
                operation=pgtrigger.Delete,
                when=pgtrigger.Before,
                func=f"""
                IF OLD."seq" IS NOT NULL
                   AND OLD."created_at" < now() - interval '{AUDIT_KEEP_YEARS} years'
                   AND OLD."seq" <= (SELECT COALESCE(MAX("through_seq"), 0) FROM "core_auditcheckpoint") THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION 'pgtrigger: Cannot delete rows from % table (only sealed entries over '
                    '{AUDIT_KEEP_YEARS} years old, behind a checkpoint)', TG_TABLE_NAME;
                """,  # noqa: S608 - built from a constant, no input
            ),
            pgtrigger.Protect(name="sealed_once", operation=pgtrigger.Update, condition=_NotTheSeal()),
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Audit entries are never changed once written.")
        if self.actor_id and not self.actor_name:
            self.actor_name = actor_name_of(self.actor)[:300]
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Audit entries are never deleted.")


class AuditCheckpoint(models.Model):
    """Where the trail starts after entries over six years old were removed (core.audit.audit_prune): the last
    removed entry's number and hash, so the remaining chain still verifies from there, and who removed them, when,
    under which rule. Written once and never changed or deleted (the database refuses both)."""

    through_seq = models.PositiveBigIntegerField(unique=True)
    head_hash = models.CharField(max_length=64, help_text="The removed entry number through_seq's hash.")
    through_created_at = models.DateTimeField(help_text="When the last removed entry was written.")
    removed = models.PositiveIntegerField(help_text="How many entries were removed.")
    made_at = models.DateTimeField()
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    made_by_name = models.CharField(max_length=300)
    rule = models.CharField(max_length=300, help_text="The retention rule it was done under, in words.")

    class Meta:
        ordering = ["-through_seq"]
        triggers = [
            pgtrigger.Protect(name="checkpoint_kept", operation=pgtrigger.Delete | pgtrigger.Update),
        ]

    def __str__(self):
        return f"Audit trail pruned through entry {self.through_seq} on {self.made_at:%d %b %Y}"


def actor_name_of(user) -> str:
    """The text kept for an actor: their username and, when known, their full name."""
    if user is None:
        return ""
    full_name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return f"{user.username} ({full_name})" if full_name else user.username


def chain_hash(entry, *, seq: int, prev_hash: str) -> str:
    """SHA-256 over the entry's place in the chain, its predecessor's hash and every column that says who did what,
    when. Sealer and verifier both hash the row as the database gives it back, so they always agree."""
    content = {
        "seq": seq,
        "prev": prev_hash,
        "id": entry.id,
        "at": entry.created_at.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
        "actor": entry.actor_id,
        "actor_name": entry.actor_name,
        "school": entry.school_id,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "summary": entry.summary,
        "details": entry.details,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()
