"""Changes to the foundation's records that have no page of their own in the product: staff profiles, from the
admin. Training dates are not among them: they follow the training records (safeguarding.services)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from .audit import audit
from .models import School, StaffProfile
from .permissions import may_manage_staff_profiles

# What a trust admin may correct on a profile; everything else is derived or kept elsewhere.
PROFILE_FIELDS = frozenset(
    {"job_title", "mobile", "vehicle_description", "vehicle_registration", "business_insurance_confirmed"}
)


def _check_fields(fields: dict) -> None:
    unknown = set(fields) - PROFILE_FIELDS
    if unknown:
        raise ValidationError(f"These are not changed on a staff profile: {', '.join(sorted(unknown))}.")


@transaction.atomic
def staff_profile_create(*, user, schools: list[School], actor, **fields) -> StaffProfile:
    _check_fields(fields)
    if not schools or not all(may_manage_staff_profiles(actor, school) for school in schools):
        raise PermissionDenied("Only a trust admin of each of the schools adds a member of staff there.")
    profile = StaffProfile(user=user, **fields)
    profile.full_clean()
    profile.save()
    profile.schools.set(schools)
    audit(
        actor=actor,
        action="staff_profile.add",
        obj=profile,
        school=schools[0],
        summary=f"Staff profile added for {profile}",
        fields=sorted(fields),
    )
    return profile


@transaction.atomic
def staff_profile_update(*, profile: StaffProfile, actor, **fields) -> StaffProfile:
    """Correct a member of staff's contact details or vehicle; returns early when nothing changes."""
    _check_fields(fields)
    locked = StaffProfile.objects.select_for_update().select_related("user").get(pk=profile.pk)
    if not any(may_manage_staff_profiles(actor, school) for school in locked.schools.all()):
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
        school=locked.schools.first(),
        summary=f"Changed {', '.join(changed)} of {locked}",
        fields=changed,
    )
    return locked
