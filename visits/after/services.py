"""After the visit: the Home Visit Form, its debrief and sign-off, follow-up actions, letters to the family,
incidents and concerns raised from a visit. Each verb writes its audit row in the same transaction."""

import datetime
import re

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from core.audit import audit
from core.forms import control_character_problem
from core.mail import notify_by_email
from core.permissions import works_at
from core.roles import Role, is_senior
from core.scoping import school_ids_for
from core.selectors import users_with_role
from safeguarding.models import Concern
from safeguarding.services import concern_raise, risk_assessment_mark_for_review

from ..alerts.providers import govuk_notify
from ..lifecycle import _transition, now_or
from ..models import (
    CheckInKind,
    DeliveryStatus,
    EntryInvitation,
    FollowUpAction,
    Incident,
    IncidentKind,
    PostedLetter,
    PresentPerson,
    Visit,
    VisitConcern,
    VisitOutcome,
    VisitReport,
    VisitRole,
    VisitStatus,
)
from ..permissions import may_debrief, may_record_incident, may_send_letters, may_sign_off
from . import pdf


@transaction.atomic
def visit_concern_raise(
    *,
    visit,
    child,
    raised_by,
    details: str,
    kind: str = "concern",
    action_taken: str = "",
    about_entry: bool = False,
    now=None,
) -> Concern:
    """A concern raised from a visit: the safeguarding record (the DSLs hear at once) and its link to the visit.
    `about_entry`: staff went in where the policy says they must not (entry_refusal); the form can then say so."""
    if not visit.children.filter(pk=child.pk).exists():
        raise ValidationError({"child": "This child was not on that visit."})
    concern = concern_raise(
        child=child, raised_by=raised_by, details=details, kind=kind, action_taken=action_taken, now=now
    )
    VisitConcern.objects.create(concern=concern, visit=visit, about_entry=about_entry)
    return concern


@transaction.atomic
def incident_record(
    *, visit, recorded_by, kind: str, occurred_at: datetime.datetime, details: str, staff_accused=None, now=None
) -> Incident:
    """Record an incident during a visit; an accusation against staff goes to the Principal alone."""
    now = now_or(now)
    if not may_record_incident(recorded_by, visit):
        raise PermissionDenied("Staff, DSLs and the Principal who may see the visit record its incidents.")
    if occurred_at > now:
        raise ValidationError({"occurred_at": "The incident cannot be in the future."})
    incident = Incident(
        school=visit.school,
        visit=visit,
        kind=kind,
        occurred_at=occurred_at,
        details=details,
        staff_accused=staff_accused if kind == IncidentKind.ACCUSATION else None,
        recorded_by=recorded_by,
        recorded_at=now,
    )
    incident.full_clean()
    incident.save()
    audit(actor=recorded_by, action="incident.record", obj=incident, summary=f"Recorded {incident.audit_name}")
    roles = (Role.PRINCIPAL,) if incident.principal_only else (Role.DSL, Role.PRINCIPAL)
    notify_by_email(
        users_with_role(school=visit.school, roles=roles).exclude(email=""),
        f"Incident during a home visit at {visit.school}",
        f"An incident ({incident.get_kind_display().lower()}) has been recorded.\n"
        f"Read it in the home-visits system: {incident.get_absolute_url()}\n",
    )
    # Any incident marks the household's risk assessment for review (policy 002, Appendix 1). An accusation
    # against staff is the Principal's alone: the assessment says only that the Principal is reviewing it.
    risk_assessment_mark_for_review(
        household=visit.household,
        reason="" if incident.principal_only else f"Incident: {incident}",
        by_principal=incident.principal_only,
        actor=recorded_by,
        now=now,
    )
    return incident


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


def outcome_from_checkins(visit: Visit) -> str:
    """The Home Visit Form's outcome as the doorstep recorded it: the letter posted and never in is "no access"."""
    posted = visit.checkins.filter(kind=CheckInKind.LETTER_POSTED).exists()
    went_in = visit.transitions.filter(to_status=VisitStatus.ON_SITE).exists()
    return VisitOutcome.NO_ACCESS if posted and not went_in else ""


def doorstep_action_taken(*, visit: Visit) -> str:
    """For a concern opened from the doorstep: when the DSLs were alerted from the field page."""
    alerted = visit.checkins.filter(kind=CheckInKind.CHILD_DANGER).order_by("at").values_list("at", flat=True).first()
    if alerted is None:
        return ""
    return f"Alerted the DSLs and the Principal from the doorstep at {timezone.localtime(alerted):%H:%M}."


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
def report_save_draft(*, visit: Visit, actor, data: dict[str, list[str]], now=None) -> VisitReport:
    """Keep exactly what the lead has typed so far, valid or not, so nothing is lost."""
    report = _editable_report(visit, actor)
    if any(control_character_problem([k, *v], multiline=True) for k, v in data.items()):
        # The view leaves refused fields out; PostgreSQL could not store a NUL in the draft anyway.
        raise ValidationError("The draft has a control character that cannot be stored.")
    report.draft = {k: v for k, v in data.items() if k != "csrfmiddlewaretoken"}
    report.draft_saved_at = now_or(now)
    report.save(update_fields=["draft", "draft_saved_at"])
    return report


