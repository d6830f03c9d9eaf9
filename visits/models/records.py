"""Records kept by the law: what the retention schedule says is due for disposal (and any hold on it), the entry a
disposal leaves behind, and a leaver's child-protection file sent on to their new school."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import PermanentRecord, School, Trust
from families.models import Child


class RetentionItem(models.Model):
    """A record the nightly listing found past its retention period, waiting for a DSL's review: held (with a
    reason) or confirmed for disposal. Names the record by kind and number only: the list itself must not become
    one more copy of what is being disposed of."""

    kind = models.CharField(max_length=30, help_text="The schedule's record kind (visits/records/schedule.py).")
    object_id = models.CharField(max_length=40)
    # Whose review it is: the school's DSLs and Principal; with no school, the trust's admins; with neither (the
    # audit trail, a text from an unknown number), a superuser.
    school = models.ForeignKey(School, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    label = models.CharField(max_length=200, help_text="The record as the list shows it, without personal details.")
    due_on = models.DateField()
    listed_at = models.DateTimeField()
    held_at = models.DateTimeField(null=True, blank=True)
    held_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    hold_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["due_on", "kind", "id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="retention_item_once"),
            models.CheckConstraint(
                name="retention_hold_has_reason", condition=Q(held_at__isnull=True) | ~Q(hold_reason="")
            ),
        ]
        indexes = [models.Index(fields=["school", "due_on"], name="retention_items_by_school")]

    def __str__(self):
        return f"{self.label} (due {self.due_on:%d %b %Y})"

    @property
    def is_held(self) -> bool:
        return self.held_at is not None


class DisposalRecord(PermanentRecord):
    """What is left of a disposed record: what it was (kind and number), when, by whom, under which rule, and
    whether it was removed or anonymised. Nothing about the person it concerned."""

    kind = models.CharField(max_length=30)
    object_id = models.CharField(max_length=40)
    label = models.CharField(max_length=200)
    school = models.ForeignKey(School, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    trust = models.ForeignKey(Trust, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=20, help_text="removed or anonymised")
    rule = models.CharField(max_length=400, help_text="The schedule's rule, in words, with its source.")
    due_on = models.DateField()
    disposed_at = models.DateTimeField()
    disposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    disposed_by_name = models.CharField(max_length=300)

    class Meta:
        ordering = ["-disposed_at", "-id"]

    def __str__(self):
        return f"{self.label}: {self.action} {self.disposed_at:%d %b %Y}"


class TransferMethod(models.TextChoices):
    SECURE_SYSTEM = "secure_system", "Transferred in the safeguarding system (CPOMS, MyConcern or similar)"
    SECURE_EMAIL = "secure_email", "Secure email"
    BY_HAND = "by_hand", "By hand, signed for"
    RECORDED_POST = "recorded_post", "Recorded delivery"


class ChildFileTransfer(models.Model):
    """A leaver's file sent on to the new school (KCSIE: the DSL sends the child-protection file separately from
    the main file, within five school days, and keeps confirmation of receipt). Until the receipt is recorded the
    DSLs are reminded."""

    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="file_transfers")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    new_school = models.CharField(max_length=200, help_text="The school the child has moved to, and its town.")
    sent_to = models.CharField(max_length=200, help_text="Who it was sent to there: their DSL's name and contact.")
    method = models.CharField(max_length=20, choices=TransferMethod.choices)
    sent_on = models.DateField()
    child_protection_file = models.BooleanField(help_text="The file held child-protection records when it was sent.")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    receipt_on = models.DateField(null=True, blank=True)
    receipt_from = models.CharField(max_length=200, blank=True, help_text="Who confirmed receipt, and how.")
    receipt_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    receipt_recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_on", "-id"]
        constraints = [
            models.CheckConstraint(name="transfer_method_valid", condition=Q(method__in=TransferMethod.values)),
            models.CheckConstraint(
                name="transfer_receipt_says_from_whom", condition=Q(receipt_on__isnull=True) | ~Q(receipt_from="")
            ),
        ]
        indexes = [
            models.Index(fields=["school", "sent_on"], condition=Q(receipt_on__isnull=True), name="transfers_awaiting"),
        ]

    def __str__(self):
        return f"File of {self.child} sent to {self.new_school} on {self.sent_on:%d %b %Y}"

    @property
    def awaiting_receipt(self) -> bool:
        return self.receipt_on is None


class SubjectAccessRequest(models.Model):
    """A request under the UK GDPR's right of access, from a parent or carer or for a child: everything the system
    holds about them, produced after a DSL has reviewed it and marked each third party's details for redaction. The
    law gives a month from receipt."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    # SET_NULL: an MIS import may remove a carer; the request (and its audit trail) stays, its export no longer can.
    carer = models.ForeignKey(
        "families.ParentCarer", on_delete=models.SET_NULL, null=True, blank=True, related_name="access_requests"
    )
    child = models.ForeignKey(Child, on_delete=models.PROTECT, null=True, blank=True, related_name="access_requests")
    received_on = models.DateField(help_text="The day the request reached the school: the month runs from here.")
    requested_by = models.CharField(max_length=200, help_text="Who asked, and how their identity was checked.")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField()
    # The third parties (by their key in visits/records/subject_access.py) whose details are withheld.
    redact = models.JSONField(default=list, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_on", "-id"]
        constraints = [
            models.CheckConstraint(
                name="access_request_has_one_subject", condition=Q(carer__isnull=True) | Q(child__isnull=True)
            ),
        ]

    def __str__(self):
        return f"Subject access request #{self.pk} received {self.received_on:%d %b %Y}"

    @property
    def is_reviewed(self) -> bool:
        return self.reviewed_at is not None
