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
            cached = list(StaffProfile.schools.through.objects.filter(
                staffprofile__user=user).values_list("school_id", flat=True))
        user._school_ids = cached
    return cached


def schools_for(user) -> QuerySet[School]:
    return School.objects.filter(pk__in=school_ids_for(user)).select_related("trust")


def staff_at(school: School) -> QuerySet[StaffProfile]:
    return StaffProfile.objects.filter(schools=school, user__is_active=True).select_related("user")


def staff_trained_on(day, *, school_ids) -> QuerySet[StaffProfile]:
    """Staff at these schools whose safer-working-practice training is valid on `day` (who may be chosen for a
    visit on that day); the same rule as StaffProfile.training_valid_on, as one query."""
    return StaffProfile.objects.filter(
        schools__in=school_ids, user__is_active=True, training_expires_on__gte=day
    ).select_related("user").distinct()
