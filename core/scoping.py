"""Scoping to the schools a user works at: what every list and lookup filters by first."""

from django.db import models
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


class SchoolScopedQuerySet(models.QuerySet):
    def for_user(self, user):
        """Only rows of the schools the user belongs to: anything else is a 404, never a leak."""
        return self.filter(school_id__in=school_ids_for(user))
