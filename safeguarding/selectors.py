"""Read queries about schools and staff, always scoped to the schools the user belongs to."""

from django.db.models import QuerySet

from .models import School, StaffProfile


def school_ids_for(user) -> list[int]:
    """The schools a user may see anything of; cached on the user for the request."""
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_school_ids", None)
    if cached is None:
        if user.is_superuser:
            cached = list(School.objects.values_list("pk", flat=True))
        else:
            cached = list(
                StaffProfile.schools.through.objects.filter(staffprofile__user=user).values_list("school_id", flat=True)
            )
        user._school_ids = cached
    return cached


def schools_for(user) -> QuerySet[School]:
    return School.objects.filter(pk__in=school_ids_for(user)).select_related("trust")


def staff_at(school: School) -> QuerySet[StaffProfile]:
    return StaffProfile.objects.filter(schools=school, user__is_active=True).select_related("user")


def staff_trained_on(day, *, school_ids) -> QuerySet[StaffProfile]:
    """Staff at these schools whose safer-working-practice training is valid on `day` (who may be chosen for a
    visit on that day); the same rule as StaffProfile.training_valid_on, as one query."""
    return (
        StaffProfile.objects.filter(schools__in=school_ids, user__is_active=True, training_expires_on__gte=day)
        .select_related("user")
        .distinct()
    )


# --- Who may read concerns and incidents (issue 6) ------------------------------------------------------------


def visible_concerns(user):
    """Concerns are for the school's DSLs and Principal only."""
    from .models import Concern
    from .roles import is_senior

    qs = Concern.objects.filter(school_id__in=school_ids_for(user))
    # No superuser bypass: the design gives concerns to the DSLs and the Principal, not to administrators.
    return qs if is_senior(user) else qs.none()


def visible_incidents(user):
    """Incidents go to the DSLs and Principal; an accusation against staff to the Principal alone."""
    from .models import Incident, IncidentKind
    from .roles import Role, has_role

    qs = Incident.objects.filter(school_id__in=school_ids_for(user))
    if has_role(user, Role.PRINCIPAL):
        return qs
    if has_role(user, Role.DSL):
        return qs.exclude(kind=IncidentKind.ACCUSATION)
    return qs.none()


# --- Dashboard panels (issue 7) --------------------------------------------------------------------------------


def training_warning_days(schools) -> int:
    """The longest warning period among these schools' policies (each school's own number, never a constant)."""
    from .models import STANDARD_TRAINING_WARNING_DAYS

    return max((school.policy().training_warning_days for school in schools), default=STANDARD_TRAINING_WARNING_DAYS)


def training_expiring(user, today, *, warning_days: int) -> QuerySet[StaffProfile]:
    """Active staff at the user's schools with no training, expired training, or training expiring within
    `warning_days` days: soonest first, never-trained at the top."""
    import datetime

    from django.db.models import F, Q

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
    from django.db.models import OuterRef, Q, Subquery

    from .models import RiskAssessment

    latest = RiskAssessment.objects.filter(household=OuterRef("household")).order_by("-created_at", "-id")
    return (
        RiskAssessment.objects.filter(household__school_id__in=school_ids_for(user))
        .filter(pk=Subquery(latest.values("pk")[:1]))
        .filter(Q(review_on__lt=today) | Q(stale_since__isnull=False))
        .select_related("household")
        .order_by("review_on", "pk")
    )
