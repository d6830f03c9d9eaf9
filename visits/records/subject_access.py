"""Subject access: everything the system holds about a parent or carer, or a child, for a DSL to review and
release. The review lists every third party the records name (other family members, people present at visits,
a social worker) and the DSL marks whose details are withheld; the export then leaves each marked person out of
its rows and puts "[withheld]" wherever their name appears in text. Staff acting for the school are not third
parties here. Producing an export is audited.

One function gathers (`gather`), one applies the review (`redacted`), two render (JSON and PDF)."""

import datetime
import json
import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from core.audit import audit
from core.permissions import may_keep_safeguarding_records, school_ids_where
from core.roles import SENIOR
from safeguarding.models import Concern

from ..after import pdf
from ..models import FollowUpAction, IncidentKind, SubjectAccessRequest, Visit

WITHHELD = "[withheld]"


def due_on(received_on: datetime.date) -> datetime.date:
    """A calendar month from receipt (the ICO: the same date next month, or the month's last day if there is none)."""
    year, month = (received_on.year + 1, 1) if received_on.month == 12 else (received_on.year, received_on.month + 1)
    for day in (received_on.day, 30, 29, 28):
        try:
            return datetime.date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _name(user) -> str:
    return (user.get_full_name() or user.username) if user else ""


def _time(value):
    return timezone.localtime(value).isoformat(timespec="minutes") if value else None


def _visits_for(request: SubjectAccessRequest):
    actions = FollowUpAction.objects.select_related("owner").filter(concern__isnull=True)
    visits = Visit.objects.select_related("report").prefetch_related(
        "people__user", "report__present", "children", Prefetch("actions", queryset=actions), "incidents"
    )
    if request.child_id:
        return visits.filter(children=request.child_id).order_by("scheduled_start", "pk")
    return visits.filter(household_id=request.carer.household_id).order_by("scheduled_start", "pk")


def gather(request: SubjectAccessRequest) -> dict:
    """Everything held about the subject, as plain values, with the third parties it names."""
    carer = request.carer
    child = request.child
    if carer is None and child is None:
        raise ValidationError("The parent or carer's record has since been removed: nothing is held to export.")
    household = (child or carer).household
    carers = list(household.carers.all())
    children = list(household.children.all())
    third = {}

    def party(key, name, why):
        if name and name.strip():
            third.setdefault(key, {"key": key, "name": name.strip(), "why": why})

    if child:
        subject = {
            "kind": "child",
            "name": f"{child.first_name} {child.last_name}",
            "date_of_birth": child.date_of_birth,
            "year_group": child.get_year_group_display(),
            "left_on": child.left_on,
        }
        for c in carers:
            party(f"carer-{c.pk}", c.addressed_as, f"parent or carer ({c.relationship})")
        for sibling in children:
            if sibling.pk != child.pk:
                party(
                    f"child-{sibling.pk}", f"{sibling.first_name} {sibling.last_name}", "another child in the household"
                )
        if child.social_worker_name:
            party(f"social-worker-{child.pk}", child.social_worker_name, "social worker")
    else:
        subject = {
            "kind": "parent or carer",
            "name": carer.addressed_as,
            "relationship": carer.relationship,
            "parental_responsibility": carer.parental_responsibility,
            "phone": str(carer.phone or ""),
            "email": carer.email,
            "language": carer.language,
            "literacy_support_needed": carer.literacy_support_needed,
        }
        for c in carers:
            if c.pk != carer.pk:
                party(f"carer-{c.pk}", c.addressed_as, f"another parent or carer ({c.relationship})")
        for kid in children:
            party(f"child-{kid.pk}", f"{kid.first_name} {kid.last_name}", "a child in the household")

    visits = []
    for visit in _visits_for(request):
        report = getattr(visit, "report", None)
        submitted = report if report and report.submitted_at else None
        if submitted:
            for person in report.present.all():
                if not _same_person(person.name, subject["name"]):
                    party(
                        f"present-{person.pk}",
                        person.name,
                        f"present at the visit of {visit.scheduled_start:%-d %b %Y}",
                    )
        visits.append(
            {
                "when": _time(visit.scheduled_start),
                "purpose": visit.get_purpose_display(),
                "status": visit.get_status_display(),
                "reason": visit.reason,
                "outcome_wanted": visit.outcome_wanted,
                "children": [f"{c.first_name} {c.last_name}" for c in visit.children.all()],
                "visitors": [p.name for p in visit.people.all()],
                "form": submitted
                and {
                    "outcome": report.get_outcome_display(),
                    "present": [
                        {"key": f"present-{p.pk}", "name": p.name, "relationship": p.relationship}
                        for p in report.present.all()
                    ],
                    "discussed_and_agreed": report.parent_summary,
                    "staff_notes": report.internal_notes,
                    "referrals": report.referrals,
                },
                "actions": [
                    {"what": a.description, "due_on": a.due_on, "done": _time(a.completed_at)}
                    for a in visit.actions.all()
                ],
                "incidents": [
                    {"when": _time(i.occurred_at), "kind": i.get_kind_display(), "details": i.details}
                    for i in visit.incidents.all()
                    if i.kind != IncidentKind.ACCUSATION
                ],
            }
        )
    concern_children = [child.pk] if child else [c.pk for c in children]
    concerns = [
        {
            "when": _time(c.raised_at),
            "about": f"{c.child.first_name} {c.child.last_name}",
            "kind": c.get_kind_display(),
            "details": c.details,
            "action_taken": c.action_taken,
            "outcome": c.outcome,
            "closed": _time(c.closed_at),
        }
        for c in Concern.objects.filter(child_id__in=concern_children).select_related("child").order_by("raised_at")
    ]
    return {
        "request": {
            "number": request.pk,
            "received_on": request.received_on,
            "respond_by": due_on(request.received_on),
            "school": request.school.name,
        },
        "subject": subject,
        "household": {
            "name": household.name,
            "address": household.address,
            "languages": household.home_languages,
            "interpreter_needed": household.interpreter_needed,
            "carers": [
                {
                    "key": f"carer-{c.pk}",
                    "name": c.addressed_as,
                    "relationship": c.relationship,
                    "phone": str(c.phone or ""),
                }
                for c in carers
            ],
            "children": [{"key": f"child-{c.pk}", "name": f"{c.first_name} {c.last_name}"} for c in children],
        },
        "visits": visits,
        "concerns": concerns,
        "third_parties": list(third.values()),
    }


