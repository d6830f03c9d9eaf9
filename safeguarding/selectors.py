"""Read queries about safeguarding records, always scoped to the schools the user belongs to."""

import datetime
from dataclasses import dataclass

from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from core.addresses import ParsedAddress, compare, parse_address, parse_parts
from core.models import EffectivePolicy, School, StaffProfile
from core.permissions import FIELD_ROLES, school_ids_where
from core.roles import SENIOR, schools_where
from core.selectors import member_ids
from core.standards import STANDARD_TRAINING_WARNING_DAYS
from families.access import visible_households

from .models import AddressJudgement, Concern, ProhibitedAddress, ProhibitedAddressImport, RiskAssessment


def visible_concerns(*, user):
    """Concerns are for the school's DSLs and Principal only."""
    # No superuser bypass: the design gives concerns to the DSLs and the Principal, not to administrators.
    return Concern.objects.filter(school_id__in=schools_where(user, *SENIOR))


def training_warning_days(*, schools) -> int:
    """The longest warning period among these schools' policies (each school's own number, never a constant)."""
    policies = EffectivePolicy.for_schools(list(schools)).values()
    return max((policy.training_warning_days for policy in policies), default=STANDARD_TRAINING_WARNING_DAYS)


def training_expiring(*, user, today, warning_days: int) -> QuerySet[StaffProfile]:
    """Active staff at the schools where the user is a DSL or the Principal with no training, expired training, or
    training expiring within `warning_days` days: soonest first, never-trained at the top."""
    horizon = today + datetime.timedelta(days=warning_days)
    return (
        StaffProfile.objects.filter(
            user__in=member_ids(school_ids=school_ids_where(user, *SENIOR)), user__is_active=True
        )
        .filter(Q(training_expires_on__isnull=True) | Q(training_expires_on__lte=horizon))
        .select_related("user")
        .order_by(F("training_expires_on").asc(nulls_first=True), "user__last_name", "pk")
    )


def risk_assessments_due(*, user, today):
    """Each household's latest risk assessment at the user's schools that is past its review date or marked
    stale by an incident: the ones to redo before the next visit. Earliest review date first."""
    latest = RiskAssessment.objects.filter(household=OuterRef("household")).order_by("-created_at", "-id")
    return (
        RiskAssessment.objects.filter(household__school_id__in=school_ids_where(user, *FIELD_ROLES))
        .filter(pk=Subquery(latest.values("pk")[:1]))
        .filter(Q(review_on__lt=today) | Q(stale_since__isnull=False))
        .select_related("household")
        .order_by("review_on", "pk")
    )


def current_risk_assessment(*, household) -> RiskAssessment | None:
    """The household's latest assessment (current or stale: the caller asks `is_current_on`)."""
    return (
        RiskAssessment.objects.filter(household=household)
        .select_related("signed_off_by")
        .prefetch_related("rows")
        .first()
    )


def risk_rows_to_start_from(*, school: School) -> list[dict]:
    """A new assessment starts from the policy's standard hazards."""
    return [dict(row) for row in school.policy().standard_hazards]


@dataclass(frozen=True)
class AddressMatch:
    kind: str  # "exact" or "near"
    entry: ProhibitedAddress
    judgement: AddressJudgement | None = None  # a DSL's decision on a near match, if one applies

    @property
    def cleared(self) -> bool:
        """A near match a DSL judged to be a different place."""
        return self.kind == "near" and self.judgement is not None and not self.judgement.same_place

    @property
    def blocks(self) -> bool:
        return self.kind == "exact" or (self.kind == "near" and not self.cleared)


def active_prohibited(*, school: School | None = None, on: datetime.date | None = None):
    on = on or timezone.localdate()
    qs = ProhibitedAddress.objects.filter(expired_at__isnull=True).filter(
        Q(expires_on__isnull=True) | Q(expires_on__gte=on)
    )
    if school is not None:
        qs = qs.filter(Q(school=school) | Q(school__isnull=True, trust_id=school.trust_id))
    return qs


def _parsed_for(household_or_address) -> tuple[ParsedAddress, School | None, object]:
    if isinstance(household_or_address, str):
        return parse_address(household_or_address), None, None
    h = household_or_address
    parsed = parse_parts(line1=h.address_line1, line2=h.address_line2, town=h.town, postcode=h.postcode)
    return parsed, h.school, h


def household_address_key(*, household) -> str:
    parsed = parse_parts(line1=household.address_line1, line2=household.address_line2, postcode=household.postcode)
    return f"{parsed.postcode}|{parsed.key}"


