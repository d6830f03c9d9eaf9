"""After the visit: the Home Visit Form, its debrief and sign-off, follow-up actions, letters to the family,
incidents and concerns raised from a visit. Each verb writes its audit row in the same transaction."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.audit import audit
from core.mail import notify_by_email
from core.roles import Role
from core.selectors import users_with_role
from safeguarding.models import Concern
from safeguarding.services import concern_raise, risk_assessment_mark_for_review

from ..models import (
    FollowUpAction,
    Incident,
    IncidentKind,
    PresentPerson,
    Visit,
    VisitConcern,
    VisitOutcome,
    VisitReport,
    VisitRole,
    VisitStatus,
)
from ..services import visit_transition


@transaction.atomic
def visit_concern_raise(
    *, visit, child, raised_by, details: str, kind: str = "concern", action_taken: str = ""
) -> Concern:
    """A concern raised from a visit: the safeguarding record (the DSLs hear at once) and its link to the visit."""
    if not visit.children.filter(pk=child.pk).exists():
        raise ValidationError({"child": "This child was not on that visit."})
    concern = concern_raise(child=child, raised_by=raised_by, details=details, kind=kind, action_taken=action_taken)
    VisitConcern.objects.create(concern=concern, visit=visit)
    return concern


@transaction.atomic
def incident_record(
    *, visit, recorded_by, kind: str, occurred_at: datetime.datetime, details: str, staff_accused=None
) -> Incident:
    """Record an incident during a visit; an accusation against staff goes to the Principal alone."""
    if occurred_at > timezone.now():
        raise ValidationError({"occurred_at": "The incident cannot be in the future."})
    incident = Incident(
        school=visit.school,
        visit=visit,
        kind=kind,
        occurred_at=occurred_at,
        details=details,
        staff_accused=staff_accused if kind == IncidentKind.ACCUSATION else None,
        recorded_by=recorded_by,
        recorded_at=timezone.now(),
    )
    incident.full_clean()
    incident.save()
    audit(actor=recorded_by, action="incident.record", obj=incident, summary=f"Recorded {incident}")
    roles = (Role.PRINCIPAL,) if incident.principal_only else (Role.DSL, Role.PRINCIPAL)
    notify_by_email(
        users_with_role(school=visit.school, roles=roles).exclude(email=""),
        f"Incident during a home visit at {visit.school}",
        f"An incident ({incident.get_kind_display().lower()}) has been recorded.\n"
        f"Read it in the home-visits system: {incident.get_absolute_url()}\n",
    )
    mark_household_risk_assessment_for_review(incident=incident, actor=recorded_by)
    return incident


def mark_household_risk_assessment_for_review(*, incident: Incident, actor) -> None:
    """Any incident marks the household's risk assessment for review (policy 002, Appendix 1)."""
    risk_assessment_mark_for_review(household=incident.visit.household, reason=f"Incident: {incident}", actor=actor)


REPORT_FIELDS = [
    "arrived_at",
    "departed_at",
    "staff_went_in",
    "invited_in_by",
    "outcome",
    "abandoned_reason",
    "child_seen",
    "parent_summary",
    "internal_notes",
    "referrals",
    "next_visit_on",
]


def report_due_at(visit: Visit) -> datetime.datetime:
    """The school's policy hours after the pair got back (or after the visit was due back, if not recorded)."""
    returned = (
        visit.transitions.filter(to_status=VisitStatus.RETURNED).order_by("-at").values_list("at", flat=True).first()
    )
    start = returned or visit.expected_return
    return start + datetime.timedelta(hours=visit.school.policy().report_due_hours)


def checkin_times(visit: Visit) -> tuple[datetime.datetime | None, datetime.datetime | None]:
    """Arrival and departure as the check-ins recorded them (on site / left), if they did."""
    times = dict(
        visit.transitions.filter(to_status__in=[VisitStatus.ON_SITE, VisitStatus.LEFT])
        .order_by("at")
        .values_list("to_status", "at")
    )
    return times.get(VisitStatus.ON_SITE), times.get(VisitStatus.LEFT)


def _lead_id(visit: Visit):
    return visit.people.filter(role=VisitRole.LEAD).values_list("user_id", flat=True).first()


def _editable_report(visit: Visit, actor) -> VisitReport:
    if visit.status != VisitStatus.RETURNED:
        raise ValidationError("The Home Visit Form can be written once the visitors are back, and only once.")
    if actor.pk != _lead_id(visit):
        raise ValidationError("Only the visit's lead writes the Home Visit Form.")
    # Locked so that an autosave arriving late cannot interleave with the submission.
    report, _ = VisitReport.objects.select_for_update().get_or_create(
        visit=visit, defaults={"due_at": report_due_at(visit)}
    )
    if report.is_submitted:
        raise ValidationError("This Home Visit Form has already been submitted.")
    return report


@transaction.atomic
def report_save_draft(*, visit: Visit, actor, data: dict[str, list[str]]) -> VisitReport:
    """Keep exactly what the lead has typed so far, valid or not, so nothing is lost."""
    report = _editable_report(visit, actor)
    report.draft = {k: v for k, v in data.items() if k != "csrfmiddlewaretoken"}
    report.draft_saved_at = timezone.now()
    report.save(update_fields=["draft", "draft_saved_at"])
    return report


