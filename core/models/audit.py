"""The audit trail's rows: append-only, each one sealed with the hash of the one before."""

import datetime
import hashlib
import json

import pgtrigger
from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

# The chain's lock: one transaction at a time appends, so two never link to the same predecessor. A transaction-level
# advisory lock (released at commit or rollback) costs no table; the key is just a fixed number for "the audit chain".
CHAIN_LOCK_KEY = 0x4155444954  # "AUDIT"
GENESIS_HASH = "0" * 64


class AuditEntryQuerySet(models.QuerySet):
    def bulk_create(self, *args, **kwargs):
        raise TypeError("Audit entries are chained one by one: use core.audit.audit().")


class AuditEntry(models.Model):
    """Who did what, to which record, when: written beside every state change and sensitive view.

    Never updated or deleted (a trigger refuses both in PostgreSQL). `entry_hash` covers this row's content and the
    hash of the row before it (`prev_hash`), so an edit made behind the trigger's back, or a removed row, breaks the
    chain that `manage.py audit_verify` walks.
    """

    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    # PROTECT: a person who appears in the trail is deactivated, never deleted; their name is kept as text besides.
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
    # Unique: two entries can never name the same predecessor, so the chain cannot fork.
    prev_hash = models.CharField(max_length=64, editable=False, unique=True, default="")
    entry_hash = models.CharField(max_length=64, editable=False, default="")

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["object_type", "object_id"])]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Audit entries are never changed once written.")
        if self.actor_id and not self.actor_name:
            self.actor_name = actor_name_of(self.actor)[:300]
        # savepoint=False: inside a request or a service this joins their transaction (the lock is held to its
        # commit); on its own it makes one, so the lock still covers the read of the head and the insert.
        with transaction.atomic(savepoint=False):
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
            # SQLite (the run command) writes one transaction at a time, so there the head cannot move under us.
            head = AuditEntry.objects.order_by("-id").values_list("entry_hash", flat=True).first()
            self.prev_hash = head or GENESIS_HASH
            # Kept as the database gives it back (UTC), so the hash recomputes the same.
            self.created_at = self.created_at.astimezone(datetime.UTC)
            self.entry_hash = chain_hash(self)
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Audit entries are never deleted.")


def actor_name_of(user) -> str:
    """The text kept for an actor: their username and, when known, their full name."""
    if user is None:
        return ""
    full_name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return f"{user.username} ({full_name})" if full_name else user.username


def chain_hash(entry) -> str:
    """SHA-256 over the predecessor's hash and every column that says who did what, when.

    A module function (not only a method) so that migrations and the verifier hash exactly as the writer does.
    """
    content = {
        "prev": entry.prev_hash,
        "at": entry.created_at.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
        "actor": entry.actor_id,
        "actor_name": entry.actor_name,
        "school": entry.school_id,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "summary": entry.summary,
        # Through JSON and back first: tuples, integer keys and the like hash as the database will return them.
        "details": json.loads(json.dumps(entry.details)),
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()
