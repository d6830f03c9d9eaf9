"""Getting a visit ready to leave: the safe word, telling the Headteacher or the social worker, overriding a
checklist item, and the gate the check-out passes. Each change is audited in its own transaction.
"""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from core.audit import audit
from core.permissions import user_may_override
from core.roles import Role
from core.scoping import school_ids_for
from core.selectors import users_with_role
from safeguarding.models import RiskAssessment

from ..lifecycle import _transition, now_or
from ..models import ChecklistOverride, SafeWord, VisitPreparation, VisitStatus
from ..permissions import may_prepare, may_see_safe_word
from ..requests.policy import vehicle_problems
from .checklist import LABELS, departure_check_record

logger = logging.getLogger(__name__)


@transaction.atomic
def safe_word_set(*, visit, word: str, actor, now=None) -> SafeWord:
    """Agree the visit's safe word and record it with the household's current risk assessment."""
    if not may_prepare(actor, visit):
        raise PermissionDenied("Only the pair, a DSL or the Principal can agree the safe word.")
    word = " ".join(word.split())
    if not 3 <= len(word) <= 60:
        raise ValidationError({"word": "Choose a word or short phrase of 3 to 60 characters."})
    assessment = RiskAssessment.objects.filter(household_id=visit.household_id).first()
    if assessment is None:
        raise ValidationError("Complete the household's risk assessment first: the safe word is recorded on it.")
    safe_word, _ = SafeWord.objects.select_for_update().update_or_create(
        visit=visit,
        defaults={"risk_assessment": assessment, "word": word, "agreed_by": actor, "agreed_at": now_or(now)},
    )
    # The audit row says that a word was agreed, never what it is.
    audit(
        actor=actor,
        action="safe_word.set",
        obj=safe_word,
        school=visit.school,
        summary=f"Safe word agreed for visit #{visit.pk}",
    )
    return safe_word


def safe_word_reveal(*, visit, user) -> str | None:
    """The safe word for someone allowed to see it (audited as a sensitive view); None if none is agreed."""
    if not may_see_safe_word(user, visit):
        raise PermissionDenied("You cannot see this visit's safe word.")
    safe_word = SafeWord.objects.filter(visit=visit).first()
    if safe_word is None:
        return None
    audit(
        actor=user,
        action="safe_word.view",
        obj=safe_word,
        school=visit.school,
        summary=f"Safe word shown for visit #{visit.pk}",
    )
    return safe_word.word


def _preparation(visit) -> VisitPreparation:
    prep, _ = VisitPreparation.objects.select_for_update().get_or_create(visit=visit)
    return prep


def _require_on_visit_or_senior(actor, visit) -> None:
    if not may_prepare(actor, visit):
        raise PermissionDenied("Only the pair, a DSL or the Principal prepare this visit.")


def _principals(school):
    return users_with_role(school=school, roles=[Role.PRINCIPAL]).exclude(email="")


@transaction.atomic
def visit_inform_headteacher(*, visit, actor, now=None) -> VisitPreparation:
    """For an unannounced visit: tell the Headteacher the purpose, the address and the time due back."""
    _require_on_visit_or_senior(actor, visit)
    if visit.announced:
        raise ValidationError("This visit is announced: record that the parents were told instead.")
    due_back = timezone.localtime(visit.expected_return)
    recipients = [u.email for u in _principals(visit.school)]
    body = (
        f"An unannounced home visit is about to leave {visit.school.name}.\n\n"
        f"Purpose: {visit.get_purpose_display()}\n"
        f"Why unannounced: {visit.unannounced_reason}\n"
        f"Address: {visit.household.address}\n"
        f"Due back at school: {due_back:%H:%M on %d %b %Y}\n"
        f"Visitors: {', '.join(p.name for p in visit.people.all())}\n"
        f"Lead's mobile: {visit.lead_mobile or 'not given'}\n"
    )
    if recipients:
        transaction.on_commit(
            lambda: send_mail(
                f"Unannounced home visit: due back {due_back:%H:%M}", body, None, recipients, fail_silently=False
            )
        )
    prep = _preparation(visit)
    prep.headteacher_informed_at, prep.headteacher_informed_by = now_or(now), actor
    prep.save()
    audit(
        actor=actor,
        action="visit.headteacher_informed",
        obj=visit,
        summary=f"Headteacher informed of unannounced visit #{visit.pk}",
        emailed=len(recipients),
    )
    logger.info("Headteacher informed of unannounced visit %s (%d recipients)", visit.pk, len(recipients))
    return prep


