"""Read queries about staff at a school."""

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from .models import School, StaffProfile


def staff_at(*, school: School) -> QuerySet[StaffProfile]:
    return StaffProfile.objects.filter(schools=school, user__is_active=True).select_related("user")


def staff_trained_on(*, day, school_ids) -> QuerySet[StaffProfile]:
    """Staff at these schools whose safer-working-practice training is valid on `day` (who may be chosen for a
    visit on that day); the same rule as StaffProfile.training_valid_on, as one query."""
    return (
        StaffProfile.objects.filter(schools__in=school_ids, user__is_active=True, training_expires_on__gte=day)
        .select_related("user")
        .distinct()
    )


def users_with_role(*, school, roles) -> QuerySet:
    """Active users with any of these roles at this school (its DSLs, its Principal, its office...)."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=list(roles), profile__schools=school)
        .distinct()
    )


def staff_users(*, school) -> QuerySet:
    """The active users who work at this school, for choosing a colleague (an action's owner, the accused)."""
    return (
        get_user_model()
        .objects.filter(profile__schools=school, is_active=True)
        .distinct()
        .order_by("first_name", "last_name")
    )