def entry_refusal(*, visit: Visit, went_in, invited_in_by: str, present: list[dict]) -> str:
    """Why the Home Visit Form may not record how staff went in as an ordinary visit ("" when it may): at a child's
    invitation with no adult at home, or with nobody present who has parental responsibility (unless an adult the
    parent asked to be there let them in). Once a concern about it has gone to the DSL, the form records it."""
    if not went_in or not invited_in_by:
        return ""
    if invited_in_by == EntryInvitation.CHILD_ALONE:
        problem = (
            "The school's policy says staff never go into a home at the invitation of a child with no adult there."
        )
    elif invited_in_by != EntryInvitation.DELEGATED and not any(p.get("parental_responsibility") for p in present):
        problem = (
            "Nobody you recorded as present has parental responsibility, and the school's policy says staff go in "
            "only when a parent or carer with it (or an adult they asked to be there) invites them. If one was "
            "there, add them under “Who was present” and tick the box."
        )
    else:
        return ""
    if visit.concern_links.filter(about_entry=True).exists():
        return ""
    return (
        f"{problem} If that is what happened, it is a safeguarding matter: raise a concern for the DSL (your form "
        "is kept as typed), then submit the form."
    )


def entry_concern_details(*, visit: Visit, report: VisitReport | None) -> str:
    """The concern's words to start from: the visit and what the lead's form recorded about going in."""
    draft = (report.draft if report else {}) or {}
    invited = (draft.get("invited_in_by") or [""])[0]
    people = []
    for key, values in sorted(draft.items()):
        if key.startswith("present-") and key.endswith("-name") and values and values[0].strip():
            prefix = key.removesuffix("-name")
            relationship = (draft.get(f"{prefix}-relationship") or [""])[0].strip()
            has_pr = (draft.get(f"{prefix}-parental_responsibility") or [""])[0] == "on"
            people.append(
                f"{values[0].strip()}{f' ({relationship})' if relationship else ''}"
                f"{', parental responsibility' if has_pr else ''}"
            )
    label = EntryInvitation(invited).label.lower() if invited in EntryInvitation.values else "not recorded"
    start = timezone.localtime(visit.scheduled_start)
    return (
        f"On the home visit to {visit.household.name} on {start:%d %b %Y}, staff went into the home.\n"
        f"Who let us in: {label}.\n"
        f"Present: {'; '.join(people) or 'nobody recorded'}.\n"
        "The school's policy says staff go in only when a parent or carer with parental responsibility (or an "
        "adult they asked to be there) invites them, never at a child's invitation with no adult at home.\n"
    )


@transaction.atomic
def report_submit(
    *, visit: Visit, actor, fields: dict, present: list[dict], actions: list[dict], now=None
) -> VisitReport:
    """Validate and file the Home Visit Form, create its actions and move the visit to "reported"."""
    now = now_or(now)
    report = _editable_report(visit, actor)
    for name in REPORT_FIELDS:
        setattr(report, name, fields.get(name, getattr(report, name)))
    report.submitted_at = now
    report.submitted_by = actor
    report.full_clean()
    if report.outcome == VisitOutcome.SEEN and not present:
        raise ValidationError("Record who was present when the visit took place.")
    refusal = entry_refusal(
        visit=visit, went_in=report.staff_went_in, invited_in_by=report.invited_in_by, present=present
    )
    if refusal:
        raise ValidationError({"invited_in_by": refusal})
    report.draft = {}
    report.save()
    report.present.all().delete()
    for person in present:
        row = PresentPerson(report=report, **person)
        row.full_clean()
        row.save()
    child = visit.children.order_by("pk").first()
    for action in actions:
        action_create(school=visit.school, visit=visit, child=child, created_by=actor, now=now, **action)
    _transition(visit, to_status=VisitStatus.REPORTED, actor=actor, now=now, note="Home Visit Form submitted")
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
def report_record_debrief(
    *, report: VisitReport, actor, debrief_with, debrief_at: datetime.datetime, now=None
) -> VisitReport:
    """Who the lead talked the visit through with, and when, once the form is in."""
    if not may_debrief(actor, report.visit):
        raise PermissionDenied("The lead or a DSL records the debrief.")
    if report.reviewed_at:
        raise ValidationError("The form is already signed off: a debrief is recorded before sign-off, not after.")
    if debrief_at > now_or(now):
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


