"""The audit trail is append-only: PostgreSQL refuses UPDATE and DELETE (but the seal, once), the hash chain shows
any edit or gap, and writing an entry never makes one transaction wait on another."""

import datetime
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pgtrigger
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from core import audit as audit_module
from core.audit import audit, audit_seal, audit_seal_or_log, verify_chain
from core.models import AuditEntry
from tests.conftest import APP_ROLE
from tests.factories import make_visit
from tests.helpers import as_database_owner
from visits.alerts import sweeper
from visits.models import Visit

TRIGGERS = ("core.AuditEntry:append_only", "core.AuditEntry:sealed_once")
ROOT = Path(__file__).resolve().parents[2]
# Long enough for a loaded machine, short enough that a run that deadlocks or waits fails fast instead of hanging.
WAIT = 15


@pytest.fixture(autouse=True)
def _an_empty_trail(cast):
    """Each test starts from an empty trail, so that it can count positions in the chain: building the cast
    writes entries too (its role grants), removed here as the owner would restore a new database."""
    with as_database_owner(), pgtrigger.ignore(*TRIGGERS):
        AuditEntry.objects.all().delete()
    # And the seal those entries asked for at the test transaction's commit is forgotten with them.
    connection.run_on_commit = [c for c in connection.run_on_commit if c[1] is not audit_seal_or_log]


def _history(cast, n=5, *, sealed=True):
    entries = [
        audit(actor=cast.staff, action="test.step", obj=cast.school, summary=f"Step {i}", step=i, tags=("a", "b"))
        for i in range(n)
    ]
    if sealed:
        audit_seal()
    return [AuditEntry.objects.get(pk=e.pk) for e in entries]


def _refused(change, because="pgtrigger: Cannot"):
    """Run one change in a savepoint and say whether the database refused it, for that reason."""
    try:
        with transaction.atomic():
            change()
    except DatabaseError as exc:
        return because in str(exc)
    return False


def _raw(sql, *params):
    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    return run


def _assert_refused(target, because="pgtrigger: Cannot"):
    summary, count = target.summary, AuditEntry.objects.count()
    assert _refused(lambda: AuditEntry.objects.filter(pk=target.pk).update(summary="Rewritten"), because)
    assert _refused(lambda: AuditEntry.objects.filter(pk=target.pk).delete(), because)
    assert _refused(lambda: AuditEntry.objects.all().delete(), because)
    assert _refused(_raw("UPDATE core_auditentry SET summary = 'Rewritten' WHERE id = %s", target.pk), because)
    assert _refused(_raw("UPDATE core_auditentry SET details = '{}' WHERE id = %s", target.pk), because)
    assert _refused(_raw("DELETE FROM core_auditentry WHERE id = %s", target.pk), because)
    target.refresh_from_db()
    assert target.summary == summary
    assert AuditEntry.objects.count() == count


def test_updates_and_deletes_are_refused_by_the_trigger_even_for_a_superuser(cast):
    sealed = _history(cast, 3)
    unsealed = _history(cast, 1, sealed=False)[0]
    with as_database_owner():
        _assert_refused(sealed[1])
        _assert_refused(unsealed)


def test_a_sealed_entry_cannot_be_sealed_again_nor_a_seal_come_with_an_edit(cast):
    sealed = _history(cast, 2)[1]
    unsealed = _history(cast, 1, sealed=False)[0]
    with as_database_owner():
        # A sealed row keeps its place and hashes.
        assert _refused(lambda: AuditEntry.objects.filter(pk=sealed.pk).update(seq=99))
        assert _refused(lambda: AuditEntry.objects.filter(pk=sealed.pk).update(entry_hash="f" * 64))
        assert _refused(lambda: AuditEntry.objects.filter(pk=sealed.pk).update(seq=None, prev_hash=None))
        # An unsealed one is sealed whole, and nothing else changes with it.
        seal = dict(seq=3, prev_hash=sealed.entry_hash, entry_hash="e" * 64)
        assert _refused(lambda: AuditEntry.objects.filter(pk=unsealed.pk).update(**seal, summary="Rewritten"))
        assert _refused(lambda: AuditEntry.objects.filter(pk=unsealed.pk).update(**seal, actor_name="someone"))
        assert _refused(lambda: AuditEntry.objects.filter(pk=unsealed.pk).update(seq=3))
    assert AuditEntry.objects.get(pk=unsealed.pk).seq is None
    assert audit_seal() == 1 and verify_chain().broken is None


