"""How each kind of record on the schedule is found due and disposed of. A feature with records of its own
registers a kind here (`register`) under the schedule's name for it; a rule with no kind registered lists nothing.

Each kind answers with `Due` rows (a number and a label with no personal details: the list must not become one
more copy of what it lists) and disposes of one record by its number. Disposal runs inside the confirming
service's transaction, which writes the disposal entry and the audit row beside it.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from core.audit import audit_prunable_through, audit_prune
from core.dates import add_years
from safeguarding.models import Concern, ProhibitedAddress, RiskAssessment

from ..models import AuthorisationDecision, InboundText, Incident, IncidentKind, SafeWord, Visit, VisitConcern
from .schedule import RetentionRule


@dataclass(frozen=True)
class Due:
    object_id: str
    label: str
    due_on: datetime.date
    school_id: int | None
    trust_id: int | None


class RecordKind:
    """One kind of record: override `due` and `dispose`."""

    kind = ""

    def due(self, rule: RetentionRule, *, now: datetime.datetime, pks=None) -> Iterable[Due]:
        raise NotImplementedError

    def dispose(self, object_id: str, *, rule: RetentionRule, actor, now: datetime.datetime) -> None:
        raise NotImplementedError

    def is_due(self, object_id: str, rule: RetentionRule, *, now) -> bool:
        """Still due now (a record may have changed since the list was made: a new concern keeps a visit)."""
        return any(True for _ in self.due(rule, now=now, pks=[object_id]))


def _only(queryset, pks):
    return queryset if pks is None else queryset.filter(pk__in=pks)


class ConcernRecords(RecordKind):
    kind = "concern"

    def due(self, rule, *, now, pks=None):
        cutoff = add_years(timezone.localdate(now), -rule.years)
        rows = _only(Concern.objects.filter(child__date_of_birth__lte=cutoff), pks).values_list(
            "pk", "raised_at", "child__date_of_birth", "school_id", "school__trust_id"
        )
        for pk, raised_at, born, school_id, trust_id in rows:
            label = f"Child-protection concern #{pk}, raised {raised_at:%b %Y}"
            yield Due(str(pk), label, add_years(born, rule.years), school_id, trust_id)

    def dispose(self, object_id, *, rule, actor, now):
        # Its actions and its link to a visit go with it (CASCADE).
        Concern.objects.filter(pk=object_id).delete()


class IncidentRecords(RecordKind):
    kind = "incident"

    def due(self, rule, *, now, pks=None):
        cutoff = add_years(timezone.localdate(now), -rule.years)
        incidents = Incident.objects.exclude(kind=IncidentKind.ACCUSATION).annotate(
            youngest_born=Max("visit__children__date_of_birth")
        )
        rows = _only(incidents.filter(youngest_born__lte=cutoff), pks).values_list(
            "pk", "occurred_at", "youngest_born", "school_id", "school__trust_id"
        )
        for pk, occurred_at, born, school_id, trust_id in rows:
            label = f"Incident #{pk} on a visit, {occurred_at:%b %Y}"
            yield Due(str(pk), label, add_years(born, rule.years), school_id, trust_id)

    def dispose(self, object_id, *, rule, actor, now):
        Incident.objects.filter(pk=object_id).exclude(kind=IncidentKind.ACCUSATION).delete()


class VisitRecords(RecordKind):
    kind = "visit"

    def due(self, rule, *, now, pks=None):
        cutoff = add_years(now, -rule.years)
        visits = Visit.objects.filter(scheduled_start__lte=cutoff).filter(
            ~Exists(VisitConcern.objects.filter(visit=OuterRef("pk"))),
            ~Exists(Incident.objects.filter(visit=OuterRef("pk"))),
        )
        rows = _only(visits, pks).values_list("pk", "scheduled_start", "school_id", "school__trust_id")
        for pk, start, school_id, trust_id in rows:
            day = timezone.localdate(start)
            yield Due(
                str(pk),
                f"Visit #{pk} and its Home Visit Form, {day:%b %Y}",
                add_years(day, rule.years),
                school_id,
                trust_id,
            )

    def dispose(self, object_id, *, rule, actor, now):
        # The authorisation decisions are permanent for as long as the visit is kept, and go with it; everything
        # else hanging off the visit (form, people, check-ins, alerts, letters) is CASCADE, texts keep no link.
        AuthorisationDecision.objects.filter(visit_id=object_id).delete()
        Visit.objects.filter(pk=object_id).delete()


class RiskAssessmentRecords(RecordKind):
    kind = "risk_assessment"

    def due(self, rule, *, now, pks=None):
        cutoff = add_years(timezone.localdate(now), -rule.years)
        assessments = RiskAssessment.objects.filter(review_on__lte=cutoff).filter(
            ~Exists(SafeWord.objects.filter(risk_assessment=OuterRef("pk")))
        )
        rows = _only(assessments, pks).values_list(
            "pk", "assessed_on", "review_on", "household__school_id", "household__school__trust_id"
        )
        for pk, assessed_on, review_on, school_id, trust_id in rows:
            label = f"Risk assessment #{pk}, {assessed_on:%b %Y}"
            yield Due(str(pk), label, add_years(review_on, rule.years), school_id, trust_id)

    def dispose(self, object_id, *, rule, actor, now):
        RiskAssessment.objects.filter(pk=object_id).delete()


class ProhibitedAddressRecords(RecordKind):
    kind = "prohibited_address"

    def due(self, rule, *, now, pks=None):
        cutoff = add_years(timezone.localdate(now), -rule.years)
        lapsed = ProhibitedAddress.objects.filter(
            Q(expired_at__isnull=False, expired_at__lte=add_years(now, -rule.years))
            | Q(expired_at__isnull=True, expires_on__lte=cutoff)
        )
        rows = _only(lapsed, pks).values_list("pk", "expired_at", "expires_on", "school_id", "trust_id")
        for pk, expired_at, expires_on, school_id, trust_id in rows:
            lapsed_on = timezone.localdate(expired_at) if expired_at else expires_on
            label = f"Prohibited-address entry #{pk}, lapsed {lapsed_on:%b %Y}"
            yield Due(str(pk), label, add_years(lapsed_on, rule.years), school_id, trust_id)

    def dispose(self, object_id, *, rule, actor, now):
        ProhibitedAddress.objects.filter(pk=object_id).delete()


class InboundTextRecords(RecordKind):
    kind = "inbound_text"

    def due(self, rule, *, now, pks=None):
        # An anonymised text has no sender left: it is never due twice.
        texts = InboundText.objects.filter(received_at__lte=now - datetime.timedelta(days=rule.days)).exclude(sender="")
        rows = _only(texts, pks).values_list("pk", "received_at", "school_id", "school__trust_id")
        for pk, received_at, school_id, trust_id in rows:
            day = timezone.localdate(received_at)
            yield Due(
                str(pk),
                f"Text #{pk}, received {day:%d %b %Y}",
                day + datetime.timedelta(days=rule.days),
                school_id,
                trust_id,
            )

    def dispose(self, object_id, *, rule, actor, now):
        # Its time, provider id (which keeps a replayed webhook out), command and outcome stay for the log's counts.
        InboundText.objects.filter(pk=object_id).update(
            sender="", body="", reply="", note="", staff=None, visit=None, reply_notification=None
        )


class AuditEntriesRecords(RecordKind):
    """The whole trail's entries over six years old, as one item (the trail is one chain for every trust)."""

    kind = "audit_entries"

    def due(self, rule, *, now, pks=None):
        through = audit_prunable_through(now=now)
        if through and (pks is None or str(through) in {str(pk) for pk in pks}):
            label = f"Audit trail entries numbered up to {through}, over six years old"
            yield Due(str(through), label, timezone.localdate(now), None, None)

    def dispose(self, object_id, *, rule, actor, now):
        audit_prune(actor=actor, through_seq=int(object_id), rule=rule.in_words, now=now)


KINDS: dict[str, RecordKind] = {}


def register(kind: RecordKind) -> None:
    """Add a kind of record to the listing, under the schedule's name for it (e.g. "checkin_location")."""
    KINDS[kind.kind] = kind


for _kind in (
    ConcernRecords(),
    IncidentRecords(),
    VisitRecords(),
    RiskAssessmentRecords(),
    ProhibitedAddressRecords(),
    InboundTextRecords(),
    AuditEntriesRecords(),
):
    register(_kind)
