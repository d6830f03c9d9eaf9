"""Memberships: a person's role at one school, from one day to another. Every role check reads these."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from ..roles import Role


class MembershipQuerySet(models.QuerySet):
    def active(self, day: datetime.date | None = None):
        """Those that hold on `day` (the school's today by default): started, and not yet past their last day."""
        day = day or timezone.localdate()
        return self.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day), starts_on__lte=day)

    def overlapping(self, *, user, school, role, starts_on, ends_on):
        """Those of this person, school and role whose days share at least one with [starts_on, ends_on]."""
        qs = self.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=starts_on), user=user, school=school, role=role)
        return qs if ends_on is None else qs.filter(starts_on__lte=ends_on)


class Membership(models.Model):
    """Someone holds `role` at `school` from `starts_on` to `ends_on` (their last day; open while null).

    Roles belong to a person at a school, not to the person: a DSL at one school may be visiting staff at
    another. Written only through core.memberships (membership_grant, membership_end).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    school = models.ForeignKey("core.School", on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    starts_on = models.DateField()
    ends_on = models.DateField("last day", null=True, blank=True, help_text="Empty while it has no end.")

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["school__name", "role", "starts_on"]
        indexes = [models.Index(fields=["user", "starts_on"]), models.Index(fields=["school", "role"])]
        constraints = [
            models.CheckConstraint(name="membership_role_valid", condition=Q(role__in=Role.values)),
            models.CheckConstraint(
                name="membership_ends_after_it_starts",
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
            ),
            # Overlapping spans are refused by membership_grant under a lock on the person. The database holds
            # what it can without an exclusion constraint (PostgreSQL-only, and its btree_gist extension needs a
            # superuser, while `run` uses SQLite and production a role that owns nothing): one open membership
            # per person, school and role, and no two starting the same day.
            models.UniqueConstraint(
                fields=["user", "school", "role"], condition=Q(ends_on__isnull=True), name="one_open_membership"
            ),
            models.UniqueConstraint(fields=["user", "school", "role", "starts_on"], name="one_membership_per_start"),
        ]

    def __str__(self):
        until = f" to {self.ends_on:%d %b %Y}" if self.ends_on else ""
        return f"{self.user} – {Role(self.role).label} at {self.school} from {self.starts_on:%d %b %Y}{until}"

    def clean(self):
        if self.ends_on and self.starts_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "The last day cannot be before the first."})

    def is_active_on(self, day: datetime.date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or self.ends_on >= day)
