"""The foundation every app builds on: trust, schools, their policy values, staff and the audit trail."""

from .audit import AuditEntry
from .base import PermanentRecord
from .policy import Authorisers, EffectivePolicy, EscalationAction, EscalationStep, HomeVisitPolicy
from .schools import School, Trust
from .signin import IdentityProvider, IdentityProviderKind, TrustSignInPolicy
from .staff import StaffProfile

__all__ = [
    "AuditEntry",
    "Authorisers",
    "EffectivePolicy",
    "EscalationAction",
    "EscalationStep",
    "HomeVisitPolicy",
    "IdentityProvider",
    "IdentityProviderKind",
    "PermanentRecord",
    "School",
    "StaffProfile",
    "Trust",
    "TrustSignInPolicy",
]
