"""Each trust's sign-in rules and its single sign-on providers."""

import os

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models

# The longest a trust may let a browser skip the second factor (settings.MFA_TRUST_COOKIE_AGE matches it).
MAX_TRUSTED_BROWSER_DAYS = 30


class TrustSignInPolicy(models.Model):
    """How a trust's staff sign in. A trust without a row gets the defaults."""

    trust = models.OneToOneField("core.Trust", on_delete=models.CASCADE, related_name="signin_policy")
    second_factor_for_all_staff = models.BooleanField(
        default=False,
        help_text="Visiting staff too must use a second factor (it is always required for DSLs, Principals, "
        "office staff and trust admins).",
    )
    trusted_browser_days = models.PositiveSmallIntegerField(
        default=7,
        validators=[MaxValueValidator(MAX_TRUSTED_BROWSER_DAYS)],
        help_text=f"How long 'trust this browser' skips the second factor (0 turns it off, at most "
        f"{MAX_TRUSTED_BROWSER_DAYS}).",
    )

    class Meta:
        verbose_name = "sign-in policy"
        verbose_name_plural = "sign-in policies"

    def __str__(self):
        return f"Sign-in policy of {self.trust}"


class IdentityProviderKind(models.TextChoices):
    MICROSOFT = "microsoft", "Microsoft Entra ID"
    GOOGLE = "google", "Google Workspace"


class IdentityProvider(models.Model):
    """A trust's Microsoft or Google account service, used for single sign-on (OpenID Connect).

    The client secret is never stored: `secret_env` names the environment variable that holds it.
    """

    trust = models.ForeignKey("core.Trust", on_delete=models.CASCADE, related_name="identity_providers")
    kind = models.CharField(max_length=20, choices=IdentityProviderKind.choices)
    tenant = models.CharField(
        max_length=200,
        help_text="Microsoft: the directory (tenant) id. Google: the Workspace domain (e.g. school.org.uk).",
    )
    client_id = models.CharField(max_length=200)
    secret_env = models.CharField(
        "secret variable",
        max_length=100,
        help_text="Name of the environment variable holding the client secret.",
    )
    server_url = models.URLField(
        blank=True, help_text="Leave empty for the provider's own address (set for a test provider only)."
    )
    enforces_second_factor = models.BooleanField(
        default=False,
        help_text="The provider itself demands a second factor for every sign-in (e.g. a Conditional Access "
        "policy); privileged staff then need no second factor here after signing in with it.",
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["trust", "kind"], name="one_provider_of_each_kind_per_trust")]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.trust}"

    def clean(self):
        if self.secret_env and not self.secret_env.replace("_", "").isalnum():
            raise ValidationError({"secret_env": "An environment variable name: letters, digits and underscores."})

    @property
    def provider_id(self) -> str:
        """The id in sign-in addresses: /accounts/oidc/<provider_id>/login/."""
        return f"{self.kind}-{self.trust.slug}"

    @property
    def issuer_url(self) -> str:
        if self.server_url:
            return self.server_url
        if self.kind == IdentityProviderKind.MICROSOFT:
            return f"https://login.microsoftonline.com/{self.tenant}/v2.0"
        return "https://accounts.google.com"

    def secret(self) -> str:
        return os.environ.get(self.secret_env, "")
