"""Changes to the foundation's records that have no page of their own in the product, made in the admin: a
trust's and its schools' settings, and staff profiles. Training dates are not among them: they follow the
training records (safeguarding.services)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from .audit import audit
from .models import (
    EscalationStep,
    HomeVisitPolicy,
    IdentityProvider,
    School,
    StaffProfile,
    Trust,
    TrustSignInPolicy,
)
from .permissions import may_manage_settings, may_manage_staff_profiles
from .roles import Role, schools_where

# The only records the admin saves or deletes through setting_save and setting_delete: casework never.
SETTINGS = (Trust, School, HomeVisitPolicy, EscalationStep, TrustSignInPolicy, IdentityProvider)


def _scope(obj) -> tuple[School | None, Trust | None]:
    """The school (if any) and the trust a setting belongs to."""
    if isinstance(obj, Trust):
        return None, obj
    if isinstance(obj, School):
        return (None if obj._state.adding else obj), obj.trust  # a new school: its trust's admins add it
    if isinstance(obj, EscalationStep):
        obj = obj.policy
    if isinstance(obj, HomeVisitPolicy):
        return obj.school, obj.trust
    return None, obj.trust


def _require_settings(obj, actor) -> None:
    if not isinstance(obj, SETTINGS):
        raise PermissionDenied(f"A {obj._meta.verbose_name} is not changed in the admin.")
    scopes = [_scope(obj)]
    if obj.pk is not None and not obj._state.adding:
        scopes.append(_scope(type(obj).objects.get(pk=obj.pk)))  # where it was, as well as where it goes
    for school, trust in scopes:
        if not may_manage_settings(actor, school=school, trust=trust):
            raise PermissionDenied("Only a trust admin of the school or trust changes its settings.")


@transaction.atomic
def setting_save(*, obj, actor, changed: list[str]) -> None:
    """Save a trust's or a school's setting edited in the admin (its form has parsed it); audited."""
    _require_settings(obj, actor)
    verb = "added" if obj._state.adding else "changed"
    obj.full_clean()
    obj.save()
    audit(
        actor=actor,
        action=f"admin.{verb}",
        obj=obj,
        school=_scope(obj)[0],
        summary=f"{obj._meta.verbose_name} {verb} in admin: {obj}",
        fields=list(changed),
    )


@transaction.atomic
def setting_delete(*, obj, actor) -> None:
    _require_settings(obj, actor)
    audit(
        actor=actor,
        action="admin.deleted",
        obj=obj,
        school=_scope(obj)[0],
        summary=f"{obj._meta.verbose_name} deleted: {obj}",
    )
    obj.delete()


# What a trust admin may correct on a profile; everything else is derived or kept elsewhere.
PROFILE_FIELDS = frozenset(
    {"job_title", "mobile", "vehicle_description", "vehicle_registration", "business_insurance_confirmed"}
)


def _check_fields(fields: dict) -> None:
    unknown = set(fields) - PROFILE_FIELDS
    if unknown:
        raise ValidationError(f"These are not changed on a staff profile: {', '.join(sorted(unknown))}.")


def _profile_schools(user) -> list[School]:
    """Where the person has (or had, or will have) a role: whose trust admins keep their profile."""
    return list(School.objects.filter(memberships__user=user).distinct().order_by("pk"))


@transaction.atomic
def staff_profile_create(*, user, actor, **fields) -> StaffProfile:
    """A profile for someone with no role yet is made by any trust admin; their roles are then granted on the
    Roles page. Someone who already has roles is added by a trust admin of one of those schools."""
    _check_fields(fields)
    schools = _profile_schools(user)
    if schools:
        allowed = any(may_manage_staff_profiles(actor, school) for school in schools)
    else:
        allowed = actor.is_superuser or bool(schools_where(actor, Role.TRUST_ADMIN))
    if not allowed:
        raise PermissionDenied("Only a trust admin of the person's school adds their staff profile.")
    profile = StaffProfile(user=user, **fields)
    profile.full_clean()
    profile.save()
    audit(
        actor=actor,
        action="staff_profile.add",
        obj=profile,
        school=schools[0] if schools else None,
        summary=f"Staff profile added for {profile}",
        fields=sorted(fields),
    )
    return profile


@transaction.atomic
def staff_profile_update(*, profile: StaffProfile, actor, **fields) -> StaffProfile:
    """Correct a member of staff's contact details or vehicle; returns early when nothing changes."""
    _check_fields(fields)
    locked = StaffProfile.objects.select_for_update(of=("self",)).select_related("user").get(pk=profile.pk)
    schools = _profile_schools(locked.user)
    if not any(may_manage_staff_profiles(actor, school) for school in schools):
        raise PermissionDenied("Only a trust admin of the person's school changes their profile.")
    changed = sorted(name for name, value in fields.items() if getattr(locked, name) != value)
    if not changed:
        return locked
    for name in changed:
        setattr(locked, name, fields[name])
    locked.full_clean()
    locked.save(update_fields=changed)
    audit(
        actor=actor,
        action="staff_profile.update",
        obj=locked,
        school=schools[0],
        summary=f"Changed {', '.join(changed)} of {locked}",
        fields=changed,
    )
    return locked
