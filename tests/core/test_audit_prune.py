"""Entries over six years old leave the audit trail only behind a checkpoint: what remains still verifies, and
the database refuses every other removal (a younger entry, or an old one with no checkpoint before it)."""

import datetime

import pgtrigger
import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from core.audit import audit, audit_prunable_through, audit_prune, audit_seal, audit_seal_or_log, verify_chain
from core.models import AuditCheckpoint, AuditEntry
from tests.factories import UserFactory
from tests.helpers import as_database_owner

TRIGGERS = ("core.AuditEntry:append_only", "core.AuditEntry:sealed_once")
RULE = "Audit entries: 6 years (trust default)"


@pytest.fixture(autouse=True)
def _an_empty_trail(cast):
    with as_database_owner(), pgtrigger.ignore(*TRIGGERS):
        AuditEntry.objects.all().delete()
    connection.run_on_commit = [c for c in connection.run_on_commit if c[1] is not audit_seal_or_log]


def _trail(cast, *, old=3, young=2):
    long_ago = timezone.now() - datetime.timedelta(days=365 * 7)
    for i in range(old):
        AuditEntry.objects.create(
            created_at=long_ago + datetime.timedelta(minutes=i),
            actor=cast.dsl,
            school=cast.school,
            action="test.old",
            object_type="core.school",
            object_id=str(cast.school.pk),
            summary=f"Old step {i}",
        )
    for i in range(young):
        audit(actor=cast.dsl, action="test.young", obj=cast.school, summary=f"Young step {i}")
    audit_seal()


def _refused(change):
    try:
        with transaction.atomic():
            change()
    except DatabaseError:
        return True
    return False


def test_old_entries_go_behind_a_checkpoint_and_the_rest_still_verifies(cast):
    _trail(cast)
    root = UserFactory(username="root", is_superuser=True)
    assert audit_prunable_through() == 3

    with pytest.raises(PermissionError):
        audit_prune(actor=cast.trust_admin, through_seq=3, rule=RULE)
    checkpoint = audit_prune(actor=root, through_seq=3, rule=RULE)
    audit_seal()

    assert checkpoint.removed == 3 and checkpoint.made_by == root and checkpoint.rule == RULE
    assert list(AuditEntry.objects.order_by("seq").values_list("action", flat=True)) == [
        "test.young",
        "test.young",
        "audit.prune",
    ]
    report = verify_chain()
    assert report.broken is None and report.entries == 6
    assert audit_prunable_through() is None  # nothing more is old enough


def test_a_young_entry_or_one_with_no_checkpoint_before_it_cannot_be_deleted_even_by_the_owner(cast):
    _trail(cast)
    old = AuditEntry.objects.get(seq=1)
    young = AuditEntry.objects.get(seq=4)
    with as_database_owner():
        assert _refused(lambda: AuditEntry.objects.filter(pk=old.pk)._raw_delete("default"))
    audit_prune(actor=UserFactory(username="root", is_superuser=True), through_seq=3, rule=RULE)
    with as_database_owner():
        assert _refused(lambda: AuditEntry.objects.filter(pk=young.pk)._raw_delete("default"))
        # The checkpoint is as permanent as the trail.
        assert _refused(lambda: AuditCheckpoint.objects.update(through_seq=4))
        assert _refused(lambda: AuditCheckpoint.objects.all()._raw_delete("default"))
    assert AuditEntry.objects.filter(pk=young.pk).exists()


def test_a_list_gone_stale_is_refused_and_a_gap_after_the_checkpoint_is_still_found(cast):
    _trail(cast)
    root = UserFactory(username="root", is_superuser=True)
    with pytest.raises(ValueError, match="changed since they were listed"):
        audit_prune(actor=root, through_seq=4, rule=RULE)
    audit_prune(actor=root, through_seq=3, rule=RULE)
    audit_seal()
    with as_database_owner(), pgtrigger.ignore(*TRIGGERS):
        AuditEntry.objects.filter(seq=4)._raw_delete("default")
    broken = verify_chain().broken
    assert broken is not None and "number 4 after the checkpoint after entry number 3" in broken.reason
