"""Scoping to the schools a user works at: what every list and lookup filters by first."""

from django.db import models
from django.db.models import QuerySet

from .models import School
from .roles import schools_where


def school_ids_for(user) -> list[int]:
    """The schools a user may see anything of: those where they hold a role today (every school, for a
    superuser). Narrow it further with core.roles.schools_where for what one role may see."""
    if not user.is_authenticated:
        return []
    if user.is_superuser:
        cached = getattr(user, "_all_school_ids", None)
        if cached is None:
            cached = user._all_school_ids = list(School.objects.values_list("pk", flat=True))
        return cached
    return schools_where(user)


def schools_for(user) -> QuerySet[School]:
    return School.objects.filter(pk__in=school_ids_for(user)).select_related("trust")


class SchoolScopedQuerySet(models.QuerySet):
    def for_user(self, user):
        """Only rows of the schools the user belongs to: anything else is a 404, never a leak."""
        return self.filter(school_id__in=school_ids_for(user))