@pytest.mark.skipif(not APP_ROLE, reason="the suite runs as the app role in CI (TEST_DATABASE_APP_ROLE)")
def test_the_app_role_may_only_add_to_the_trail_even_with_the_triggers_ignored(cast):
    entries = _history(cast, 3)
    with pgtrigger.ignore(*TRIGGERS):
        _assert_refused(entries[1], because="permission denied")
        assert _refused(lambda: AuditEntry.objects.filter(pk=entries[1].pk).update(created_at=timezone.now()), "denied")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone() == (APP_ROLE,)


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


def test_a_normal_history_seals_into_one_chain_and_verifies(cast, capsys):
    entries = _history(cast, 5)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert [e.prev_hash for e in entries[1:]] == [e.entry_hash for e in entries[:-1]]
    call_command("audit_verify")
    out = capsys.readouterr().out
    assert "verified: 5 entries" in out and entries[-1].entry_hash in out
    call_command("audit_verify", expect_head=entries[2].entry_hash)


def test_audit_verify_seals_what_is_waiting_first(cast, capsys):
    _history(cast, 2)
    waiting = _history(cast, 3, sealed=False)
    call_command("audit_verify")
    assert "verified: 5 entries (3 sealed just now)" in capsys.readouterr().out
    assert [AuditEntry.objects.get(pk=e.pk).seq for e in waiting] == [3, 4, 5]


def test_nothing_to_seal_costs_one_query(cast, django_assert_num_queries):
    _history(cast, 3)
    with django_assert_num_queries(1):
        assert audit_seal() == 0


def test_entries_left_unsealed_for_over_a_minute_are_a_warning_that_the_sealer_is_not_running(cast, capsys):
    _history(cast, 1)
    old = AuditEntry.objects.create(
        action="test.old",
        object_type="t",
        object_id="1",
        summary="s",
        created_at=timezone.now() - datetime.timedelta(minutes=5),
    )
    _history(cast, 1, sealed=False)  # just written: no warning for it
    call_command("audit_verify")
    out, err = capsys.readouterr()
    assert "Warning: 1 audit entries were still unsealed" in err and f"#{old.pk}" in err
    assert "the sealer is not running" in err
    assert "verified: 3 entries" in out  # and then sealed and checked
    call_command("audit_verify")
    assert capsys.readouterr().err == ""


def test_an_edit_made_with_the_trigger_ignored_is_detected_and_named(cast):
    entries = _history(cast, 5)
    with as_database_owner(), pgtrigger.ignore(*TRIGGERS):
        AuditEntry.objects.filter(pk=entries[2].pk).update(summary="Nothing happened here")
    with pytest.raises(CommandError, match=rf"broken at entry #{entries[2].pk}: its content no longer matches") as e:
        call_command("audit_verify")
    assert e.value.returncode != 0


def test_an_edit_to_the_details_or_the_actor_name_is_detected(cast):
    entries = _history(cast, 3)
    with as_database_owner(), pgtrigger.ignore(*TRIGGERS):
        AuditEntry.objects.filter(pk=entries[0].pk).update(actor_name="someone else")
    assert verify_chain().broken.entry_id == entries[0].pk
    with as_database_owner(), pgtrigger.ignore(*TRIGGERS):
        AuditEntry.objects.filter(pk=entries[0].pk).update(actor_name=entries[0].actor_name)
        AuditEntry.objects.filter(pk=entries[1].pk).update(details={"step": 7})
    assert verify_chain().broken.entry_id == entries[1].pk


def test_an_edit_with_its_hash_recomputed_is_detected_at_the_next_entry(cast):
    entries = _history(cast, 4)
    target = entries[1]
    target.summary = "Nothing happened here"
    rehashed = audit_module.chain_hash(target, seq=target.seq, prev_hash=target.prev_hash)
    with as_database_owner(), pgtrigger.ignore(*TRIGGERS):
        AuditEntry.objects.filter(pk=target.pk).update(summary=target.summary, entry_hash=rehashed)
    expected = rf"broken at entry #{entries[2].pk}: does not follow entry #{target.pk}: entry #{target.pk} was altered"
    with pytest.raises(CommandError, match=expected):
        call_command("audit_verify")


def test_a_deleted_entry_is_a_gap_named_at_the_one_after_it(cast):
    entries = _history(cast, 5)
    with as_database_owner(), pgtrigger.ignore(*TRIGGERS):
        AuditEntry.objects.filter(pk=entries[2].pk).delete()
    expected = rf"broken at entry #{entries[3].pk}: is sealed as number 4, but number 3 after entry #{entries[1].pk}"
    with pytest.raises(CommandError, match=expected):
        call_command("audit_verify")


