"""allauth adapters: nobody signs themselves up; single sign-on finds an existing member of staff or refuses."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.contrib.auth import get_user_model
from django.shortcuts import render

from .. import crypto
from ..models import IdentityProvider, IdentityProviderKind
from ..roles import user_roles
from ..selectors import schools_of
from .policy import sign_in_policy_for
from .session import reauthenticated_within


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are made by the trust admin. Emails (a reset link among them) are sent, never logged."""

    def is_open_for_signup(self, request):
        return False

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """Asked again only when nothing (signing in included) proved who this is in the last 15 minutes."""
        request = self.request
        if request is None or not request.user.is_authenticated:
            return True
        return not reauthenticated_within(request, request.user, settings.ACCOUNT_REAUTHENTICATION_TIMEOUT)


class MFAAdapter(DefaultMFAAdapter):
    """Second-factor secrets encrypted at rest (the safe word's keys), and no removing the last one a role needs."""

    def encrypt(self, text: str) -> str:
        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt(encrypted_text)

    def can_delete_authenticator(self, authenticator) -> bool:
        user = authenticator.user
        needs_one = (
            user.is_superuser
            or bool(user_roles(user) & set(settings.SECOND_FACTOR_ROLES))
            or sign_in_policy_for(user).second_factor_for_all_staff
        )
        if not needs_one:
            return True
        factors = Authenticator.objects.filter(
            user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
        )
        return factors.exclude(pk=authenticator.pk).exists()


def _providers():
    return IdentityProvider.objects.filter(enabled=True).select_related("trust")


def provider_for(provider_id: str) -> IdentityProvider | None:
    return next((p for p in _providers() if p.provider_id == provider_id), None)


def _app_for(provider: IdentityProvider):
    from allauth.socialaccount.models import SocialApp  # the app registry must be ready

    return SocialApp(
        provider="openid_connect",
        provider_id=provider.provider_id,
        name=str(provider),
        client_id=provider.client_id,
        secret=provider.secret(),
        settings={"server_url": provider.issuer_url, "oauth_pkce_enabled": True},
    )


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(self, request, provider=None, client_id=None):
        apps = [
            _app_for(p)
            for p in _providers()
            if provider in (None, "openid_connect", p.provider_id) and client_id in (None, p.client_id)
        ]
        return apps

    def is_open_for_signup(self, request, sociallogin):
        return False

    def pre_social_login(self, request, sociallogin):
        """Link the sign-in to the member of staff whose address the trust's own provider vouches for."""
        provider = provider_for(sociallogin.account.provider)
        claims = token_claims(sociallogin.account.extra_data or {})
        if sociallogin.is_existing:
            user = sociallogin.user
            if provider is None or not user.is_active or not _works_in(user, provider):
                raise ImmediateHttpResponse(_refused(request, provider, "This account is not a member of staff here."))
            return
        email = verified_email(provider, claims)
        if not email:
            raise ImmediateHttpResponse(
                _refused(request, provider, "Your account did not give us a verified email address of this trust.")
            )
        user = get_user_model().objects.filter(email__iexact=email, is_active=True).first()
        if user is None or not _works_in(user, provider):
            raise ImmediateHttpResponse(
                _refused(request, provider, f"{email} is not the email address of any member of staff here.")
            )
        sociallogin.connect(request, user)


def token_claims(extra_data: dict) -> dict:
    """allauth keeps the userinfo answer and the ID token apart; the ID token's claims win."""
    return {**(extra_data.get("userinfo") or {}), **(extra_data.get("id_token") or {})}


def verified_email(provider: IdentityProvider | None, claims: dict) -> str:
    """The address, only when the token says it is verified and it comes from the trust's own directory."""
    if provider is None:
        return ""
    email = (claims.get("email") or "").strip()
    if not email:
        return ""
    if provider.kind == IdentityProviderKind.GOOGLE:
        if claims.get("hd") != provider.tenant or claims.get("email_verified") is not True:
            return ""
    # Entra ID's addresses are managed by the directory; a token from any other tenant is not ours.
    elif provider.kind == IdentityProviderKind.MICROSOFT and claims.get("tid") != provider.tenant:
        return ""
    return email


def _works_in(user, provider: IdentityProvider) -> bool:
    return schools_of(user).filter(trust=provider.trust).exists()


def _refused(request, provider, reason: str):
    return render(request, "account/sso_refused.html", {"reason": reason, "provider": provider}, status=403)
