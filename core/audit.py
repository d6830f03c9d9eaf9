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