def test_an_unsealed_then_resealed_entry_is_a_gap(cast):
    """Blanking a seal (so the sealer chains an edited row again, at the end) leaves its old number missing."""
    entries = _history(cast, 4)
    with as_database_owner(), pgtrigger.ignore(*TRIGGERS):
        AuditEntry.objects.filter(pk=entries[1].pk).update(summary="Edited", seq=None, prev_hash=None, entry_hash=None)
    assert verify_chain().broken.entry_id == entries[2].pk
    audit_seal()
    broken = verify_chain().broken
    assert broken.entry_id == entries[2].pk and "number 2" in broken.reason


def test_a_deleted_first_entry_is_detected(cast):
    entries = _history(cast, 3)
    with as_database_owner(), pgtrigger.ignore(*TRIGGERS):
        AuditEntry.objects.filter(pk=entries[0].pk).delete()
    broken = verify_chain().broken
    assert broken.entry_id == entries[1].pk and "the start of the trail" in broken.reason


def test_removed_latest_entries_are_detected_against_a_kept_head(cast):
    entries = _history(cast, 4)
    kept_head = entries[-1].entry_hash
    with as_database_owner(), pgtrigger.ignore(*TRIGGERS):
        AuditEntry.objects.filter(pk=entries[-1].pk).delete()
    with pytest.raises(CommandError, match="entries at the end of the trail were removed"):
        call_command("audit_verify", expect_head=kept_head)


def _database_url():
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    options = f"?options={quote(db['OPTIONS']['options'])}" if db.get("OPTIONS", {}).get("options") else ""
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}{options}"


