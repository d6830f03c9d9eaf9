"""A person's sign-in rules: the strictest of the trusts they work in."""

from dataclasses import dataclass

from allauth.account.internal.flows.login import get_authentication_records

from ..models import IdentityProvider, TrustSignInPolicy
from ..selectors import schools_of

DEFAULTS = TrustSignInPolicy()


@dataclass(frozen=True)
class SignInRules:
    second_factor_for_all_staff: bool
    trusted_browser_days: int


def sign_in_policy_for(user) -> SignInRules:
    trust_ids = set(schools_of(user).values_list("trust_id", flat=True))
    policies = list(TrustSignInPolicy.objects.filter(trust_id__in=trust_ids))
    trusts = len(trust_ids)
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