@transaction.atomic
def report_submit(*, visit: Visit, actor, fields: dict, present: list[dict], actions: list[dict]) -> VisitReport:
    """Validate and file the Home Visit Form, create its actions and move the visit to "reported"."""
    report = _editable_report(visit, actor)
    for name in REPORT_FIELDS:
        setattr(report, name, fields.get(name, getattr(report, name)))
    report.submitted_at = timezone.now()
    report.submitted_by = actor
    report.full_clean()
    if report.outcome == VisitOutcome.SEEN and not present:
        raise ValidationError("Record who was present when the visit took place.")
    report.draft = {}
    report.save()
    report.present.all().delete()
    for person in present:
        row = PresentPerson(report=report, **person)
        row.full_clean()
        row.save()
    child = visit.children.order_by("pk").first()
    for action in actions:
        action_create(school=visit.school, visit=visit, child=child, created_by=actor, **action)
    visit_transition(visit=visit, to_status=VisitStatus.REPORTED, actor=actor, note="Home Visit Form submitted")
    audit(
        actor=actor,
        action="report.submit",
        obj=report,
        school=visit.school,
        summary=f"Submitted the Home Visit Form for {visit}",
        late=report.is_late(report.submitted_at),
    )
    return report


@transaction.atomic
def report_record_debrief(*, report: VisitReport, actor, debrief_with, debrief_at: datetime.datetime) -> VisitReport:
    if debrief_at > timezone.now():
        raise ValidationError({"debrief_at": "The debrief cannot be in the future."})
    if debrief_with.pk == _lead_id(report.visit):
        raise ValidationError({"debrief_with": "The debrief is with the lead's line manager, not the lead."})
    report.debrief_with = debrief_with
    report.debrief_at = debrief_at
    report.full_clean()
    report.save(update_fields=["debrief_with", "debrief_at"])
    audit(
        actor=actor,
        action="report.debrief",
        obj=report,
        school=report.visit.school,
        summary=f"Debrief with {debrief_with.get_full_name() or debrief_with.username} recorded",
    )
    return report


@transaction.atomic
def report_review(*, report: VisitReport, actor, comment: str = "") -> VisitReport:
    """The DSL (or Principal) signs the form off, which closes the visit."""
    from core.roles import is_senior

    if not is_senior(actor):
        raise ValidationError("Only a DSL or the Principal can sign off a Home Visit Form.")
    if not report.is_submitted:
        raise ValidationError("The form has not been submitted yet.")
    report.reviewed_by = actor
    report.reviewed_at = timezone.now()
    report.review_comment = comment
    report.full_clean()
    report.save(update_fields=["reviewed_by", "reviewed_at", "review_comment"])
    visit_transition(visit=report.visit, to_status=VisitStatus.REVIEWED, actor=actor, note=comment or "Signed off")
    audit(
        actor=actor,
        action="report.review",
        obj=report,
        school=report.visit.school,
        summary=f"Signed off the Home Visit Form for {report.visit}",
    )
    return report


@transaction.atomic
def action_create(
    *,
    school,
    owner,
    description: str,
    due_on: datetime.date,
    created_by,
    visit=None,
    concern=None,
    child=None,
    agreed_with_family: bool = False,
) -> FollowUpAction:
    from core.scoping import school_ids_for

    if school.pk not in school_ids_for(owner):
        raise ValidationError({"owner": "The owner must work at this school."})
    action = FollowUpAction(
        school=school,
        owner=owner,
        description=description,
        due_on=due_on,
        created_by=created_by,
        visit=visit,
        concern=concern,
        child=child,
        agreed_with_family=agreed_with_family,
    )
    action.full_clean()
    action.save()
    audit(actor=created_by, action="action.create", obj=action, summary=f"Action for {owner}: {description}")
    return action


@transaction.atomic
def action_complete(*, action: FollowUpAction, actor, outcome: str) -> FollowUpAction:
    locked = FollowUpAction.objects.select_for_update().get(pk=action.pk)
    if locked.completed_at:
        raise ValidationError("This action is already complete.")
    if not outcome.strip():
        raise ValidationError({"completion_outcome": "Say what was done."})
    locked.completed_at = timezone.now()
    locked.completed_by = actor
    locked.completion_outcome = outcome.strip()
    locked.full_clean()
    locked.save()
    audit(actor=actor, action="action.complete", obj=locked, summary=f"Completed: {locked.description}")
    return locked


LETTERS = {
    "parent-copy": ("Your home visit from {school}", "home-visit-parent-copy.pdf"),
    "missed-you": ("Sorry we missed you: {school}", "sorry-we-missed-you.pdf"),
}


def parent_letter_email(*, visit: Visit, actor, document: str) -> list[str]:
    """Email the parent copy or the missed-you letter to the carers with parental responsibility and an address."""
    from django.conf import settings
    from django.core.mail import EmailMessage

    from . import pdf

    if document not in LETTERS:
        raise ValidationError("Unknown letter.")
    addresses = list(
        visit.household.carers.filter(parental_responsibility=True).exclude(email="").values_list("email", flat=True)
    )
    if not addresses:
        raise ValidationError("No parent or carer at this household has an email address on file.")
    data = pdf.parent_copy_pdf(visit) if document == "parent-copy" else pdf.missed_you_pdf(visit)
    subject, filename = LETTERS[document]
    message = EmailMessage(
        subject=subject.format(school=visit.school.name),
        body=f"Please find attached a letter from {visit.school.name} about our home visit.\n\n"
        f"If you have any questions, please contact the school on {visit.school.phone.as_national}.",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=addresses,
        reply_to=[visit.school.email] if visit.school.email else None,
    )
    message.attach(filename, data, "application/pdf")
    message.send(fail_silently=False)
    audit(
        actor=actor,
        action=f"visit.email_{document.replace('-', '_')}",
        obj=visit,
        summary=f"Emailed the {document.replace('-', ' ')} to {len(addresses)} carer(s)",
        to=addresses,
    )
    return addresses
