"""What a session knows about how its user signed in, worked out once at sign-in."""

import time

from allauth.account.internal.flows.login import get_authentication_records, record_authentication
from django.conf import settings

from ..roles import user_roles

SIGNED_IN_AT = "signin:at"
LAST_SEEN = "signin:seen"
# Set at sign-in: the trust asks every member of staff for a second factor; the user has one set up;
# a second factor was not asked for because the browser is trusted or the provider asks for one itself.
ALL_STAFF_NEED_SECOND_FACTOR = "signin:all-staff-2fa"
HAS_SECOND_FACTOR = "signin:has-2fa"
SECOND_FACTOR_VOUCHED = "signin:2fa-vouched"
# Set before logout() so the audit row says why the session ended.
SIGN_OUT_REASON = "_signin_sign_out_reason"


def now() -> float:
    return time.time()


def second_factor_required(request, user) -> bool:
    if user.is_superuser:
        return True
    if user_roles(user) & set(settings.SECOND_FACTOR_ROLES):
        return True
    return bool(request.session.get(ALL_STAFF_NEED_SECOND_FACTOR))


def second_factor_passed(request, user) -> bool:
    if request.session.get(SECOND_FACTOR_VOUCHED):
        return True
    return any(record.get("method") == "mfa" for record in get_authentication_records(request, user))


def record_second_factor(request, user, **details) -> None:
    """A second factor proved in this session other than at sign-in (just set up, say)."""
    record_authentication(request, user, "mfa", **details)
    request.session[HAS_SECOND_FACTOR] = True
    # allauth says so once its transaction commits, which may be after the response saved the session.
    request.session.save()


def reauthenticated_within(request, user, seconds: float) -> bool:
    """Whether the user typed a password or passed a second factor (or single sign-on) this recently."""
    records = get_authentication_records(request, user)
    latest = max((record.get("at", 0) for record in records), default=0)
    return now() - latest <= seconds