def prohibited_address_matches(
    *, household_or_address, school: School | None = None, on: datetime.date | None = None
) -> list[AddressMatch]:
    """The list entries this household (or one-line address) matches: exact first, then near.

    A near match (same postcode, different house; or same house with another postcode) is for a DSL to judge;
    callers must not treat it as clear unless `match.cleared`.
    """
    parsed, own_school, household = _parsed_for(household_or_address)
    school = school or own_school
    if not parsed.premises and not parsed.postcode:
        return []
    lookup = Q()
    if parsed.postcode:
        lookup |= Q(postcode=parsed.postcode)
    if parsed.premises:
        lookup |= Q(premises_key=parsed.key)
    candidates = active_prohibited(school=school, on=on).filter(lookup).select_related("school")
    matches = []
    for entry in candidates:
        kind = compare(
            parsed,
            parse_parts(line1=entry.address_line1, line2=entry.address_line2, town=entry.town, postcode=entry.postcode),
        )
        if kind:
            matches.append((kind, entry))
    judgements = {}
    if household is not None and any(kind == "near" for kind, _ in matches):
        key = household_address_key(household=household)
        for judgement in AddressJudgement.objects.filter(
            household=household, household_address=key, entry__in=[e for _, e in matches]
        ).order_by("decided_at", "id"):
            judgements[judgement.entry_id] = judgement  # latest wins
    result = [
        AddressMatch(kind, entry, judgements.get(entry.pk) if kind == "near" else None) for kind, entry in matches
    ]
    return sorted(result, key=lambda m: (m.kind != "exact", m.entry.postcode, m.entry.address_line1))


def _active_same_scope(*, trust_id, school):
    qs = ProhibitedAddress.objects.filter(expired_at__isnull=True, trust_id=trust_id).filter(
        Q(expires_on__isnull=True) | Q(expires_on__gte=timezone.localdate())
    )
    # A trust-wide entry widens a school's own entry, so only trust-wide entries duplicate it.
    return qs.filter(Q(school__isnull=True) | Q(school=school)) if school else qs.filter(school__isnull=True)


def duplicate_of(*, trust_id, school, parsed: ParsedAddress) -> ProhibitedAddress | None:
    return (
        _active_same_scope(trust_id=trust_id, school=school)
        .filter(postcode=parsed.postcode, premises_key=parsed.key)
        .first()
    )


def active_keys(*, trust_id, school) -> set[tuple[str, str]]:
    """(postcode, premises key) of every entry a new one would duplicate: one query for a whole import."""
    return set(_active_same_scope(trust_id=trust_id, school=school).values_list("postcode", "premises_key"))


def _trust_ids(school_ids) -> list[int]:
    return list(School.objects.filter(pk__in=school_ids).values_list("trust_id", flat=True).distinct())


def visible_prohibited(*, user) -> QuerySet[ProhibitedAddress]:
    """The list entries of the schools where the user is a DSL or the Principal, and their trusts' trust-wide
    ones (a role at another school, visiting staff there say, shows nothing of that school's list)."""
    school_ids = school_ids_where(user, *SENIOR)
    return ProhibitedAddress.objects.filter(trust_id__in=_trust_ids(school_ids)).filter(
        Q(school__isnull=True) | Q(school_id__in=school_ids)
    )


def visible_imports(*, user) -> QuerySet[ProhibitedAddressImport]:
    """Uploads of the list for the schools where the user is a DSL or the Principal, or for their trusts."""
    school_ids = school_ids_where(user, *SENIOR)
    return (
        ProhibitedAddressImport.objects.filter(trust_id__in=_trust_ids(school_ids))
        .filter(Q(school__isnull=True) | Q(school_id__in=school_ids))
        .select_related("uploaded_by")
    )


def risk_assessments_of(*, household) -> QuerySet[RiskAssessment]:
    """A household's assessments, newest first, with their rows and who did and signed them."""
    return (
        RiskAssessment.objects.filter(household=household)
        .select_related("created_by", "signed_off_by")
        .prefetch_related("rows")
    )


def visible_risk_assessments(*, user) -> QuerySet[RiskAssessment]:
    """The assessments of the households this user needs to know about (families/access.py)."""
    return (
        RiskAssessment.objects.filter(household__in=visible_households(user))
        .select_related("created_by", "signed_off_by")
        .prefetch_related("rows")
    )