def _same_person(a: str, b: str) -> bool:
    return " ".join(a.lower().split()) == " ".join(b.lower().split())


def redacted(data: dict, redact: list[str]) -> dict:
    """The gathered data with each marked third party left out of its rows and their name withheld in all text."""
    marked = [p for p in data["third_parties"] if p["key"] in set(redact)]
    names = sorted({p["name"] for p in marked}, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(n) for n in names), re.IGNORECASE) if names else None
    keys = {p["key"] for p in marked}

    def clean(value):
        if isinstance(value, dict):
            if value.get("key") in keys:
                return None
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [v for v in (clean(item) for item in value) if v is not None]
        if isinstance(value, str) and pattern:
            return pattern.sub(WITHHELD, value)
        return value

    out = {k: clean(v) for k, v in data.items() if k != "third_parties"}
    out["withheld"] = [{"why": p["why"]} for p in marked]
    return out


def _reviewer(actor, request: SubjectAccessRequest) -> None:
    if not may_keep_safeguarding_records(actor, request.school):
        raise PermissionDenied("Subject access requests are for the school's DSLs and Principal.")


@transaction.atomic
def access_request_open(*, actor, received_on: datetime.date, requested_by: str, carer=None, child=None, now=None):
    now = now or timezone.now()
    subject = child or carer
    if subject is None or (carer is not None and child is not None):
        raise ValidationError("A request is about one parent or carer, or one child.")
    school = child.school if child else carer.household.school
    if not may_keep_safeguarding_records(actor, school):
        raise PermissionDenied("Subject access requests are for the school's DSLs and Principal.")
    errors = {}
    if not (requested_by or "").strip():
        errors["requested_by"] = "Say who asked, and how you checked who they are."
    if received_on is None or received_on > timezone.localdate(now):
        errors["received_on"] = "Give the day the request reached the school (not in the future)."
    if errors:
        raise ValidationError(errors)
    request = SubjectAccessRequest.objects.create(
        school=school,
        carer=carer,
        child=child,
        received_on=received_on,
        requested_by=requested_by.strip()[:200],
        opened_by=actor,
        opened_at=now,
    )
    audit(
        actor=actor,
        action="subject_access.open",
        obj=request,
        school=school,
        summary=f"Opened subject access request #{request.pk}, to answer by {due_on(received_on):%-d %b %Y}",
    )
    return request


@transaction.atomic
def access_request_review(*, actor, request: SubjectAccessRequest, redact: list[str], now=None):
    """Record the review: which third parties' details are withheld (the keys the gathered data lists)."""
    _reviewer(actor, request)
    known = {p["key"] for p in gather(request)["third_parties"]}
    unknown = set(redact) - known
    if unknown:
        raise ValidationError("The list of third parties has changed: look at it again.")
    request.redact = sorted(set(redact))
    request.reviewed_by, request.reviewed_at = actor, now or timezone.now()
    request.save(update_fields=["redact", "reviewed_by", "reviewed_at"])
    audit(
        actor=actor,
        action="subject_access.review",
        obj=request,
        school=request.school,
        summary=f"Reviewed subject access request #{request.pk}: {len(request.redact)} third part(y/ies) withheld",
        withheld=request.redact,
    )
    return request


@transaction.atomic
def access_request_export(*, actor, request: SubjectAccessRequest, as_format: str) -> bytes:
    """The export as released (JSON for the record, PDF for reading), only once reviewed. Audited."""
    _reviewer(actor, request)
    if not request.is_reviewed:
        raise ValidationError("Review the third parties before anything is released.")
    data = redacted(gather(request), request.redact)
    data["produced"] = {"at": timezone.localtime().isoformat(timespec="minutes"), "by": _name(actor)}
    audit(
        actor=actor,
        action="subject_access.produce",
        obj=request,
        school=request.school,
        summary=f"Produced the {as_format.upper()} of subject access request #{request.pk}",
        withheld=request.redact,
    )
    if as_format == "json":
        return json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False).encode()
    return pdf.subject_access_pdf(data)


def requests_for(*, user):
    """The requests of the schools where the user is a DSL or the Principal, newest first."""
    return SubjectAccessRequest.objects.filter(school_id__in=school_ids_where(user, *SENIOR)).select_related(
        "school", "carer", "child", "opened_by", "reviewed_by"
    )