def sign_off_refusal(*, report: VisitReport, actor) -> str:
    """Why `actor` may not sign this form off now ("" when they may): the page explains it, the verb refuses it."""
    visit = report.visit
    if not may_sign_off(actor, visit):
        return "Only a DSL or the Principal can sign off a Home Visit Form."
    if not report.is_submitted:
        return "The form has not been submitted yet."
    if report.reviewed_at:
        return "This Home Visit Form is already signed off."
    # Sign-off is a second pair of eyes: someone who was on the visit cannot be them.
    if visit.people.filter(user=actor).exists():
        return "You were on this visit, so another DSL or the Principal signs its form off."
    if not report.debrief_at and visit.school.policy().debrief_before_sign_off:
        return "The school's policy asks for the lead's debrief before sign-off: record the debrief first."
    return ""


@transaction.atomic
def report_review(*, report: VisitReport, actor, comment: str = "", now=None) -> VisitReport:
    """The DSL (or Principal) signs the form off, which closes the visit."""
    now = now_or(now)
    report = VisitReport.objects.select_for_update(of=("self",)).select_related("visit__school").get(pk=report.pk)
    refusal = sign_off_refusal(report=report, actor=actor)
    if refusal:
        raise ValidationError(refusal)
    report.reviewed_by = actor
    report.reviewed_at = now
    report.review_comment = comment
    report.full_clean()
    report.save(update_fields=["reviewed_by", "reviewed_at", "review_comment"])
    _transition(report.visit, to_status=VisitStatus.REVIEWED, actor=actor, now=now, note=comment or "Signed off")
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
    now=None,
) -> FollowUpAction:
    """Something someone must do after a visit or a concern. A concern's actions are for a DSL or the
    Principal to set; a visit's are set by whoever writes or reviews its form (all at the school)."""
    if not works_at(created_by, school) or (concern is not None and not is_senior(created_by, school)):
        raise PermissionDenied("Only the school's staff set its actions, and only a DSL or the Principal a concern's.")
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
        created_at=now_or(now),
    )
    action.full_clean()
    action.save()
    audit(actor=created_by, action="action.create", obj=action, summary=f"Action for {owner}: {description}")
    return action


@transaction.atomic
def action_complete(*, action: FollowUpAction, actor, outcome: str, now=None) -> FollowUpAction:
    locked = FollowUpAction.objects.select_for_update().get(pk=action.pk)
    if not (locked.owner_id == actor.pk or is_senior(actor, locked.school_id)):
        raise PermissionDenied("The action's owner, a DSL or the Principal completes it.")
    if locked.completed_at:
        raise ValidationError("This action is already complete.")
    if not outcome.strip():
        raise ValidationError({"completion_outcome": "Say what was done."})
    locked.completed_at = now_or(now)
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


def letter_refusal(*, visit: Visit, document: str) -> str:
    """Why this letter does not apply to this visit ("" when it does): the page and the verb ask the same."""
    if document not in LETTERS:
        return "Unknown letter."
    if document == "parent-copy" and not visit.report_written:
        return "The parent copy is made from the Home Visit Form, which has not been submitted yet."
    if document == "missed-you" and not visit.missed_you_applies:
        return (
            'The "sorry we missed you" letter is for a visit where nobody answered: it applies once the Home '
            'Visit Form\'s outcome is "No access".'
        )
    return ""


def letter_recipients(*, visit: Visit) -> list[tuple[str, str]]:
    """(name, address) of each carer with parental responsibility and an email address: who a letter goes to."""
    carers = visit.household.carers.filter(parental_responsibility=True).exclude(email="")
    return [(carer.addressed_as, carer.email) for carer in carers]


def parent_letter_email(*, visit: Visit, actor, document: str, confirmed_to: list[str]) -> list[str]:
    """Email the parent copy or the missed-you letter to the carers with parental responsibility and an address,
    once the sender has seen and confirmed exactly those addresses."""
    if not may_send_letters(actor, visit):
        raise PermissionDenied("The lead or a DSL sends letters to the family.")
    refusal = letter_refusal(visit=visit, document=document)
    if refusal:
        raise ValidationError(refusal)
    addresses = [address for _, address in letter_recipients(visit=visit)]
    if not addresses:
        raise ValidationError("No parent or carer at this household has an email address on file.")
    if sorted(addresses) != sorted(confirmed_to):
        # The addresses on file changed between the confirmation page and the send: nothing goes out unseen.
        raise ValidationError("The addresses on file have changed since you confirmed them: check them again.")
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


# --- Letters by post (GOV.UK Notify's precompiled letters) --------------------------------------------------------


