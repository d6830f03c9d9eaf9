"""Audit rows for sign-in events, and the session facts the middleware reads, from Django's, allauth's and
axes' signals. Each row is written inside the request's transaction (ATOMIC_REQUESTS)."""

from allauth.account import signals as account_signals
from allauth.account.internal.flows.login import get_authentication_records
from allauth.mfa import signals as mfa_signals
from allauth.mfa.internal.flows.trust import create_config_fingerprint, decode_trust_cookie
from allauth.mfa.models import Authenticator
from axes.helpers import get_client_ip_address
from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth import signals as auth_signals

from ..audit import audit
from . import session as signin_session
from .policy import identity_provider_vouches, sign_in_policy_for

SECOND_FACTOR_TYPES = [Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]


def _address(request) -> str:
    if request is None or not hasattr(request, "META"):
        return ""
    return get_client_ip_address(request) or ""


def _user_named(username: str):
    """The account a username names, or an unsaved stand-in so that a failure on an unknown name is audited too."""
    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first() if username else None
    return user or user_model(username=username or "")


def _method(request, user) -> str:
    records = get_authentication_records(request, user) if request is not None else []
    methods = [r.get("type") if r.get("method") == "mfa" else r.get("method") for r in records]
    return " + ".join(m for m in methods if m) or "session"


def on_signed_in(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    store = request.session
    current = signin_session.now()
    store[signin_session.SIGNED_IN_AT] = current
    store[signin_session.LAST_SEEN] = current
    policy = sign_in_policy_for(user)
    store[signin_session.ALL_STAFF_NEED_SECOND_FACTOR] = policy.second_factor_for_all_staff
    has_second_factor = Authenticator.objects.filter(user=user, type__in=SECOND_FACTOR_TYPES).exists()
    store[signin_session.HAS_SECOND_FACTOR] = has_second_factor
    vouched = ""
    if not signin_session.second_factor_passed(request, user):
        if has_second_factor and _trusted_browser(request, user, policy.trusted_browser_days):
            vouched = "trusted browser"
        elif identity_provider_vouches(request, user):
            vouched = "identity provider"
    store[signin_session.SECOND_FACTOR_VOUCHED] = vouched
    how = _method(request, user) + (f" ({vouched})" if vouched else "")
    audit(
        actor=user,
        action="signin.signed_in",
        obj=user,
        summary=f"{user.username} signed in ({how})",
        address=_address(request),
        method=how,
    )


def _trusted_browser(request, user, days: int) -> bool:
    """allauth skips the second factor for any trust younger than the product's maximum; the trust's own
    number of days may be fewer."""
    if days <= 0:
        return False
    oldest = signin_session.now() - days * 24 * 60 * 60
    fingerprint = create_config_fingerprint(user)
    return any(t.fingerprint == fingerprint and t.at >= oldest for t in decode_trust_cookie(request))


# The sender of the failed sign-in sent for a wrong second-factor code, so that axes counts it too.
WRONG_CODE = "core.signin.wrong-second-factor-code"


def on_sign_in_failed(sender, credentials, request=None, **kwargs):
    if sender == WRONG_CODE:
        return  # audited as a wrong code already
    username = (credentials or {}).get("username", "")
    subject = _user_named(username)
    audit(
        actor=None,
        action="signin.failed",
        obj=subject,
        summary=f"Failed sign-in for {username or 'no username'!r} from {_address(request) or 'unknown address'}",
        username=username,
        address=_address(request),
    )


def on_signed_out(sender, request, user, **kwargs):
    if user is None:
        return
    reason = getattr(request, signin_session.SIGN_OUT_REASON, "signed out")
    audit(
        actor=user,
        action="signin.signed_out",
        obj=user,
        summary=f"{user.username}: session ended ({reason})",
        reason=reason,
        address=_address(request),
    )


def _password_event(action: str, wording: str):
    def receiver(sender, request, user, **kwargs):
        audit(actor=user, action=action, obj=user, summary=f"{user.username} {wording}", address=_address(request))

    return receiver


on_password_changed = _password_event("signin.password_changed", "changed their password")
on_password_set = _password_event("signin.password_set", "set a password")
on_password_reset = _password_event("signin.password_reset", "reset their password by email")


def _second_factor_event(action: str, wording: str):
    def receiver(sender, request, user, authenticator, **kwargs):
        audit(
            actor=user,
            action=action,
            obj=user,
            summary=f"{user.username} {wording}: {authenticator.get_type_display()}",
            kind=authenticator.type,
            address=_address(request),
        )
        if action == "signin.second_factor_added" and authenticator.type in SECOND_FACTOR_TYPES and request:
            # Setting one up proved it (a code or a key): this session has passed its second factor.
            signin_session.record_second_factor(request, user, id=authenticator.pk, type=authenticator.type)

    return receiver


on_second_factor_added = _second_factor_event("signin.second_factor_added", "set up a second factor")
on_second_factor_removed = _second_factor_event("signin.second_factor_removed", "removed a second factor")
on_second_factor_reset = _second_factor_event("signin.second_factor_reset", "renewed")


def on_second_factor_failed(sender, request, user, authenticator=None, **kwargs):
    audit(
        actor=None,
        action="signin.second_factor_failed",
        obj=user,
        summary=f"Wrong second-factor code for {user.username} from {_address(request) or 'unknown address'}",
        address=_address(request),
    )
    # A wrong code counts as a wrong password for axes: five lock that username at that address, so a stolen
    # password does not buy unlimited guesses at the code.
    auth_signals.user_login_failed.send(sender=WRONG_CODE, credentials={"username": user.username}, request=request)


def on_locked_out(sender, request, username, ip_address, **kwargs):
    subject = _user_named(username)
    audit(
        actor=None,
        action="signin.locked_out",
        obj=subject,
        summary=f"{username!r} locked out at {ip_address} after repeated wrong passwords",
        username=username,
        address=ip_address,
    )


def connect_signals() -> None:
    pairs = [
        (auth_signals.user_logged_in, on_signed_in),
        (auth_signals.user_login_failed, on_sign_in_failed),
        (auth_signals.user_logged_out, on_signed_out),
        (account_signals.password_changed, on_password_changed),
        (account_signals.password_set, on_password_set),
        (account_signals.password_reset, on_password_reset),
        (mfa_signals.authenticator_added, on_second_factor_added),
        (mfa_signals.authenticator_removed, on_second_factor_removed),
        (mfa_signals.authenticator_reset, on_second_factor_reset),
        (mfa_signals.authentication_failed, on_second_factor_failed),
        (user_locked_out, on_locked_out),
    ]
    for signal, receiver in pairs:
        signal.connect(receiver, dispatch_uid=f"signin-audit-{receiver.__name__}")