@pytest.mark.django_db(transaction=True)
def test_manage_py_audit_verify_exits_non_zero_and_names_the_edited_entry(cast):
    entries = _history(cast, 3)
    with as_database_owner(), pgtrigger.ignore(*TRIGGERS):
        AuditEntry.objects.filter(pk=entries[1].pk).update(summary="Nothing happened here")
    env = {**os.environ, "DATABASE_URL": _database_url()}
    done = subprocess.run(
        [sys.executable, "manage.py", "audit_verify"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert f"Audit chain broken at entry #{entries[1].pk}: its content no longer matches its hash" in done.stderr


def test_the_seal_after_commit_is_registered_once_per_transaction_and_seals(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        entries = _history(cast, 3, sealed=False)
    assert len(callbacks) == 1
    assert [AuditEntry.objects.get(pk=e.pk).seq for e in entries] == [1, 2, 3]


def test_a_failing_seal_is_logged_and_never_reaches_the_request(cast, monkeypatch, caplog):
    def broken(**kwargs):
        raise DatabaseError("the database went away")

    monkeypatch.setattr(audit_module, "audit_seal", broken)
    with caplog.at_level(logging.ERROR, logger="core.audit"):
        assert audit_seal_or_log() == 0
    assert "Sealing the audit trail failed" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_the_seal_never_runs_inside_a_business_transaction(cast):
    """Its lock would otherwise be held to that transaction's commit: the deadlock the seal exists to avoid."""
    with transaction.atomic():
        audit(actor=cast.staff, action="test.step", obj=cast.school, summary="In a transaction")
        with pytest.raises(RuntimeError, match="durable"):
            audit_seal()
        assert audit_seal_or_log() == 0
    # Its own seal ran after the commit.
    assert AuditEntry.objects.get().seq == 1


def test_the_sweeper_thread_seals_on_each_tick(cast, monkeypatch):
    waiting = AuditEntry.objects.create(action="test.step", object_type="t", object_id="1", summary="No seal hook")
    stop = threading.Event()
    monkeypatch.setattr(sweeper, "sweep_and_deliver", lambda: stop.set() or 0)
    monkeypatch.setattr(sweeper.connection, "close", lambda: None)  # the test's transaction stays open
    sweeper.run(stop, 0)
    assert AuditEntry.objects.get(pk=waiting.pk).seq == 1


def _in_thread(target, errors):
    def run():
        try:
            target()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _lock_timeout():
    # A wait that would be a deadlock fails in seconds (PostgreSQL's own detector fires after one second).
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{WAIT}s'")


@pytest.mark.django_db(transaction=True)
def test_a_request_and_the_sweep_writing_audit_rows_around_a_visit_lock_do_not_deadlock(cast):
    """The old failure: the sweep locks a visit and then writes its audit row; a request that wrote its audit row
    first then asks for that visit. With a chain lock taken at the first audit row, each waited for the other."""
    visit = make_visit(lead=cast.staff)
    audit_seal()
    # Committed and unsealed (no seal after it), so the seal below has work to do while the two are mid-way.
    waiting = AuditEntry.objects.create(action="test.waiting", object_type="t", object_id="1", summary="Waiting")
    request_audited, sweep_locked, sweep_audited = threading.Event(), threading.Event(), threading.Event()
    errors, ids = [], {}

    def request():
        with transaction.atomic():
            _lock_timeout()
            ids["request"] = audit(actor=cast.dsl, action="test.request", obj=visit, summary="Request").pk
            request_audited.set()
            assert sweep_locked.wait(WAIT)
            Visit.objects.select_for_update().get(pk=visit.pk)  # waits for the sweep to commit, nothing more

    def sweep():
        assert request_audited.wait(WAIT)
        with transaction.atomic():
            _lock_timeout()
            Visit.objects.select_for_update().get(pk=visit.pk)
            sweep_locked.set()
            ids["sweep"] = audit(actor=None, action="test.sweep", obj=visit, summary="Sweep").pk
            sweep_audited.set()
            time.sleep(0.5)  # hold the visit while the request asks for it

    started = time.monotonic()
    threads = [_in_thread(request, errors), _in_thread(sweep, errors)]
    # Meanwhile a seal, from a third connection, waits on neither of them.
    assert sweep_audited.wait(WAIT)
    seal_started = time.monotonic()
    assert audit_seal() == 1
    assert time.monotonic() - seal_started < 2
    assert AuditEntry.objects.get(pk=waiting.pk).seq is not None
    for thread in threads:
        thread.join(WAIT)
    assert not any(thread.is_alive() for thread in threads), "deadlocked"
    assert errors == []
    assert time.monotonic() - started < WAIT
    audit_seal()
    assert verify_chain().broken is None
    assert AuditEntry.objects.filter(pk__in=ids.values(), seq__isnull=False).count() == 2


@pytest.mark.django_db(transaction=True)
def test_an_entry_that_commits_after_a_later_one_was_sealed_is_chained_after_it(cast):
    """The chain's order is the seal's: a long transaction's entry (the lower id) is sealed when it commits."""
    written, release, errors, ids = threading.Event(), threading.Event(), [], {}

    def long_transaction():
        with transaction.atomic():
            ids["long"] = audit(actor=None, action="test.long", obj=cast.school, summary="Long").pk
            written.set()
            assert release.wait(WAIT)

    thread = _in_thread(long_transaction, errors)
    assert written.wait(WAIT)
    quick = audit(actor=None, action="test.quick", obj=cast.school, summary="Quick")  # committed and sealed now
    assert AuditEntry.objects.get(pk=quick.pk).seq is not None
    release.set()
    thread.join(WAIT)
    assert errors == [] and not thread.is_alive()
    long_entry, quick = AuditEntry.objects.get(pk=ids["long"]), AuditEntry.objects.get(pk=quick.pk)
    assert long_entry.pk < quick.pk and long_entry.seq == quick.seq + 1
    assert verify_chain().broken is None


@pytest.mark.django_db(transaction=True)
def test_many_concurrent_writers_then_one_seal_give_one_contiguous_chain(cast):
    writers, transactions, per_transaction = 4, 15, 3
    start = threading.Barrier(writers)
    errors = []

    def write(n):
        start.wait(WAIT)
        for i in range(transactions):
            with transaction.atomic():  # each commit also tries its own seal, racing the others'
                for j in range(per_transaction):
                    audit(actor=None, action="test.concurrent", obj=cast.school, summary=f"writer {n} #{i}.{j}")

    threads = [_in_thread(lambda n=n: write(n), errors) for n in range(writers)]
    for thread in threads:
        thread.join(WAIT * 4)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    audit_seal()
    total = writers * transactions * per_transaction
    assert AuditEntry.objects.filter(action="test.concurrent").count() == total
    assert not AuditEntry.objects.filter(seq__isnull=True).exists()
    everything = AuditEntry.objects.count()
    assert sorted(AuditEntry.objects.values_list("seq", flat=True)) == list(range(1, everything + 1))
    # No fork: every entry names a different predecessor.
    assert AuditEntry.objects.values("prev_hash").distinct().count() == everything
    report = verify_chain()
    assert report.broken is None and report.entries == everything


def test_the_actor_is_named_on_the_entry_and_survives_deactivation(cast):
    cast.staff.first_name, cast.staff.last_name = "Sam", "Visitor"
    cast.staff.save()
    entry = audit(actor=cast.staff, action="test.step", obj=cast.school, summary="Did a thing")
    cast.staff.is_active = False
    cast.staff.save()
    audit_seal()
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert entry.actor == cast.staff and entry.actor_name == "staff (Sam Visitor)"
    assert verify_chain().broken is None


def test_a_user_in_the_trail_cannot_be_deleted_and_keeps_their_name(cast):
    entry = audit(actor=cast.dsl, action="test.step", obj=cast.school, summary="Decided")
    with pytest.raises(ProtectedError), transaction.atomic():
        cast.dsl.delete()
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert entry.actor_id == cast.dsl.pk and entry.actor_name.startswith("dsl")
