"""Inviting a member of staff, and deactivating one who has left.

An invited person is a user with no usable password: nobody can sign in as them with one until they set it through
the link in their invitation email. The link is Django's password-reset token under a salt of its own (so a reset
link is never an invitation and the other way round): it works once, because setting the password changes what the
token was made from, and for STAFF_INVITATION_DAYS. Where the trust signs in with its own Microsoft or Google
accounts, the invitee may use that instead (core.signin.adapters finds them by their address). Their role at the
school is a membership from the import's day, so a role that needs a second factor asks them to set one up at their
first sign-in (core.signin.middleware.SecondFactorMiddleware).

Deactivating someone ends every one of their memberships, turns the account off, and ends every session they have
at once: their sessions are deleted and their signed-in cache entry stops counting (core.auth.forget_users), so the
next request of any open browser of theirs finds nobody signed in.
"""

import datetime
from importlib import import_module

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode

from .audit import audit
from .auth import forget_users
from .mail import notify_by_email
from .memberships import membership_end
from .models import IdentityProvider, Membership, School
from .permissions import may_manage_memberships


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "core.invitations.InvitationTokenGenerator"

    def check_token(self, user, token) -> bool:
        """Django's check, with the invitation's own lifetime instead of PASSWORD_RESET_TIMEOUT."""
        if not (user and token):
            return False
        try:
            timestamp = base36_to_int(token.split("-")[0])
        except ValueError:
            return False
        secrets = [self.secret, *self.secret_fallbacks]
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, timestamp, secret), token) for secret in secrets
        ):
            return False
        return self._num_seconds(self._now()) - timestamp <= settings.STAFF_INVITATION_DAYS * 24 * 60 * 60


invitation_tokens = InvitationTokenGenerator()


def invitation_link(user) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    path = reverse("invitation", kwargs={"uidb64": uid, "token": invitation_tokens.make_token(user)})
    return settings.SITE_URL.rstrip("/") + path


def _sso_words(school: School) -> str:
    providers = IdentityProvider.objects.filter(trust_id=school.trust_id, enabled=True)
    names = [str(p) for p in providers]
    if not names:
        return ""
    return (
        f'\nYour trust also signs you in with your work account: choose "Log in with {names[0]}" on the log-in page '
        "instead of setting a password.\n"
    )


def invitation_send(*, user, school: School, actor) -> None:
    """Email the invitation (after the commit). The link is never logged or kept."""
    if not may_manage_memberships(actor, school):
        raise PermissionDenied("Only a trust admin of the school invites its staff.")
    if not user.email:
        raise ValidationError({"email": "An invitation needs an email address."})
    body = (
        f"Hello {user.first_name or user.username},\n\n"
        f"You have been given an account on Home visits for {school.name}.\n"
        f"Your username is: {user.username}\n\n"
        f"Set your password here (the link works once, for {settings.STAFF_INVITATION_DAYS} days):\n"
        f"{invitation_link(user)}\n"
        f"{_sso_words(school)}\n"
        "If your role needs it, you will then be asked to set up a second factor (an authenticator app or a "
        "passkey) when you first log in.\n\n"
        "If you were not expecting this, tell your school's office."
    )
    notify_by_email([user], f"Your Home visits account at {school.name}", body)
    audit(
        actor=actor,
        action="staff.invite",
        obj=user,
        school=school,
        summary=f"Invitation emailed to {user.get_full_name() or user.username} for {school.name}",
    )


def end_sessions(user) -> int:
    """Delete every session of this user, from the cache and the database, and drop their signed-in cache entry."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            store(session_key=session.session_key).delete()
            ended += 1
    forget_users([user.pk])
    return ended


@transaction.atomic
def staff_deactivate(*, actor, user, now=None, reason: str = "") -> int:
    """The person has left: every membership ends today, the account is off, and every session ends at once.
    Returns how many sessions ended. Only a trust admin of every school where they hold a role does it."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    current = list(
        Membership.objects.filter(user=user)
        .exclude(ends_on__lt=today)
        .select_related("school__trust")
        .order_by("school_id")
    )
    schools = {m.school for m in current}
    if user.pk == getattr(actor, "pk", None):
        raise ValidationError("You cannot deactivate yourself.")
    if not schools and not actor.is_superuser:
        raise PermissionDenied("This person holds no role at your schools.")
    if not all(may_manage_memberships(actor, school) for school in schools):
        raise PermissionDenied("Only a trust admin of every school where they hold a role deactivates them.")
    yesterday = today - datetime.timedelta(days=1)
    for membership in current:
        membership_end(actor=actor, membership=membership, last_day=yesterday)
    user.is_active = False
    user.set_unusable_password()
    user.save(update_fields=["is_active", "password"])
    ended = end_sessions(user)
    audit(
        actor=actor,
        action="staff.deactivate",
        obj=user,
        school=current[0].school if current else None,
        summary=f"Deactivated {user.get_full_name() or user.username}: {len(current)} role(s) ended, "
        f"{ended} session(s) ended{f' ({reason})' if reason else ''}"[:300],
        memberships=[m.pk for m in current],
    )
    return ended
