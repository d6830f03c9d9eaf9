"""Retention: the nightly listing finds what the schedule says is due and disposes of nothing; a DSL holds one
record with a reason and confirms the rest; each disposed record leaves its disposal entry and nothing else."""

import datetime

import pgtrigger
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from core.models import AuditEntry
from safeguarding.models import Concern
from safeguarding.services import concern_raise
from tests.factories import ChildFactory, HouseholdFactory, make_reported_visit
from tests.helpers import as_database_owner
from visits.after.services import action_create, visit_concern_raise
from visits.models import DisposalRecord, FollowUpAction, InboundText, RetentionItem, Visit
from visits.records.retention import items_for, retention_confirm, retention_hold, retention_list_due, retention_release


def _at(year, month, day):
    return timezone.make_aware(datetime.datetime(year, month, day, 3, 0))


@pytest.fixture
def records(cast):
    household = HouseholdFactory(school=cast.school, name="Quillfield family")
    ann = ChildFactory(
        household=household, first_name="Annika", last_name="Quillfield", date_of_birth=datetime.date(2010, 3, 1)
    )
    ben = ChildFactory(
        household=household, first_name="Benedikt", last_name="Quillfield", date_of_birth=datetime.date(2011, 5, 1)
    )
    ann_concern = concern_raise(child=ann, raised_by=cast.staff, details="Annika said she is scared at home.")
    action_create(
        school=cast.school,
        owner=cast.dsl,
        description="Ring Annika's social worker",
        due_on=timezone.localdate(),
        created_by=cast.dsl,
        concern=ann_concern,
    )
    ben_concern = concern_raise(child=ben, raised_by=cast.staff, details="Benedikt came in hungry again.")
    visit = make_reported_visit(lead=cast.staff, summary="We talked about mornings.")
    text = InboundText.objects.create(
        provider="twilio",
        provider_id="SM1",
        sender="+447700900123",
        received_at=timezone.now(),
        body="IN 20 Quillfield",
        staff=cast.staff,
        school=cast.school,
        outcome="recorded",
    )
    return dict(ann=ann_concern, ben=ben_concern, visit=visit, text=text)


def _listed():
    return {(i.kind, i.object_id) for i in RetentionItem.objects.all()}


def test_time_travel_through_the_periods_with_a_hold_and_a_confirmation(
    cast, records, mailoutbox, django_capture_on_commit_callbacks
):
    ann, ben, visit, text = records["ann"], records["ben"], records["visit"], records["text"]
    cast.dsl.email = "dsl@oakfield.example"
    cast.dsl.save()

    # Three months on: the text is due, nothing else; the DSLs are told there is a list to review.
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        retention_list_due(now=timezone.now() + datetime.timedelta(days=91))
    assert _listed() == {("inbound_text", str(text.pk))}
    assert [m.to for m in mailoutbox] == [["dsl@oakfield.example"]] and "IN 20" not in mailoutbox[0].body
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        retention_list_due(now=timezone.now() + datetime.timedelta(days=92))
    assert not mailoutbox  # nothing new: no email

    # Seven years on: the visit too (no concern on it); the children are not yet 25.
    retention_list_due(now=timezone.now() + datetime.timedelta(days=7 * 366))
    assert ("visit", str(visit.pk)) in _listed() and ("concern", str(ann.pk)) not in _listed()

    # The day after Annika's 25th birthday: her concern; Benedikt's comes a year later.
    retention_list_due(now=_at(2035, 3, 2))
    assert ("concern", str(ann.pk)) in _listed() and ("concern", str(ben.pk)) not in _listed()
    later = _at(2036, 5, 2)
    retention_list_due(now=later)
    assert ("concern", str(ben.pk)) in _listed()
    # Listing disposes of nothing.
    assert Concern.objects.count() == 2 and Visit.objects.filter(pk=visit.pk).exists()

    held = RetentionItem.objects.get(kind="concern", object_id=str(ben.pk))
    with pytest.raises(ValidationError):
        retention_hold(actor=cast.dsl, item=held, reason="  ")
    retention_hold(actor=cast.dsl, item=held, reason="Sibling's case still open with children's services.", now=later)

    shown = [item.pk for item in items_for(cast.dsl)]
    disposed = retention_confirm(actor=cast.dsl, item_ids=shown, now=later)

    assert {(d.kind, d.object_id) for d in disposed} == {
        ("concern", str(ann.pk)),
        ("visit", str(visit.pk)),
        ("inbound_text", str(text.pk)),
    }
    # The held concern stays, and stays on the list with its reason; the rest are gone with what hung off them.
    assert list(Concern.objects.values_list("pk", flat=True)) == [ben.pk]
    assert list(RetentionItem.objects.values_list("object_id", "hold_reason")) == [
        (str(ben.pk), "Sibling's case still open with children's services.")
    ]
    assert not FollowUpAction.objects.filter(concern_id=ann.pk).exists()
    assert not Visit.objects.filter(pk=visit.pk).exists()
    text.refresh_from_db()
    assert (text.sender, text.body, text.staff_id) == ("", "", None) and text.outcome == "recorded"

    # The disposal entry: what, when, by whom, under which rule; nothing about the child.
    entry = DisposalRecord.objects.get(kind="concern")
    assert entry.disposed_by == cast.dsl and entry.disposed_at == later and entry.action == "removed"
    assert "25th birthday" in entry.rule and "IRMS" in entry.rule
    assert "Annika" not in entry.label and "Quillfield" not in entry.label
    assert AuditEntry.objects.filter(action="retention.dispose").count() == 3

    # Released, the held one is disposed of at the next confirmation.
    retention_release(actor=cast.dsl, item=held)
    retention_confirm(actor=cast.dsl, item_ids=[held.pk], now=later)
    assert not Concern.objects.exists()


