"""Every change to risk assessments, the prohibited-addresses list, training and concerns goes through here,
each with its audit entry in the same transaction. Reads that other capabilities call live here too.
"""

import datetime
import logging
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core.addresses import parse_parts
from core.audit import audit
from core.mail import notify_by_email
from core.models import School, StaffProfile
from core.permissions import may_keep_safeguarding_records, may_raise_concerns, may_record_training
from core.roles import SENIOR, Role, has_role, is_senior, schools_where
from core.scoping import school_ids_for
from core.selectors import schools_of, users_with_role
from families.access import may_see_family

from .models import (
    AddressJudgement,
    Concern,
    ProhibitedAddress,
    ProhibitedAddressImport,
    RiskAssessment,
    RiskRow,
    TrainingRecord,
)
from .risk import risk_level
from .selectors import active_keys, duplicate_of, household_address_key

logger = logging.getLogger(__name__)


def _today() -> datetime.date:
    return timezone.localdate()


def _require_school(actor, school: School) -> None:
    if not (actor.is_superuser or school.pk in school_ids_for(actor)):
        raise PermissionDenied("You do not work at this school.")


# --- Risk assessments ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskRowInput:
    hazard: str
    people: str
    severity: str
    likelihood: str
    controls: str


def risk_redo_refusal(*, actor, household) -> str:
    """Why `actor` may not redo the household's assessment ("" when they may): one marked for review by the
    Principal is the Principal's to redo. The page explains it; the verb refuses it."""
    current = RiskAssessment.objects.filter(household=household).only("review_by_principal").first()
    if current is None or not current.review_by_principal:
        return ""
    if has_role(actor, Role.PRINCIPAL, school=household.school):
        return ""
    return "This household's risk assessment is marked for review by the Principal, so only the Principal redoes it."


@transaction.atomic
def risk_assessment_create(
    *,
    household,
    actor,
    rows: list[RiskRowInput],
    review_on: datetime.date | None = None,
    assessed_on: datetime.date | None = None,
    vulnerable_persons: str = "",
    safeguarding_team_aware: bool = False,
    dangerous_animals: bool = False,
    animals_note: str = "",
    animals_kept_apart_agreed: bool = False,
    aggressive_adult: bool = False,
    invite_to_school_instead: bool = False,
) -> RiskAssessment:
    """Record a new assessment for the household; it replaces the previous one as the current assessment."""
    _require_school(actor, household.school)
    if not may_see_family(actor, household):
        raise PermissionDenied("Only the staff visiting this household, a DSL or the Principal assess it.")
    refusal = risk_redo_refusal(actor=actor, household=household)
    if refusal:
        raise PermissionDenied(refusal)
    if not rows:
        raise ValidationError("An assessment needs at least one hazard.")
    policy = household.school.policy()
    assessed_on = assessed_on or _today()
    assessment = RiskAssessment(
        household=household,
        assessed_on=assessed_on,
        review_on=review_on or assessed_on + datetime.timedelta(days=policy.risk_review_days),
        vulnerable_persons=vulnerable_persons,
        safeguarding_team_aware=safeguarding_team_aware,
        dangerous_animals=dangerous_animals,
        animals_note=animals_note,
        animals_kept_apart_agreed=dangerous_animals and animals_kept_apart_agreed,
        aggressive_adult=aggressive_adult,
        invite_to_school_instead=invite_to_school_instead,
        created_by=actor,
    )
    assessment.full_clean()
    if assessment.review_on > assessed_on + datetime.timedelta(days=policy.risk_review_days):
        raise ValidationError(
            {"review_on": f"The school's policy asks for a review within {policy.risk_review_days} days."}
        )
    assessment.save()
    for order, row in enumerate(rows):
        risk_row = RiskRow(
            assessment=assessment,
            order=order,
            hazard=row.hazard,
            people=row.people,
            severity=row.severity,
            likelihood=row.likelihood,
            level=risk_level(policy.risk_matrix, row.severity, row.likelihood),
            controls=row.controls,
        )
        risk_row.full_clean()
        risk_row.save()
    audit(
        actor=actor,
        action="risk.create",
        obj=assessment,
        school=household.school,
        summary=f"Risk assessment for {household.name}",
        rows=len(rows),
    )
    return assessment


