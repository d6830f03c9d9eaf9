"""Sign-in verbs: lifting a lockout, and the demo data's fixed second factor."""

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from axes.utils import reset as axes_reset
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction

from ..audit import audit
from ..models import AuditEntry
from ..roles import Role, has_role
from .selectors import lockout_visible_to


@transaction.atomic
def lockout_lift(*, actor, entry: AuditEntry) -> int:
    """A trust admin lets a locked-out username sign in again at that address before the cool-off ends."""
    if not (actor.is_superuser or has_role(actor, Role.TRUST_ADMIN)) or not lockout_visible_to(actor, entry):
        raise PermissionDenied("Only a trust admin of this person's schools can lift their lock.")
    username, address = entry.details.get("username", ""), entry.details.get("address", "")
    cleared = axes_reset(ip=address, username=username)
    audit(
        actor=actor,
        action="signin.lockout_lifted",
        obj=entry,
        summary=f"Lock on {username!r} at {address} lifted by {actor.username}",
        username=username,
        address=address,
    )
    return cleared


@transaction.atomic
def demo_second_factor_set(*, user, secret: str) -> Authenticator:
    """Demo data only: give a demo user an authenticator app with the README's published secret."""
    if settings.PRODUCTION:
        raise PermissionDenied("A published second-factor secret is for demo data only.")
    Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).delete()
    authenticator = TOTP.activate(user, secret).instance
    audit(
        actor=None,
        action="signin.second_factor_added",
        obj=user,
        summary=f"{user.username} given the demo authenticator app (demo data)",
        kind=Authenticator.Type.TOTP,
    )
    return authenticator
