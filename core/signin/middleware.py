"""Sessions that end, and a second factor before any page for the roles that need one.

Both act only on a signed-in user (a registered board screen has none), and read only the session.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from . import session as signin_session

# Touching the session on every request would write it (to the cache and the database) on every board
# poll; once a minute is enough for a 30-minute idle limit.
LAST_SEEN_RESOLUTION_SECONDS = 60

# The pages a user who still owes a second factor may open: setting one up, proving one, leaving.
SECOND_FACTOR_PAGES = {
    "account_logout",
    "logout",
    "mfa_index",
    "mfa_activate_totp",
    "mfa_reauthenticate",
    "mfa_add_webauthn",
    "mfa_view_recovery_codes",
    "mfa_download_recovery_codes",
    "mfa_generate_recovery_codes",
    "healthz",
}


# Where a second-factor code is typed: a username locked at this address may not try one.
CODE_PAGES = {"mfa_authenticate", "mfa_reauthenticate"}


def _locked_out_of_codes(request):
    from allauth.account.utils import url_str_to_user_pk
    from axes.handlers.proxy import AxesProxyHandler

    from .views import locked_out

    if request.user.is_authenticated:
        user = request.user
    else:
        pending = (request.session.get("account_login") or {}).get("user_pk")  # allauth's sign-in half-way
        user = get_user_model().objects.filter(pk=url_str_to_user_pk(pending)).first() if pending else None
    if user is None:
        return None
    credentials = {"username": user.get_username()}
    if AxesProxyHandler.is_locked(request, credentials):
        return locked_out(request, credentials)
    return None


def _to_login(request, message: str):
    messages.info(request, message)
    if getattr(request, "htmx", False):
        # A polling fragment must not swap the log-in page into itself: send the whole page there.
        return HttpResponse(status=204, headers={"HX-Redirect": reverse(settings.LOGIN_URL)})
    return redirect_to_login(request.get_full_path())


class SessionLimitsMiddleware:
    """Signs a user out after SESSION_IDLE_SECONDS without a request and SESSION_ABSOLUTE_SECONDS after sign-in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            ended = self._check(request)
            if ended is not None:
                return ended
        return self.get_response(request)

    def _check(self, request):
        store = request.session
        current = signin_session.now()
        signed_in_at = store.get(signin_session.SIGNED_IN_AT)
        last_seen = store.get(signin_session.LAST_SEEN)
        if signed_in_at is None or last_seen is None:
            # A session from before these limits: start its clocks now.
            store[signin_session.SIGNED_IN_AT] = signed_in_at or current
            store[signin_session.LAST_SEEN] = current
            return None
        if current - signed_in_at > settings.SESSION_ABSOLUTE_SECONDS:
            hours = settings.SESSION_ABSOLUTE_SECONDS // 3600
            return self._end(request, "absolute", f"You were signed out {hours} hours after signing in. Sign in again.")
        if current - last_seen > settings.SESSION_IDLE_SECONDS:
            minutes = settings.SESSION_IDLE_SECONDS // 60
            return self._end(
                request, "idle", f"You were signed out after {minutes} minutes without activity. Sign in again."
            )
        if current - last_seen >= LAST_SEEN_RESOLUTION_SECONDS:
            store[signin_session.LAST_SEEN] = current
        return None

    def _end(self, request, reason: str, message: str):
        setattr(request, signin_session.SIGN_OUT_REASON, reason)
        logout(request)
        return _to_login(request, message)


class SecondFactorMiddleware:
    """DSLs, Principals, office staff and trust admins (and all staff where the trust says so) see no page but
    setting up or proving a second factor until they have passed one in this session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        name = request.resolver_match.url_name if request.resolver_match else ""
        if name in CODE_PAGES and request.method == "POST":
            locked = _locked_out_of_codes(request)
            if locked is not None:
                return locked
        if not user.is_authenticated:
            return None
        if request.resolver_match and request.resolver_match.url_name in SECOND_FACTOR_PAGES:
            return None
        if not signin_session.second_factor_required(request, user):
            return None
        if signin_session.second_factor_passed(request, user):
            return None
        if request.session.get(signin_session.HAS_SECOND_FACTOR):
            target = reverse("mfa_reauthenticate")
        else:
            messages.warning(request, "Your role needs a second factor. Set up an authenticator app or a passkey.")
            target = reverse("mfa_index")
        if getattr(request, "htmx", False):
            return HttpResponse(status=204, headers={"HX-Redirect": target})
        if request.method == "GET":
            target = f"{target}?{urlencode({'next': request.get_full_path()})}"
        return redirect(target)