def letter_post_refusal(*, visit: Visit, document: str, address: list[str]) -> str:
    """Why this letter cannot go by post ("" when it can): the confirmation page and the verb ask the same."""
    refusal = letter_refusal(visit=visit, document=document)
    if refusal:
        return refusal
    if not govuk_notify.letters_by_post_enabled():
        return "Letters by post go through GOV.UK Notify, which is not set up here: ask IT to connect it."
    if not visit.household.postcode:
        return "The household's address has no postcode: add it on the household's record first."
    if not 3 <= len(address) <= 7:
        return "A posted letter's address needs between 3 and 7 lines: check the household's address."
    return ""


def _notify_message(error: Exception) -> str:
    """Notify's own words for a refusal (its client gives a list of {error, message})."""
    message = getattr(error, "message", "") or str(error)
    if isinstance(message, list):
        message = "; ".join(str(item.get("message", item)) if isinstance(item, dict) else str(item) for item in message)
    return str(message)[:200]


@transaction.atomic
def parent_letter_post(*, visit: Visit, actor, document: str, confirmed_address: list[str], now=None) -> PostedLetter:
    """Post the parent copy or the missed-you letter to the household through Notify, once the sender has seen and
    confirmed exactly the address block printed in the envelope's window. One letter of each kind per visit,
    unless the last one failed; Notify's id is kept and its receipts update the letter's status."""
    if not may_send_letters(actor, visit):
        raise PermissionDenied("The lead or a DSL sends letters to the family.")
    now = now_or(now)
    Visit.objects.locked(visit)  # one post at a time for a visit: a second click waits, then finds the first
    address = pdf.postal_address(visit)
    refusal = letter_post_refusal(visit=visit, document=document, address=address)
    if refusal:
        raise ValidationError(refusal)
    if address != list(confirmed_address):
        # The address on file changed between the confirmation page and the send: nothing goes out unseen.
        raise ValidationError("The address on file has changed since you confirmed it: check it again.")
    earlier = PostedLetter.objects.filter(visit=visit, document=document).exclude(status=DeliveryStatus.FAILED)
    if earlier.exists():
        sent = timezone.localtime(earlier.latest("sent_at").sent_at)
        raise ValidationError(f"This letter was already posted on {sent:%-d %B %Y} at {sent:%H:%M}.")
    data = pdf.parent_copy_pdf(visit) if document == "parent-copy" else pdf.missed_you_pdf(visit)
    letter = PostedLetter.objects.create(
        visit=visit,
        document=document,
        address_lines=address,
        postage=settings.NOTIFY_LETTER_POSTAGE,
        sent_by=actor,
        sent_at=now,
    )
    try:
        letter.provider_id = govuk_notify.send_precompiled_letter(
            reference=letter.receipt_reference, pdf=data, postage=letter.postage
        )
    except Exception as error:  # noqa: BLE001 - Notify's refusal, in its words; the whole post is undone
        raise ValidationError(f"GOV.UK Notify did not accept the letter: {_notify_message(error)}") from error
    letter.save(update_fields=["provider_id"])
    audit(
        actor=actor,
        action=f"visit.post_{document.replace('-', '_')}",
        obj=visit,
        summary=f"Posted {letter.get_document_display()} to the household through GOV.UK Notify",
        to=address,
        postage=letter.postage,
        letter=letter.pk,
        notify_id=letter.provider_id,
    )
    return letter


@transaction.atomic
def posted_letter_receipt_record(
    *, reference: str, provider_id: str, status: str, reason: str = "", now=None
) -> PostedLetter | None:
    """Notify's verified receipt for a posted letter (Notify is the actor): printed and posted, or not posted and
    why. The first final word stands. A letter that was not posted is shown on the visit, and its sender is
    emailed a link to it."""
    match = re.fullmatch(r"letter-(\d+)", reference or "")
    letter = (
        PostedLetter.objects.select_for_update(of=("self",))
        .select_related("visit__school", "sent_by")
        .filter(pk=int(match[1]))
        .first()
        if match
        else None
    )
    if letter is None or letter.provider_id != provider_id:
        return None
    if status not in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED) or letter.status != DeliveryStatus.SENT:
        return letter
    letter.status, letter.status_at, letter.status_reason = status, now_or(now), reason[:300]
    letter.save(update_fields=["status", "status_at", "status_reason"])
    audit(
        actor=None,
        action=f"letter.{status}",
        obj=letter,
        school=letter.visit.school,
        summary=f"{letter.get_document_display().capitalize()}: {letter.status_text}",
        reason=reason,
    )
    if status == DeliveryStatus.FAILED:
        notify_by_email(
            [letter.sent_by],
            "A letter to a family was not posted",
            f"GOV.UK Notify could not post {letter.get_document_display()} you sent: {reason or 'no reason given'}."
            f"\n\nOpen the visit to send it again or another way: {settings.SITE_URL}{letter.visit.get_absolute_url()}",
        )
    return letter