@transaction.atomic
def risk_assessment_sign_off(*, assessment: RiskAssessment, actor, now=None) -> RiskAssessment:
    """A DSL (or the Principal) accepts the risks, e.g. of a known aggressive adult."""
    _require_school(actor, assessment.household.school)
    if not (actor.is_superuser or is_senior(actor, assessment.household.school)):
        raise PermissionDenied("Only a DSL or the Principal can sign off a risk assessment.")
    locked = RiskAssessment.objects.select_for_update().get(pk=assessment.pk)
    if locked.signed_off_at:
        raise ValidationError("This assessment is already signed off.")
    locked.signed_off_by, locked.signed_off_at = actor, now or timezone.now()
    locked.save(update_fields=["signed_off_by", "signed_off_at"])
    audit(
        actor=actor,
        action="risk.sign_off",
        obj=locked,
        school=locked.household.school,
        summary=f"Signed off the risk assessment for {locked.household.name}",
    )
    return locked


@transaction.atomic
def risk_assessment_mark_for_review(
    *, household, actor, reason: str = "", by_principal: bool = False, now=None
) -> RiskAssessment | None:
    """Make the household's current assessment stale, e.g. after an incident at the address.

    `by_principal`: the reason is for the Principal alone (an accusation against a member of staff). Nothing of it
    is stored on the assessment or in the audit trail: everyone reads "marked for review by the Principal", and
    only the Principal redoes the assessment. Returns the assessment marked, or None if the household has none yet.
    """
    _require_school(actor, household.school)
    if not (reason.strip() or by_principal):
        raise ValidationError("Say why the assessment needs review.")
    assessment = RiskAssessment.objects.select_for_update().filter(household=household).first()
    if assessment is None:
        return None
    now = now or timezone.now()
    if by_principal and not assessment.review_by_principal:
        assessment.stale_since = assessment.stale_since or now
        assessment.review_by_principal = True
        assessment.save(update_fields=["stale_since", "review_by_principal"])
        audit(
            actor=actor,
            action="risk.mark_for_review",
            obj=assessment,
            school=household.school,
            summary=f"Risk assessment for {household.name} marked for review by the Principal",
        )
    elif not by_principal and assessment.stale_since is None:
        assessment.stale_since = now
        assessment.stale_reason = reason.strip()[:300]
        assessment.save(update_fields=["stale_since", "stale_reason"])
        audit(
            actor=actor,
            action="risk.mark_for_review",
            obj=assessment,
            school=household.school,
            summary=f"Risk assessment for {household.name} marked for review: {reason}"[:300],
        )
    return assessment


# --- Prohibited addresses -----------------------------------------------------------------------------------


def _may_keep_list(actor, trust_id, school: School | None) -> None:
    if actor.is_superuser:
        return
    senior_at = schools_where(actor, *SENIOR)
    if not senior_at:
        raise PermissionDenied("Only a DSL or the Principal keeps the prohibited-addresses list.")
    schools = School.objects.filter(pk__in=senior_at)
    if school is not None and school.pk not in senior_at:
        raise PermissionDenied("Only a DSL or the Principal of this school keeps its list.")
    if not schools.filter(trust_id=trust_id).exists():
        raise PermissionDenied("You do not work in this trust.")


@transaction.atomic
def prohibited_address_add(
    *,
    actor,
    trust,
    school: School | None,
    address_line1: str,
    postcode: str,
    address_line2: str = "",
    town: str = "",
    note: str = "",
    expires_on: datetime.date | None = None,
    imported_from=None,
) -> ProhibitedAddress:
    _may_keep_list(actor, trust.pk, school)
    entry = ProhibitedAddress(
        trust=trust,
        school=school,
        address_line1=address_line1.strip(),
        address_line2=address_line2.strip(),
        town=town.strip(),
        postcode=postcode.strip(),
        note=note.strip(),
        expires_on=expires_on,
        added_by=actor,
        imported_from=imported_from,
    )
    entry.full_clean(exclude=["premises_key"])
    if expires_on and expires_on < _today():
        raise ValidationError({"expires_on": "That date has passed: the entry would never apply."})
    parsed = parse_parts(line1=entry.address_line1, line2=entry.address_line2, postcode=entry.postcode)
    if duplicate_of(trust_id=trust.pk, school=school, parsed=parsed):
        raise ValidationError("This address is already on the list.")
    entry.save()
    audit(
        actor=actor,
        action="prohibited.add",
        obj=entry,
        school=school,
        summary=f"Added to the prohibited-addresses list: {entry.postcode}",
    )
    return entry


