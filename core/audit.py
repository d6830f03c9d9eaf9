"""The audit trail: one call, inside the same transaction as the change it records."""

from django.db import models

from .models import AuditEntry


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
