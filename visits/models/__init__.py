"""The visit's records, one module per part of its life (as grafana/oncall's alerts models are laid out).

Import them from here: `from visits.models import Visit`.
"""

from ..lifecycle import VisitStatus
from .after import (
    EntryInvitation,
    FollowUpAction,
    Incident,
    IncidentKind,
    PresentPerson,
    VisitConcern,
    VisitOutcome,
    VisitReport,
)
from .alerts import (
    CLOSED_BY_A_PERSON,
    CONFIRMED_SAFE,
    AlertKind,
    AlertNotification,
    AlertOutcome,
    DeliveryStatus,
    NotificationChannel,
    SweepHeartbeat,
    VisitAlert,
)
from .departure import ChecklistOverride, SafeWord, VisitPreparation
from .field import CheckIn, CheckInKind
from .letters import LetterDocument, PostedLetter
from .records import ChildFileTransfer, DisposalRecord, RetentionItem, SubjectAccessRequest, TransferMethod
from .requests import AuthorisationDecision, Decision, NotifyMethod, ParentNotification, ParentResponse
from .texts import InboundText, TextCommand, TextOutcome, TextProvider
from .visit import (
    Purpose,
    Visit,
    VisitGroupObjectPermission,
    VisitPerson,
    VisitRole,
    VisitTransition,
    VisitUserObjectPermission,
)

__all__ = [
    "ChildFileTransfer",
    "DisposalRecord",
    "RetentionItem",
    "SubjectAccessRequest",
    "TransferMethod",
    "CLOSED_BY_A_PERSON",
    "CONFIRMED_SAFE",
    "AlertKind",
    "AlertNotification",
    "AlertOutcome",
    "AuthorisationDecision",
    "CheckIn",
    "CheckInKind",
    "ChecklistOverride",
    "Decision",
    "DeliveryStatus",
    "EntryInvitation",
    "FollowUpAction",
    "InboundText",
    "Incident",
    "IncidentKind",
    "LetterDocument",
    "NotificationChannel",
    "NotifyMethod",
    "ParentNotification",
    "ParentResponse",
    "PostedLetter",
    "PresentPerson",
    "Purpose",
    "SafeWord",
    "SweepHeartbeat",
    "TextCommand",
    "TextOutcome",
    "TextProvider",
    "Visit",
    "VisitAlert",
    "VisitConcern",
    "VisitGroupObjectPermission",
    "VisitOutcome",
    "VisitPerson",
    "VisitPreparation",
    "VisitReport",
    "VisitRole",
    "VisitStatus",
    "VisitTransition",
    "VisitUserObjectPermission",
]