@transaction.atomic
def prohibited_address_expire(*, entry: ProhibitedAddress, actor, reason: str, now=None) -> ProhibitedAddress:
    _may_keep_list(actor, entry.trust_id, entry.school)
    if not reason.strip():
        raise ValidationError({"reason": "Say why this address comes off the list."})
    locked = ProhibitedAddress.objects.select_for_update().get(pk=entry.pk)
    if locked.expired_at:
        raise ValidationError("This entry has already been taken off the list.")
    locked.expired_at, locked.expired_by = now or timezone.now(), actor
    locked.expired_reason = reason.strip()[:300]
    locked.save(update_fields=["expired_at", "expired_by", "expired_reason"])
    audit(
        actor=actor,
        action="prohibited.expire",
        obj=locked,
        school=locked.school,
        summary=f"Taken off the prohibited-addresses list: {locked.postcode}",
        reason=reason,
    )
    return locked


@transaction.atomic
def prohibited_import_confirm(*, batch: ProhibitedAddressImport, actor, now=None) -> list[ProhibitedAddress]:
    """Import every accepted row, or none: one failure rolls the whole import back.

    Rows were checked when the file was read; they are checked again here (the list may have changed since)
    without a query per row, and saved in bulk, so a list of thousands imports in seconds.
    """
    locked = (
        ProhibitedAddressImport.objects.select_for_update(of=("self",))
        .select_related("trust", "school")
        .get(pk=batch.pk)
    )
    _may_keep_list(actor, locked.trust_id, locked.school)
    if locked.status != ProhibitedAddressImport.Status.PENDING:
        raise ValidationError("This import has already been decided.")
    if not locked.accepted:
        raise ValidationError("No rows were accepted, so there is nothing to import.")
    existing = active_keys(trust_id=locked.trust_id, school=locked.school)
    entries = []
    for row in locked.accepted:
        entry = ProhibitedAddress(
            trust=locked.trust,
            school=locked.school,
            address_line1=row["address_line1"],
            address_line2=row["address_line2"],
            town=row["town"],
            postcode=row["postcode"],
            note=row["note"],
            expires_on=datetime.date.fromisoformat(row["expires_on"]) if row["expires_on"] else None,
            added_by=actor,
            imported_from=locked,
        )
        entry.premises_key = parse_parts(line1=entry.address_line1, line2=entry.address_line2).key
        problem = ""
        try:
            entry.clean_fields(exclude=["trust", "school", "added_by", "expired_by", "imported_from", "premises_key"])
        except ValidationError as error:
            problem = " ".join(error.messages)
        if not problem and (entry.postcode, entry.premises_key) in existing:
            problem = "This address is already on the list."
        if not problem and entry.expires_on and entry.expires_on < _today():
            problem = "Its expiry date has passed."
        if problem:
            raise ValidationError(f"Line {row['line']}: {problem} Nothing was imported.")
        existing.add((entry.postcode, entry.premises_key))
        entries.append(entry)
    created = ProhibitedAddress.objects.bulk_create(entries, batch_size=500)
    locked.status, locked.decided_at = ProhibitedAddressImport.Status.CONFIRMED, now or timezone.now()
    locked.save(update_fields=["status", "decided_at"])
    audit(
        actor=actor,
        action="prohibited.import",
        obj=locked,
        school=locked.school,
        summary=f"Imported {len(created)} prohibited addresses from {locked.filename}"[:300],
    )
    return created


@transaction.atomic
def prohibited_import_discard(*, batch: ProhibitedAddressImport, actor, now=None) -> None:
    locked = ProhibitedAddressImport.objects.select_for_update().get(pk=batch.pk)
    _may_keep_list(actor, locked.trust_id, locked.school)
    if locked.status != ProhibitedAddressImport.Status.PENDING:
        raise ValidationError("This import has already been decided.")
    locked.status, locked.decided_at = ProhibitedAddressImport.Status.DISCARDED, now or timezone.now()
    locked.save(update_fields=["status", "decided_at"])
    audit(
        actor=actor,
        action="prohibited.import_discard",
        obj=locked,
        school=locked.school,
        summary=f"Discarded the import of {locked.filename}"[:300],
    )