def test_a_visit_with_a_concern_stays_as_long_as_the_concern(cast, records):
    visit = records["visit"]
    child = visit.children.get()
    visit_concern_raise(visit=visit, child=child, raised_by=cast.staff, details="Bruise on the arm.")
    retention_list_due(now=timezone.now() + datetime.timedelta(days=7 * 366))
    assert ("visit", str(visit.pk)) not in _listed()


def test_nobody_else_confirms_and_a_refused_confirmation_disposes_of_nothing(cast, records):
    retention_list_due(now=timezone.now() + datetime.timedelta(days=91))
    item = RetentionItem.objects.get()
    assert not items_for(cast.other_dsl).exists() and not items_for(cast.staff).exists()
    for outsider in (cast.other_dsl, cast.staff, cast.office, cast.trust_admin):
        with pytest.raises(PermissionDenied):
            retention_confirm(actor=outsider, item_ids=[item.pk])
    assert InboundText.objects.get(pk=records["text"].pk).sender
    assert not DisposalRecord.objects.exists()


def test_an_item_no_longer_due_when_confirmed_is_kept(cast, records):
    """Listed seven years on, confirmed 'today': the record is not due today, so nothing goes."""
    retention_list_due(now=timezone.now() + datetime.timedelta(days=7 * 366))
    items = list(RetentionItem.objects.values_list("pk", flat=True))
    assert retention_confirm(actor=cast.dsl, item_ids=items) == []
    assert Visit.objects.filter(pk=records["visit"].pk).exists()


def test_trust_wide_and_installation_wide_records_go_to_the_trust_admin_and_a_superuser(cast):
    """A lapsed prohibited address for every school is the trust admin's to confirm; audit entries over six years
    old (one chain for every trust) a superuser's, removed behind a checkpoint that keeps the chain verifiable."""
    from core.audit import audit_seal, verify_chain
    from core.models import AuditCheckpoint
    from safeguarding.models import ProhibitedAddress, RiskAssessment
    from tests.factories import UserFactory

    lapsed = ProhibitedAddress.objects.create(
        trust=cast.trust,
        address_line1="9 Kite Lane",
        postcode="EB1 1AA",
        expires_on=datetime.date(2020, 1, 31),
        added_by=cast.dsl,
    )
    old_assessment = RiskAssessment.objects.create(
        household=HouseholdFactory(school=cast.school),
        assessed_on=datetime.date(2019, 1, 1),
        review_on=datetime.date(2020, 1, 1),
        created_by=cast.dsl,
    )
    # The trail as it would be: its oldest entries first (the cast's own, written just now, are cleared).
    with as_database_owner(), pgtrigger.ignore("core.AuditEntry:append_only"):
        AuditEntry.objects.all().delete()
    long_ago = timezone.now() - datetime.timedelta(days=7 * 366)
    AuditEntry.objects.create(
        created_at=long_ago, action="test.old", object_type="core.school", object_id="1", summary="Old"
    )
    audit_seal()
    retention_list_due()
    kinds = {i.kind: i for i in RetentionItem.objects.all()}
    assert set(kinds) == {"prohibited_address", "risk_assessment", "audit_entries"}

    assert list(items_for(cast.trust_admin)) == [kinds["prohibited_address"]]
    assert list(items_for(cast.dsl)) == [kinds["risk_assessment"]]
    with pytest.raises(PermissionDenied):
        retention_confirm(actor=cast.trust_admin, item_ids=[kinds["audit_entries"].pk])
    retention_confirm(actor=cast.trust_admin, item_ids=[kinds["prohibited_address"].pk])
    retention_confirm(actor=cast.dsl, item_ids=[kinds["risk_assessment"].pk])
    assert not ProhibitedAddress.objects.filter(pk=lapsed.pk).exists()
    assert not RiskAssessment.objects.filter(pk=old_assessment.pk).exists()

    root = UserFactory(username="root", is_superuser=True)
    audit_seal()  # the confirmations' own entries are sealed after the old one
    retention_confirm(actor=root, item_ids=[kinds["audit_entries"].pk])
    audit_seal()
    assert not AuditEntry.objects.filter(action="test.old").exists()
    assert AuditCheckpoint.objects.get().made_by == root
    assert verify_chain().broken is None
    assert DisposalRecord.objects.filter(kind="audit_entries", disposed_by=root).exists()
