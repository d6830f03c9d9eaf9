"""Sign-in pages of our own: the log-in page (allauth's, with the trusts' providers), the lockout message,
and the trust admin's list of lockouts."""

from allauth.account.views import LoginView
from allauth.mfa.base.views import TrustView
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from ..models import AuditEntry, IdentityProvider
from ..roles import Role, has_role
from . import selectors, services
from .policy import sign_in_policy_for


class SignInView(LoginView):
    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["sso_providers"] = IdentityProvider.objects.filter(enabled=True).select_related("trust")
        return context


class TrustBrowserView(TrustView):
    """allauth's "trust this browser?", for the strictest number of days of the person's trusts (0: not offered)."""

    def _days(self) -> int:
        return sign_in_policy_for(self.request._login_stage.login.user).trusted_browser_days

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["trusted_days"] = days = self._days()
        context["trust_allowed"] = days > 0
        return context

    def form_valid(self, form):
        if self._days() <= 0 and self.request.POST.get("action") == "trust":
            self.request.POST = self.request.POST.copy()
            self.request.POST["action"] = "skip"
        return super().form_valid(form)


def locked_out(request, credentials, *args, **kwargs):
    """What axes answers once a username is locked at this address (AXES_LOCKOUT_CALLABLE)."""
    username = (credentials or {}).get("username") or request.POST.get("login", "")
    context = {
        "username": username,
        "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
    }
    return render(request, "account/locked_out.html", context, status=429)


def _trust_admin(user) -> None:
    if not (user.is_superuser or has_role(user, Role.TRUST_ADMIN)):
        raise PermissionDenied("Only a trust admin can see sign-in lockouts.")


@login_required
def lockout_list(request):
    _trust_admin(request.user)
    context = {
        "lockouts": selectors.lockouts_for(actor=request.user),
        "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "window_hours": int(selectors.LOCKOUT_WINDOW.total_seconds() // 3600),
    }
    return render(request, "signin/lockouts.html", context)


@login_required
@require_POST
def lockout_lift(request, entry_id: int):
    _trust_admin(request.user)
    entry = get_object_or_404(AuditEntry, pk=entry_id, action="signin.locked_out")
    if not selectors.lockout_visible_to(request.user, entry):
        raise PermissionDenied("This lockout is not of anyone at your schools.")
    services.lockout_lift(actor=request.user, entry=entry)
    messages.success(request, f"{entry.details.get('username')} can sign in again.")
    return redirect("signin:lockouts")
