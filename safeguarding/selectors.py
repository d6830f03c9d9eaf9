"""Read queries about safeguarding records, always scoped to the schools the user belongs to."""

import datetime

from django.db.models import F, OuterRef, Q, QuerySet, Subquery

from core.models import StaffProfile
from core.roles import is_senior
from core.scoping import school_ids_for
from core.standards import STANDARD_TRAINING_WARNING_DAYS

from .models import Concern, RiskAssessment


def visible_concerns(user):
    """Concerns are for the school's DSLs and Principal only."""
    qs = Concern.objects.filter(school_id__in=school_ids_for(user))
    # No superuser bypass: the design gives concerns to the DSLs and the Principal, not to administrators.
    return qs if is_senior(user) else qs.none()


def training_warning_days(schools) -> int:
    """The longest warning period among these schools' policies (each school's own number, never a constant)."""
    return max((school.policy().training_warning_days for school in schools), default=STANDARD_TRAINING_WARNING_DAYS)


def training_expiring(user, today, *, warning_days: int) -> QuerySet[StaffProfile]:
    """Active staff at the user's schools with no training, expired training, or training expiring within
    `warning_days` days: soonest first, never-trained at the top."""
    horizon = today + datetime.timedelta(days=warning_days)
    return (
        StaffProfile.objects.filter(schools__in=school_ids_for(user), user__is_active=True)
        .filter(Q(training_expires_on__isnull=True) | Q(training_expires_on__lte=horizon))
        .select_related("user")
        .distinct()
        .order_by(F("training_expires_on").asc(nulls_first=True), "user__last_name", "pk")
    )


def risk_assessments_due(user, today):
    """Each household's latest risk assessment at the user's schools that is past its review date or marked
    stale by an incident: the ones to redo before the next visit. Earliest review date first."""
    latest = RiskAssessment.objects.filter(household=OuterRef("household")).order_by("-created_at", "-id")
    return (
        RiskAssessment.objects.filter(household__school_id__in=school_ids_for(user))
        .filter(pk=Subquery(latest.values("pk")[:1]))
        .filter(Q(review_on__lt=today) | Q(stale_since__isnull=False))
        .select_related("household")
        .order_by("review_on", "pk")
    )
