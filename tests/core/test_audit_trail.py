"""The audit trail is append-only: PostgreSQL refuses UPDATE and DELETE, and the hash chain shows any edit or gap."""

import threading

import pgtrigger
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import ProtectedError

from core.audit import audit, verify_chain
from core.models import AuditEntry
from tests.conftest import APP_ROLE
from tests.helpers import as_database_owner

TRIGGER = "core.AuditEntry:append_only"


def _history(cast, n=5):
    return [
        audit(actor=cast.staff, action="test.step", obj=cast.school, summary=f"Step {i}", step=i, tags=("a", "b"))
        for i in range(n)
    ]


def _refused(change, because="Cannot update or delete rows"):
    """Run one change in a savepoint and say whether the database refused it, for that reason."""
    try:
        with transaction.atomic():
            change()
    except DatabaseError as exc:
        return because in str(exc)
    return False


def test_updates_and_deletes_are_refused_by_the_trigger_even_for_a_superuser(cast):
    entries = _history(cast, 3)
    with as_database_owner():
        _assert_refused(entries[1])


@pytest.mark.skipif(not APP_ROLE, reason="the suite runs as the app role in CI (TEST_DATABASE_APP_ROLE)")
def test_the_app_role_may_only_add_to_the_trail_even_with_the_trigger_ignored(cast):
    entries = _history(cast, 3)
    with pgtrigger.ignore(TRIGGER):
        _assert_refused(entries[1], because="permission denied")


def _assert_refused(target, because="Cannot update or delete rows"):
    assert _refused(lambda: AuditEntry.objects.filter(pk=target.pk).update(summary="Rewritten"), because)
    assert _refused(lambda: AuditEntry.objects.filter(pk=target.pk).delete(), because)
    assert _refused(lambda: AuditEntry.objects.all().delete(), because)

    def raw(sql):
        def run():
            with connection.cursor() as cursor:
                cursor.execute(sql, [target.pk])

        return run

    assert _refused(raw("UPDATE core_auditentry SET summary = 'Rewritten' WHERE id = %s"), because)
    assert _refused(raw("DELETE FROM core_auditentry WHERE id = %s"), because)
    target.refresh_from_db()
    assert target.summary == "Step 1"
    assert AuditEntry.objects.count() == 3


def test_an_entry_cannot_be_saved_again_or_deleted_through_the_model(cast):
    entry = _history(cast, 1)[0]
    entry.summary = "Rewritten"
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.bulk_create([AuditEntry(action="x", object_type="t", object_id="1", summary="s")])
    assert AuditEntry.objects.get(pk=entry.pk).summary == "Step 0"


def test_a_normal_history_verifies(cast, capsys):
    entries = _history(cast, 5)
    assert [e.prev_hash for e in entries[1:]] == [e.entry_hash for e in entries[:-1]]
    call_command("audit_verify")
    out = capsys.readouterr().out
    assert "verified: 5 entries" in out and entries[-1].entry_hash in out
    call_command("audit_verify", expect_head=entries[2].entry_hash)


def test_an_edit_made_with_the_trigger_ignored_is_detected_and_named(cast):
    entries = _history(cast, 5)
    with as_database_owner(), pgtrigger.ignore(TRIGGER):
        AuditEntry.objects.filter(pk=entries[2].pk).update(summary="Nothing happened here")
    with pytest.raises(CommandError, match=rf"broken at entry #{entries[2].pk}: its content no longer matches"):
        call_command("audit_verify")


def test_an_edit_to_the_details_or_the_actor_name_is_detected(cast):
    entries = _history(cast, 3)
    with as_database_owner(), pgtrigger.ignore(TRIGGER):
        AuditEntry.objects.filter(pk=entries[0].pk).update(actor_name="someone else")
    assert verify_chain().broken.entry_id == entries[0].pk


def test_a_deleted_entry_is_detected_at_the_one_after_it(cast):
    entries = _history(cast, 5)
    with as_database_owner(), pgtrigger.ignore(TRIGGER):
        AuditEntry.objects.filter(pk=entries[2].pk).delete()
    expected = rf"broken at entry #{entries[3].pk}: does not follow entry #{entries[1].pk}"
    with pytest.raises(CommandError, match=expected):
        call_command("audit_verify")


def test_a_deleted_first_entry_is_detected(cast):
    entries = _history(cast, 3)
    with as_database_owner(), pgtrigger.ignore(TRIGGER):
        AuditEntry.objects.filter(pk=entries[0].pk).delete()
    assert verify_chain().broken.entry_id == entries[1].pk


def test_removed_latest_entries_are_detected_against_a_kept_head(cast):
    entries = _history(cast, 4)
    kept_head = entries[-1].entry_hash
    with as_database_owner(), pgtrigger.ignore(TRIGGER):
        AuditEntry.objects.filter(pk=entries[-1].pk).delete()
    with pytest.raises(CommandError, match="entries at the end of the trail were removed"):
        call_command("audit_verify", expect_head=kept_head)


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_from_two_connections_keep_one_chain(cast):
    threads_n, per_thread = 2, 25
    start = threading.Barrier(threads_n)
    errors = []

    def append(n):
        try:
            start.wait()
            for i in range(per_thread):
                with transaction.atomic():
                    audit(actor=None, action="test.concurrent", obj=cast.school, summary=f"thread {n} #{i}")
        except Exception as exc:  # a fork shows up here as the unique prev_hash refusing the insert
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=append, args=(n,)) for n in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = verify_chain()
    assert report.broken is None
    assert AuditEntry.objects.filter(action="test.concurrent").count() == threads_n * per_thread
    # One chain: every entry names a different predecessor.
    assert AuditEntry.objects.values("prev_hash").distinct().count() == AuditEntry.objects.count()


def test_the_actor_is_named_on_the_entry_and_survives_deactivation(cast):
    cast.staff.first_name, cast.staff.last_name = "Sam", "Visitor"
    cast.staff.save()
    entry = audit(actor=cast.staff, action="test.step", obj=cast.school, summary="Did a thing")
    cast.staff.is_active = False
    cast.staff.save()
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert entry.actor == cast.staff and entry.actor_name == "staff (Sam Visitor)"
    assert verify_chain().broken is None


def test_a_user_in_the_trail_cannot_be_deleted_and_keeps_their_name(cast):
    entry = audit(actor=cast.dsl, action="test.step", obj=cast.school, summary="Decided")
    with pytest.raises(ProtectedError), transaction.atomic():
        cast.dsl.delete()
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert entry.actor_id == cast.dsl.pk and entry.actor_name.startswith("dsl")