@transaction.atomic
def address_judgement_record(*, household, entry: ProhibitedAddress, same_place: bool, note: str, actor, now=None):
    """A DSL's judgement on a near match, kept against the household's address as it is now."""
    _require_school(actor, household.school)
    if not (actor.is_superuser or is_senior(actor, household.school)):
        raise PermissionDenied("Only a DSL or the Principal judges a near match.")
    if not note.strip():
        raise ValidationError({"note": "Say how you decided."})
    judgement = AddressJudgement(
        household=household,
        entry=entry,
        household_address=household_address_key(household=household),
        same_place=same_place,
        note=note.strip(),
        decided_by=actor,
        decided_at=now or timezone.now(),
    )
    judgement.full_clean()
    judgement.save()
    verdict = "the same place" if same_place else "a different place"
    audit(
        actor=actor,
        action="prohibited.judge",
        obj=judgement,
        school=household.school,
        summary=f"Judged {household.name}'s address {verdict} as a listed address",
    )
    return judgement


# --- Training -----------------------------------------------------------------------------------------------


@transaction.atomic
def training_record_add(
    *,
    profile: StaffProfile,
    completed_on: datetime.date,
    expires_on: datetime.date,
    actor,
    course: str = "",
    provider: str = "",
) -> TrainingRecord:
    """Record training and keep the profile's dates (what `training_valid_on` reads) on the latest expiry."""
    schools = list(schools_of(profile.user))
    if not any(may_record_training(actor, school) for school in schools):
        raise PermissionDenied("Only a DSL, the Principal or a trust admin of the school records its staff's training.")
    record = TrainingRecord(
        profile=profile, completed_on=completed_on, expires_on=expires_on, recorded_by=actor, provider=provider.strip()
    )
    if course.strip():
        record.course = course.strip()
    record.full_clean()
    record.save()
    training_sync_profile(profile=profile)
    audit(
        actor=actor,
        action="training.add",
        obj=record,
        school=next((s for s in schools if may_record_training(actor, s)), None),
        summary=f"Training recorded for {profile}: expires {expires_on:%d %b %Y}",
    )
    return record


def training_sync_profile(*, profile: StaffProfile) -> None:
    latest = profile.training_records.order_by("-expires_on", "-completed_on").first()
    if latest is None:
        return
    StaffProfile.objects.filter(pk=profile.pk).update(
        training_completed_on=latest.completed_on, training_expires_on=latest.expires_on
    )
    profile.training_completed_on, profile.training_expires_on = latest.completed_on, latest.expires_on


# --- Concerns ------------------------------------------------------------------------------------------------


@transaction.atomic
def concern_raise(
    *, child, raised_by, details: str, kind: str = "concern", action_taken: str = "", now=None
) -> Concern:
    """Record a child-protection concern or disclosure and tell the school's DSLs at once. (A concern raised from
    a visit is linked to it by the visits app, which calls this.)"""
    if not may_raise_concerns(raised_by, school=child.school_id):
        raise PermissionDenied("Staff, DSLs and the Principal of the child's school raise concerns.")
    concern = Concern(
        school=child.school,
        child=child,
        kind=kind,
        details=details,
        action_taken=action_taken,
        raised_by=raised_by,
        raised_at=now or timezone.now(),
    )
    concern.full_clean()
    concern.save()
    audit(actor=raised_by, action="concern.raise", obj=concern, summary=f"Raised a {concern.get_kind_display()}")
    raiser = raised_by.get_full_name() or raised_by.username
    notify_by_email(
        users_with_role(school=concern.school, roles=[Role.DSL]).exclude(email=""),
        f"New safeguarding concern at {concern.school}",
        f"{raiser} has raised a {concern.get_kind_display().lower()} at {concern.raised_at:%H:%M on %d %b %Y}.\n"
        f"Read it in the home-visits system: {concern.get_absolute_url()}\n",
    )
    return concern


def concern_viewed(*, concern: Concern, actor) -> None:
    audit(actor=actor, action="concern.view", obj=concern, summary=f"Viewed {concern}")


@transaction.atomic
def concern_close(*, concern: Concern, actor, outcome: str, now=None) -> Concern:
    locked = Concern.objects.select_for_update().get(pk=concern.pk)
    if not may_keep_safeguarding_records(actor, locked.school):
        raise PermissionDenied("Only the school's DSLs and Principal close a concern.")
    if locked.closed_at:
        raise ValidationError("This concern is already closed.")
    if not outcome.strip():
        raise ValidationError({"outcome": "Record the outcome before closing the concern."})
    locked.outcome = outcome.strip()
    locked.closed_by = actor
    locked.closed_at = now or timezone.now()
    locked.full_clean()
    locked.save()
    audit(actor=actor, action="concern.close", obj=locked, summary=f"Closed {locked}")
    return locked
