"""A child who has left for another school: the file produced for them, where it was sent, how, when, and the
receipt. KCSIE: the DSL sends the child-protection file to the new school's DSL within five school days, separately
from the main file, and keeps confirmation of receipt; until it is recorded the school's DSLs are reminded."""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core.audit import audit
from core.mail import notify_by_email
from core.permissions import may_keep_safeguarding_records, school_ids_where
from core.roles import SENIOR, Role
from core.selectors import users_with_role
from families.models import Child
from families.services import child_mark_left

from ..after import pdf
from ..models import ChildFileTransfer, TransferMethod
from .child_file import child_file_context

SEND_WITHIN_SCHOOL_DAYS = 5


def add_school_days(day: datetime.date, days: int) -> datetime.date:
    """`days` weekdays after `day`. Term dates and bank holidays are not known here, so this is the earliest the
    deadline can be: a DSL who sends by then is in time."""
    while days > 0:
        day += datetime.timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def _senior_only(actor, school) -> None:
    if not may_keep_safeguarding_records(actor, school):
        raise PermissionDenied("Only the school's DSLs and Principal open a child's file.")


def children_for_files(user):
    """The children whose file this user may open: those of the schools where they are a DSL or the Principal."""
    return Child.objects.filter(school_id__in=school_ids_where(user, *SENIOR))


@transaction.atomic
def child_file_produce(*, actor, child: Child, now=None) -> bytes:
    """The child's file as one PDF; producing it is audited (who, when, whether it held child-protection records)."""
    _senior_only(actor, child.school)
    context = child_file_context(child=child, produced_by=actor, now=now)
    audit(
        actor=actor,
        action="child_file.produce",
        obj=child,
        school=child.school,
        summary=f"Produced the {'child-protection ' if context['child_protection'] else ''}file of {child}",
        visits=len(context["visits"]),
        concerns=len(context["concerns"]),
    )
    return pdf.child_file_pdf(context)


@transaction.atomic
def child_transfer_record(
    *,
    actor,
    child: Child,
    left_on: datetime.date,
    new_school: str,
    sent_to: str,
    method: str,
    sent_on: datetime.date,
    now=None,
) -> ChildFileTransfer:
    """The child has left for another school: off the roll from `left_on` (families.services.child_mark_left), and
    their file sent to `sent_to` at `new_school` on `sent_on`, by `method`."""
    now = now or timezone.now()
    _senior_only(actor, child.school)
    errors = {}
    if not (new_school or "").strip():
        errors["new_school"] = "Say which school the child has moved to."
    if not (sent_to or "").strip():
        errors["sent_to"] = "Say who it was sent to there (their DSL, and how to reach them)."
    if method not in TransferMethod.values:
        errors["method"] = "Say how it was sent."
    if sent_on and sent_on > timezone.localdate(now):
        errors["sent_on"] = "The day it was sent cannot be in the future."
    if errors:
        raise ValidationError(errors)
    child_mark_left(child=child, actor=actor, left_on=left_on, reason=f"Moved to {new_school.strip()}")
    has_concerns = child.concerns.exists()
    transfer = ChildFileTransfer(
        child=child,
        school=child.school,
        new_school=new_school.strip(),
        sent_to=sent_to.strip(),
        method=method,
        sent_on=sent_on,
        child_protection_file=has_concerns,
        recorded_by=actor,
        recorded_at=now,
    )
    transfer.full_clean()
    transfer.save()
    late = sent_on > add_school_days(left_on, SEND_WITHIN_SCHOOL_DAYS)
    audit(
        actor=actor,
        action="child_file.sent",
        obj=transfer,
        school=child.school,
        summary=f"File of {child} sent to {transfer.new_school} on {sent_on:%-d %b %Y}"
        + (" (later than five school days after they left)" if late else ""),
        child_protection_file=has_concerns,
        method=method,
    )
    return transfer


@transaction.atomic
def child_transfer_receipt(
    *, actor, transfer: ChildFileTransfer, receipt_on: datetime.date, receipt_from: str, now=None
) -> ChildFileTransfer:
    """The new school confirmed it has the file: the reminders stop."""
    now = now or timezone.now()
    _senior_only(actor, transfer.school)
    errors = {}
    if not (receipt_from or "").strip():
        errors["receipt_from"] = "Say who confirmed receipt, and how (e.g. their DSL, by email)."
    if receipt_on is None:
        errors["receipt_on"] = "Give the day receipt was confirmed."
    elif receipt_on < transfer.sent_on or receipt_on > timezone.localdate(now):
        errors["receipt_on"] = "The receipt must be between the day it was sent and today."
    if errors:
        raise ValidationError(errors)
    locked = ChildFileTransfer.objects.select_for_update().get(pk=transfer.pk)
    if locked.receipt_on:
        return locked
    locked.receipt_on, locked.receipt_from = receipt_on, receipt_from.strip()[:200]
    locked.receipt_recorded_by, locked.receipt_recorded_at = actor, now
    locked.save(update_fields=["receipt_on", "receipt_from", "receipt_recorded_by", "receipt_recorded_at"])
    audit(
        actor=actor,
        action="child_file.receipt",
        obj=locked,
        school=locked.school,
        summary=f"Receipt of the file sent to {locked.new_school} confirmed on {receipt_on:%-d %b %Y}",
    )
    return locked


def transfers_awaiting(*, user):
    """Files sent with no receipt yet, at the schools where the user is a DSL or the Principal: oldest first."""
    return (
        ChildFileTransfer.objects.filter(school_id__in=school_ids_where(user, *SENIOR), receipt_on__isnull=True)
        .select_related("child", "school", "recorded_by")
        .order_by("sent_on", "pk")
    )


def transfer_reminders_send(*, now=None) -> int:
    """Nightly: each school's DSLs are told how many files still wait for a receipt (the email says only that and
    where to look). Returns how many schools were reminded."""
    now = now or timezone.now()
    waiting = ChildFileTransfer.objects.filter(receipt_on__isnull=True).select_related("school")
    by_school = {}
    for transfer in waiting:
        by_school.setdefault(transfer.school, []).append(transfer)
    for school, transfers in by_school.items():
        oldest = min(t.sent_on for t in transfers)
        notify_by_email(
            users_with_role(school=school, roles=[Role.DSL]).exclude(email=""),
            f"{len(transfers)} leaver's file(s) still without a receipt at {school}",
            f"{len(transfers)} child file(s) sent to a new school have no confirmation of receipt yet (the oldest "
            f"sent on {oldest:%-d %B %Y}). Chase the receiving school's DSL, then record the receipt: "
            f"/records/transfers/\n",
        )
    return len(by_school)
