"""A person's sign-in rules: the strictest of the trusts they work in."""

from dataclasses import dataclass

from allauth.account.internal.flows.login import get_authentication_records

from ..models import IdentityProvider, TrustSignInPolicy

DEFAULTS = TrustSignInPolicy()


@dataclass(frozen=True)
class SignInRules:
    second_factor_for_all_staff: bool
    trusted_browser_days: int


def sign_in_policy_for(user) -> SignInRules:
    policies = list(TrustSignInPolicy.objects.filter(trust__schools__staff__user=user).distinct())
    trusts = user.profile.schools.values("trust").distinct().count() if hasattr(user, "profile") else 0
    # A trust with no row of its own works to the defaults, which count too.
    if len(policies) < trusts or not policies:
        policies.append(DEFAULTS)
    return SignInRules(
        second_factor_for_all_staff=any(p.second_factor_for_all_staff for p in policies),
        trusted_browser_days=min(p.trusted_browser_days for p in policies),
    )


def identity_provider_vouches(request, user) -> bool:
    """Signed in through a trust's provider that itself demands a second factor."""
    providers = {
        r.get("provider")
        for r in get_authentication_records(request, user)
        if r.get("method") == "socialaccount" and r.get("provider")
    }
    if not providers:
        return False
    vouching = IdentityProvider.objects.filter(enabled=True, enforces_second_factor=True).select_related("trust")
    return any(p.provider_id in providers for p in vouching)
