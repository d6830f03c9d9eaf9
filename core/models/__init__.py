"""The foundation every app builds on: trust, schools, their policy values, staff and the audit trail."""

from .audit import AuditCheckpoint, AuditEntry
from .base import PermanentRecord
from .imports import PendingImport
from .memberships import Membership
from .policy import (
    Authorisers,
    ChainStep,
    EffectivePolicy,
    EscalationAction,
    EscalationStep,
    HomeVisitPolicy,
    SafetyChain,
    review_warning,
)
from .schools import School, Trust
from .screens import BoardScreen
from .signin import IdentityProvider, IdentityProviderKind, TrustSignInPolicy
from .staff import StaffProfile

__all__ = [
    "AuditCheckpoint",
    "AuditEntry",
    "BoardScreen",
    "Authorisers",
    "ChainStep",
    "EffectivePolicy",
    "EscalationAction",
    "EscalationStep",
    "HomeVisitPolicy",
    "IdentityProvider",
    "IdentityProviderKind",
    "Membership",
    "PendingImport",
    "PermanentRecord",
    "SafetyChain",
    "School",
    "StaffProfile",
    "Trust",
    "TrustSignInPolicy",
    "review_warning",
]
