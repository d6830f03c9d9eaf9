"""Granting and ending memberships (a person's role at a school): the only write path for them.

Each verb checks its actor (a trust admin of the school's trust, or a superuser), locks the person's user row so
two grants cannot race past the overlap check, and writes its audit entry in the same transaction. The signed-in
user cache is told through the Membership signals (core.auth), so the change holds from the next request.
"""

import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from .audit import audit
from .models import Membership, School
from .permissions import may_manage_memberships
from .roles import Role


class _System:
    """The actor for set-up that no person does: the demo seed and the test factories (never a request)."""

    is_authenticated = False
    is_superuser = False
    pk = None

    def __str__(self):
        return "set-up"


SYSTEM = _System()


def _check_actor(actor, school) -> None:
    if actor is not SYSTEM and not may_manage_memberships(actor, school):
        raise PermissionDenied("Only a trust admin of this school's trust manages its memberships.")


def _lock_person(user):
    return get_user_model().objects.select_for_update().get(pk=user.pk)


@transaction.atomic
def membership_grant(
    *, actor, user, school: School, role: str, starts_on: datetime.date, ends_on: datetime.date | None = None
) -> Membership:
    """`user` holds `role` at `school` from `starts_on` (to `ends_on`, their last day, if given)."""
    _check_actor(actor, school)
    _lock_person(user)
    membership = Membership(user=user, school=school, role=role, starts_on=starts_on, ends_on=ends_on)
    membership.full_clean(validate_constraints=False)
    clash = Membership.objects.overlapping(user=user, school=school, role=role, starts_on=starts_on, ends_on=ends_on)
    if clash.exists():
        raise ValidationError(
            {"starts_on": f"{user.get_full_name() or user.username} already holds this role at {school} then."}
        )
    membership.save()
    until = f" to {ends_on:%d %b %Y}" if ends_on else ""
    audit(
        actor=actor,
        action="membership.grant",
        obj=membership,
        school=school,
        summary=f"{Role(role).label} at {school} for {user.get_full_name() or user.username} "
        f"from {starts_on:%d %b %Y}{until}",
        user_id=user.pk,
        role=role,
        starts_on=starts_on.isoformat(),
        ends_on=ends_on.isoformat() if ends_on else None,
    )
    return membership


@transaction.atomic
def membership_end(*, actor, membership: Membership, last_day: datetime.date) -> Membership | None:
    """The membership holds until `last_day` and no longer (yesterday ends it at once). One that would end
    before it starts never takes effect and is withdrawn (deleted; the audit trail keeps what it was)."""
    membership = Membership.objects.select_related("user", "school").get(pk=membership.pk)
    _check_actor(actor, membership.school)
    _lock_person(membership.user)
    membership = (
        Membership.objects.select_for_update(of=("self",)).select_related("user", "school").get(pk=membership.pk)
    )
    if membership.ends_on is not None and membership.ends_on <= last_day:
        raise ValidationError({"last_day": f"This membership already ends on {membership.ends_on:%d %b %Y}."})
    who = membership.user.get_full_name() or membership.user.username
    label = f"{Role(membership.role).label} at {membership.school} for {who}"
    details = dict(
        user_id=membership.user_id,
        role=membership.role,
        starts_on=membership.starts_on.isoformat(),
        last_day=last_day.isoformat(),
    )
    if last_day < membership.starts_on:
        audit(
            actor=actor,
            action="membership.withdraw",
            obj=membership,
            school=membership.school,
            summary=f"Withdrew {label} (it was to start on {membership.starts_on:%d %b %Y})",
            **details,
        )
        membership.delete()
        return None
    membership.ends_on = last_day
    membership.save(update_fields=["ends_on"])
    audit(
        actor=actor,
        action="membership.end",
        obj=membership,
        school=membership.school,
        summary=f"Ended {label}: last day {last_day:%d %b %Y}",
        **details,
    )
    return membership
