"""Retention and disposal: the nightly listing, a DSL's hold, and the confirmation that disposes. Nothing is
disposed of without a person confirming the very items they saw; each disposal leaves a DisposalRecord (what,
when, by whom, under which rule) and an audit row, in the same transaction."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.audit import audit
from core.mail import notify_by_email
from core.models.audit import actor_name_of
from core.permissions import may_keep_safeguarding_records, school_ids_where, trust_admin_trust_ids
from core.roles import SENIOR, Role
from core.selectors import users_with_role

from ..models import DisposalRecord, RetentionItem
from .kinds import KINDS
from .schedule import schedule


def may_review_item(user, item: RetentionItem) -> bool:
    """The school's DSLs and Principal; for a trust-wide record, the trust's admins; for one of neither (the audit
    trail, a text from an unknown number), a superuser."""
    if not user.is_authenticated:
        return False
    if item.school_id:
        return may_keep_safeguarding_records(user, item.school)
    if item.trust_id:
        return item.trust_id in trust_admin_trust_ids(user)
    return user.is_superuser


def items_for(user):
    """The due list a user reviews: the rows `may_review_item` allows, as one query."""
    if user.is_superuser:
        return RetentionItem.objects.all()
    return RetentionItem.objects.filter(
        Q(school_id__in=school_ids_where(user, *SENIOR))
        | Q(school__isnull=True, trust_id__in=trust_admin_trust_ids(user))
    )


def disposals_for(user):
    """The disposal entries a reviewer sees: those of the records they could have reviewed."""
    if user.is_superuser:
        return DisposalRecord.objects.all()
    return DisposalRecord.objects.filter(
        Q(school_id__in=school_ids_where(user, *SENIOR))
        | Q(school__isnull=True, trust_id__in=trust_admin_trust_ids(user))
    )


def may_review_any(user) -> bool:
    return user.is_authenticated and (
        user.is_superuser or bool(school_ids_where(user, *SENIOR)) or bool(trust_admin_trust_ids(user))
    )


@transaction.atomic
def retention_list_due(*, now=None) -> int:
    """The nightly listing: every record the schedule says is due becomes an item for review (a held one keeps its
    hold); items no longer due (the record went, or a new concern keeps it) leave the list. Returns how many are
    listed."""
    now = now or timezone.now()
    rules = schedule()
    listed, newly_due = 0, {}
    for kind, handler in KINDS.items():
        rule = rules.get(kind)
        if rule is None:
            continue
        found = {due.object_id: due for due in handler.due(rule, now=now)}
        existing = set(RetentionItem.objects.filter(kind=kind).values_list("object_id", flat=True))
        RetentionItem.objects.filter(kind=kind).exclude(object_id__in=found).delete()
        new = [due for object_id, due in found.items() if object_id not in existing]
        RetentionItem.objects.bulk_create(
            [
                RetentionItem(
                    kind=kind,
                    object_id=due.object_id,
                    label=due.label[:200],
                    due_on=due.due_on,
                    school_id=due.school_id,
                    trust_id=due.trust_id,
                    listed_at=now,
                )
                for due in new
            ],
            ignore_conflicts=True,  # two beats listing at once: the second finds the rows there
        )
        for due in new:
            if due.school_id:
                newly_due[due.school_id] = newly_due.get(due.school_id, 0) + 1
        listed += len(found)
    audit(
        actor=None,
        action="retention.list",
        obj=RetentionItem(pk=0),  # the list as a whole, not one record on it
        school=None,
        summary=f"Listed {listed} records due for disposal under the retention schedule",
        count=listed,
    )
    for school_id, count in newly_due.items():
        # Only that there is a list to review, and where: the email names no record.
        notify_by_email(
            users_with_role(school=school_id, roles=[Role.DSL]).exclude(email=""),
            f"{count} record(s) newly due for disposal review",
            f"The retention schedule says {count} more record(s) at your school are past their period. Nothing is "
            f"disposed of until a DSL or the Principal confirms: review them at /records/retention/\n",
        )
    return listed


def _reviewable(actor, item: RetentionItem) -> RetentionItem:
    if not may_review_item(actor, item):
        raise PermissionDenied("Only the school's DSLs and Principal review its records for disposal.")
    return item


@transaction.atomic
def retention_hold(*, actor, item: RetentionItem, reason: str, now=None) -> RetentionItem:
    """Keep a record past its period, for a reason (a court case, a sibling's file, a request under the law)."""
    now = now or timezone.now()
    _reviewable(actor, item)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why this record is kept beyond its period."})
    if item.is_held:
        return item
    item.held_at, item.held_by, item.hold_reason = now, actor, reason[:300]
    item.save(update_fields=["held_at", "held_by", "hold_reason"])
    audit(actor=actor, action="retention.hold", obj=item, summary=f"Held from disposal: {item.label}", reason=reason)
    return item


@transaction.atomic
def retention_release(*, actor, item: RetentionItem, now=None) -> RetentionItem:
    """End a hold: the record is back on the due list for the next confirmation."""
    _reviewable(actor, item)
    if not item.is_held:
        return item
    audit(
        actor=actor, action="retention.release", obj=item, summary=f"Hold ended: {item.label}", reason=item.hold_reason
    )
    item.held_at, item.held_by, item.hold_reason = None, None, ""
    item.save(update_fields=["held_at", "held_by", "hold_reason"])
    return item


@transaction.atomic
def retention_confirm(*, actor, item_ids: list[int], now=None) -> list[DisposalRecord]:
    """Dispose of exactly the items the reviewer saw and confirmed (never one listed since, nor one on hold), as
    the schedule says: each one removed or anonymised, leaving its DisposalRecord and nothing else."""
    now = now or timezone.now()
    rules = schedule()
    items = list(
        RetentionItem.objects.select_for_update(of=("self",))
        .filter(pk__in=item_ids)
        .select_related("school")
        .order_by("id")
    )
    if not items:
        raise ValidationError("Nothing to dispose of: the list has changed. Look at it again.")
    for item in items:
        _reviewable(actor, item)
    disposed = []
    for item in items:
        if item.is_held:
            continue
        rule, handler = rules.get(item.kind), KINDS.get(item.kind)
        if rule is None or handler is None or not handler.is_due(item.object_id, rule, now=now):
            item.delete()  # it changed since the list was made: the next listing finds it again if due
            continue
        handler.dispose(item.object_id, rule=rule, actor=actor, now=now)
        record = DisposalRecord.objects.create(
            kind=item.kind,
            object_id=item.object_id,
            label=item.label,
            school=item.school,
            trust_id=item.trust_id,
            action=rule.action,
            rule=f"{rule.in_words} ({rule.source})"[:400],
            due_on=item.due_on,
            disposed_at=now,
            disposed_by=actor,
            disposed_by_name=actor_name_of(actor)[:300],
        )
        audit(
            actor=actor,
            action="retention.dispose",
            obj=record,
            school=item.school,
            summary=f"{item.label}: {rule.action} under the retention schedule ({rule.keep})",
            kind=item.kind,
            object_id=item.object_id,
        )
        item.delete()
        disposed.append(record)
    return disposed
