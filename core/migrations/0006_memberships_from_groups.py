"""Roles were Django groups held at every school of a person's profile: each (group, school) pair becomes an open
membership from the day the person joined, so an existing database keeps everyone's access as it was."""

from django.db import migrations
from django.utils import timezone

ROLES = ["Staff", "DSL", "Principal", "Office", "Trust admin"]


def groups_to_memberships(apps, schema_editor):
    StaffProfile = apps.get_model("core", "StaffProfile")
    Membership = apps.get_model("core", "Membership")
    rows = []
    for profile in StaffProfile.objects.select_related("user").prefetch_related("schools", "user__groups"):
        roles = sorted({g.name for g in profile.user.groups.all()} & set(ROLES))
        starts_on = timezone.localdate(profile.user.date_joined)
        for school in profile.schools.all():
            for role in roles:
                if not Membership.objects.filter(user=profile.user, school=school, role=role).exists():
                    rows.append(Membership(user=profile.user, school=school, role=role, starts_on=starts_on))
    Membership.objects.bulk_create(rows)


def memberships_to_groups(apps, schema_editor):
    """Backwards: the roles and schools of each person's open memberships, as groups and profile schools."""
    Group = apps.get_model("auth", "Group")
    StaffProfile = apps.get_model("core", "StaffProfile")
    Membership = apps.get_model("core", "Membership")
    for membership in Membership.objects.filter(ends_on__isnull=True).select_related("user"):
        group, _ = Group.objects.get_or_create(name=membership.role)
        membership.user.groups.add(group)
        profile = StaffProfile.objects.filter(user=membership.user).first()
        if profile is not None:
            profile.schools.add(membership.school_id)


class Migration(migrations.Migration):
    dependencies = [("core", "0005_membership"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(groups_to_memberships, memberships_to_groups)]