@transaction.atomic
def visit_record_social_worker(*, visit, actor, told_after: bool = False, note: str = "", now=None) -> VisitPreparation:
    _require_on_visit_or_senior(actor, visit)
    if told_after and not note.strip():
        raise ValidationError({"note": "Say who will tell the social worker, and when."})
    prep = _preparation(visit)
    if told_after:
        prep.social_worker_told_after, prep.social_worker_informed_at = True, None
    else:
        prep.social_worker_told_after, prep.social_worker_informed_at = False, now_or(now)
    prep.social_worker_informed_by, prep.social_worker_note = actor, note.strip()[:300]
    prep.save()
    audit(
        actor=actor,
        action="visit.social_worker",
        obj=visit,
        summary="Social worker will be told straight after" if told_after else "Social worker informed",
    )
    return prep


def visit_cancel_for_animals(*, visit, actor, note: str = "", now=None):
    """The family would not keep their animals in another room: the visit is cancelled and recorded as such."""
    _require_on_visit_or_senior(actor, visit)
    reason = "Cancelled: the family would not keep the animals in another room."
    return _transition(
        visit, to_status=VisitStatus.CANCELLED, actor=actor, now=now_or(now), note=f"{reason} {note}".strip()
    )


@transaction.atomic
def checklist_override(*, visit, item: str, reason: str, actor, now=None) -> ChecklistOverride:
    """Set an item aside, by a role the school's policy names for it, with the reason kept."""
    if item not in LABELS:
        raise ValidationError(f"Unknown checklist item {item!r}.")
    if visit.school_id not in school_ids_for(actor) and not actor.is_superuser:
        raise PermissionDenied("You do not work at this school.")
    allowed = visit.school.policy().checklist_override_roles.get(item, [])
    role = user_may_override(actor, allowed, school=visit.school_id)
    if role is None:
        names = " or ".join(Role(r).label for r in allowed) if allowed else "nobody: it must be met"
        raise PermissionDenied(f"This item can be overridden by {names}.")
    if not reason.strip():
        raise ValidationError({"reason": "Give the reason for the override."})
    override, _ = ChecklistOverride.objects.update_or_create(
        visit=visit,
        item=item,
        defaults={"reason": reason.strip(), "role": role, "by": actor, "at": now_or(now)},
    )
    override.full_clean()
    audit(
        actor=actor,
        action="checklist.override",
        obj=visit,
        summary=f"Overrode '{LABELS[item]}' as {role}: {reason}"[:300],
        item=item,
    )
    return override


def check_out_blockers(visit, *, actor, now=None) -> list[ValidationError]:
    """Why this visit may not check out yet; empty when it may. Called inside the check-out transaction.

    The pre-departure checklist (authorised, address checked today, training, risk assessment, safe word,
    family told, social worker) is recorded in the audit trail as checked; the office also needs the lead's
    mobile to ring, and the policies ask for a pair. Each reason's code is its checklist item's key (or the
    visit's field), so the page that refuses can link each to where it is done (selectors.where_to_fix).
    """
    blockers = [
        ValidationError(f"{item.label}: {item.detail}" if item.detail else f"{item.label}: not met", code=item.key)
        for item in departure_check_record(visit=visit, actor=actor, today=timezone.localdate(now_or(now)))
    ]
    if visit.invite_to_school_instead:
        # What was decided is a meeting in school: checking out to the home would be a visit nobody approved.
        blockers.append(
            ValidationError(
                "This visit was asked for as a meeting in school: nobody checks out to the home. To visit the home, "
                "change the visit (untick “invite the family into school”): it goes back for a new decision.",
                code="invite_to_school_instead",
            )
        )
    if visit.people.count() < 2:
        blockers.append(ValidationError("A home visit needs at least two visitors.", code="people"))
    if not visit.lead_mobile:
        blockers.append(ValidationError("Give the lead's mobile so the office can ring it.", code="lead_mobile"))
    # Insurance can be withdrawn after the decision.
    blockers.extend(ValidationError(problem, code="vehicle") for problem in vehicle_problems(visit))
    return blockers
