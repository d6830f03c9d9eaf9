"""Check-in by text message: what a text says (parsing), whose visit it is about (matching), and the verb that
acts on it as the matched member of staff through the field's one door (services.checkin_receive, as the field
page's taps and a phone's queued ones do): never a second way to change a visit.

Texts understood (any case, spaces and punctuation ignored): OUT, ARRIVED, LEFT, BACK, LATE 15 (also LATE15,
"late 15 mins"). The school's duress word, anywhere in a text, raises duress silently and is answered exactly as
an ordinary check-in would be, so someone reading the phone sees nothing special. Anything else gets a plain
reply and changes nothing. Every text is kept (InboundText), with what it did and the reply; a webhook sent again
finds the text by the provider's id and does nothing more.
"""

import datetime
import logging
import re
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from core.audit import audit
from core.dates import local_day_bounds
from core.models import School, StaffProfile
from core.scoping import school_ids_for
from core.standards import TEXT_COMMAND_WORDS

from ..alerts.providers import ReceivedText
from ..lifecycle import AWAY, VisitStatus
from ..models import (
    AlertNotification,
    CheckInKind,
    InboundText,
    NotificationChannel,
    TextCommand,
    TextOutcome,
    Visit,
    VisitRole,
)
from .services import check_out_refusal, checkin_receive

logger = logging.getLogger(__name__)

C = TextCommand
# The first word (or two) of a text, and what it asks for.
WORDS = {
    "OUT": C.OUT,
    "CHECKOUT": C.OUT,
    "CHECKEDOUT": C.OUT,
    "ARRIVED": C.ARRIVED,
    "ARRIVE": C.ARRIVED,
    "HERE": C.ARRIVED,
    "LEFT": C.LEFT,
    "BACK": C.BACK,
    "RETURNED": C.BACK,
    "LATE": C.LATE,
}
assert set(WORDS) <= TEXT_COMMAND_WORDS, "a duress word must never be one of these: core/standards.py keeps the list"
# The check-in each command records (LATE extends; the duress word raises duress).
KINDS = {C.OUT: CheckInKind.CHECKED_OUT, C.ARRIVED: CheckInKind.ARRIVED, C.LEFT: CheckInKind.LEFT}
KINDS[C.BACK] = CheckInKind.RETURNED
# Where each command makes sense.
FITS = {
    C.OUT: (VisitStatus.AUTHORISED,),
    C.ARRIVED: (VisitStatus.OUT,),
    C.LEFT: (VisitStatus.ON_SITE,),
    C.BACK: AWAY,
    C.LATE: AWAY,
}
# What the duress word's reply imitates when the text says nothing else: the visit's next check-in.
NEXT_STEP = {VisitStatus.OUT: C.ARRIVED, VisitStatus.ON_SITE: C.LEFT, VisitStatus.LEFT: C.BACK}

HELP = (
    "Text OUT when you leave school, ARRIVED, LEFT when you leave the house, BACK at school, "
    "or LATE 15 for 15 more minutes."
)
REPLIES = {
    TextOutcome.UNKNOWN_SENDER: (
        "This number takes check-ins from school staff on a home visit only. Please ring the school."
    ),
    TextOutcome.NOT_UNDERSTOOD: f"Sorry, that was not understood. {HELP}",
    TextOutcome.TWO_VISITS: (
        "You have more than one visit today: please check in on the field page, or ring the office."
    ),
    "no_visit": "You have no visit under way. Text OUT when you leave school, or use the field page.",
    "none_to_check_out": "No visit is authorised for you to check out today. Use the field page, or ring the office.",
    "late_minutes": "Say how many minutes, for example LATE 15.",
}

ANSWER_STRANGERS_EVERY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Parsed:
    command: str  # a TextCommand value, or "" when the text asks for nothing we know
    minutes: int | None = None
    duress: bool = False


def parse(body: str, *, duress_words=()) -> Parsed:
    """What a text asks for. Generous: case, spaces and punctuation do not matter, LATE15 and "late 15 mins" are
    LATE 15. The duress word counts anywhere in the text, as a word of its own."""
    tokens = re.findall(r"[A-Z]+|\d+", (body or "").upper())
    words = [t for t in tokens if t.isalpha()]
    duress = any(word and word.upper() in words for word in duress_words)
    first = "".join(words[:2]) if words[:2] in (["CHECKED", "OUT"], ["CHECK", "OUT"]) else (words[:1] or [""])[0]
    command = WORDS.get(first, "") if tokens and tokens[0].isalpha() else ""
    minutes = None
    if command == C.LATE:
        numbers = [int(t) for t in tokens if t.isdigit()]
        minutes = numbers[0] if numbers else None
    return Parsed(command=command, minutes=minutes, duress=duress)


def _hhmm(moment: datetime.datetime) -> str:
    return f"{timezone.localtime(moment):%H:%M}"


def success_reply(command: str, visit: Visit, *, now, minutes=None, due_back=None) -> str:
    """The reply to a check-in that was recorded (and the duress word's imitation of one): times only, never
    anything about the family."""
    due = due_back or visit.due_back
    if command == C.OUT:
        return f"Checked out of school at {_hhmm(now)}. Due back {_hhmm(due)}. Text ARRIVED when you get there."
    if command == C.ARRIVED:
        return f"Arrived at {_hhmm(now)}. Due back {_hhmm(due)}. Text LEFT when you leave the house."
    if command == C.LEFT:
        return f"Left the house at {_hhmm(now)}. Due back {_hhmm(due)}. Text BACK when you are back at school."
    if command == C.BACK:
        return f"Back at school at {_hhmm(now)}. Thank you."
    return f"Running late: {minutes} more minutes. Due back {_hhmm(due)}."


def _senders(number: str, *, day) -> set:
    """The active staff this number belongs to: their own mobile, or the lead's mobile given on one of their
    visits for the day."""
    if not number.startswith("+"):
        return set()
    start, end = local_day_bounds(day)
    users = {p.user for p in StaffProfile.objects.filter(mobile=number, user__is_active=True).select_related("user")}
    for visit in (
        Visit.objects.filter(lead_mobile=number)
        .filter(
            Q(status__in=AWAY) | Q(status=VisitStatus.AUTHORISED, scheduled_start__gte=start, scheduled_start__lt=end)
        )
        .prefetch_related("people__user")
    ):
        users |= {p.user for p in visit.people.all() if p.role == VisitRole.LEAD and p.user.is_active}
    return users


def candidate_visits(users: set, *, command: str, day) -> list[tuple[Visit, object]]:
    """(visit, who texted) for each visit the sender is lead or second on that the command could be about: for
    OUT, those authorised for today; otherwise those under way (out, on site or left)."""
    start, end = local_day_bounds(day)
    when = (
        Q(status=VisitStatus.AUTHORISED, scheduled_start__gte=start, scheduled_start__lt=end)
        if command == C.OUT
        else Q(status__in=AWAY)
    )
    visits = (
        Visit.objects.filter(when, people__user__in=users, people__role__in=[VisitRole.LEAD, VisitRole.SECOND])
        .distinct()
        .select_related("school")
        .prefetch_related("people__user")
        .order_by("scheduled_start", "pk")
    )
    found = []
    for visit in visits:
        pair = [p for p in visit.people.all() if p.user in users and p.role in (VisitRole.LEAD, VisitRole.SECOND)]
        pair.sort(key=lambda p: p.role != VisitRole.LEAD)
        found.append((visit, pair[0].user))
    return found


def _choose(candidates, *, command: str, now):
    """The one visit the text is about, or None when it could be more than one. With one candidate, that one
    (its verb says why, if the command does not fit it). With several, the one the command fits, if only one
    does; for OUT, the one that may check out now."""
    if len(candidates) == 1:
        return candidates[0]
    fitting = [(v, u) for v, u in candidates if v.status in FITS[command]]
    if command == C.OUT and len(fitting) > 1:
        fitting = [(v, u) for v, u in fitting if not check_out_refusal(v, policy=v.school.policy(), now=now)]
    return fitting[0] if len(fitting) == 1 else None


def _act(command: str, visit: Visit, actor, *, minutes, now) -> str:
    """Record it through the field's verb; the success reply. A refusal raises ValidationError."""
    if command == C.LATE and not minutes:
        raise ValidationError(REPLIES["late_minutes"])
    kind = CheckInKind.EXTENDED if command == C.LATE else KINDS[command]
    checkin_receive(visit=visit, actor=actor, kind=kind, minutes=minutes, now=now)
    visit.refresh_from_db()
    return success_reply(command, visit, now=now, minutes=minutes)


def _imitation(parsed: Parsed, visit: Visit, *, now) -> tuple[str, str]:
    """(command, reply) an ordinary check-in would have given: the text's own command where it fits the visit
    now, else the visit's next step."""
    if parsed.command and visit.status in FITS[parsed.command] and (parsed.command != C.LATE or parsed.minutes):
        command = parsed.command
    else:
        command = NEXT_STEP.get(visit.status, C.BACK)
    due = visit.due_back
    if command == C.LATE:
        due = max(due, now) + datetime.timedelta(minutes=parsed.minutes)
    return command, success_reply(command, visit, now=now, minutes=parsed.minutes, due_back=due)


def _raise_duress(candidates, parsed: Parsed, *, now) -> dict:
    """Duress on every visit under way the sender is on (silently); the reply an ordinary text would have had."""
    for visit, actor in candidates:
        checkin_receive(visit=visit, actor=actor, kind=CheckInKind.DURESS, now=now)
    visit, actor = candidates[0]
    if len(candidates) > 1:
        note = f"Duress raised on the {len(candidates)} visits under way"
        return {"visit": visit, "staff": actor, "reply": REPLIES[TextOutcome.TWO_VISITS], "note": note}
    command, reply = _imitation(parsed, visit, now=now)
    return {"visit": visit, "staff": actor, "reply": reply, "replied_as": command}


def _handle(text: ReceivedText, *, now) -> dict:
    """What the text does: the InboundText fields to store (outcome, visit, staff, reply...)."""
    day = timezone.localdate(now)
    users = _senders(text.sender, day=day)
    if not users:
        # Answered once a day at most: two machines answering each other would text for ever.
        answered = InboundText.objects.filter(
            sender=text.sender, outcome=TextOutcome.UNKNOWN_SENDER, received_at__gte=now - ANSWER_STRANGERS_EVERY
        ).exclude(reply="")
        if answered.exists():
            return {"outcome": TextOutcome.UNKNOWN_SENDER, "note": "Not answered: answered in the last day"}
        return {"outcome": TextOutcome.UNKNOWN_SENDER, "reply": REPLIES[TextOutcome.UNKNOWN_SENDER]}
    staff = next(iter(users)) if len(users) == 1 else None
    words = {
        visit.school.policy().duress_word
        for visit, _ in candidate_visits(users, command=C.ARRIVED, day=day)  # duress is for visits under way
    }
    parsed = parse(text.body, duress_words=words - {""})
    if parsed.duress:
        candidates = candidate_visits(users, command=C.ARRIVED, day=day)
        return {"command": C.DURESS, "outcome": TextOutcome.RECORDED, **_raise_duress(candidates, parsed, now=now)}
    if not parsed.command:
        return {"staff": staff, "outcome": TextOutcome.NOT_UNDERSTOOD, "reply": REPLIES[TextOutcome.NOT_UNDERSTOOD]}
    found = {"staff": staff, "command": parsed.command, "minutes": parsed.minutes}
    candidates = candidate_visits(users, command=parsed.command, day=day)
    if not candidates:
        reply = REPLIES["none_to_check_out" if parsed.command == C.OUT else "no_visit"]
        return {**found, "outcome": TextOutcome.NO_VISIT, "reply": reply}
    chosen = _choose(candidates, command=parsed.command, now=now)
    if chosen is None:
        return {**found, "outcome": TextOutcome.TWO_VISITS, "reply": REPLIES[TextOutcome.TWO_VISITS]}
    visit, actor = chosen
    found.update(visit=visit, staff=actor)
    try:
        reply = _act(parsed.command, visit, actor, minutes=parsed.minutes, now=now)
    except (ValidationError, PermissionDenied) as refusal:
        words = " ".join(getattr(refusal, "messages", [str(refusal)]))
        return {**found, "outcome": TextOutcome.REFUSED, "note": words[:300], "reply": words}
    return {**found, "outcome": TextOutcome.RECORDED, "reply": reply}


def _school_of(fields: dict) -> School | None:
    """Whose log the text belongs in: its visit's school, or the sender's school when they work at one only."""
    if fields.get("visit") is not None:
        return fields["visit"].school
    if fields.get("staff") is None:
        return None
    ids = list(school_ids_for(fields["staff"]))
    return School.objects.filter(pk=ids[0]).first() if len(ids) == 1 else None


@transaction.atomic
def inbound_text_receive(*, text: ReceivedText, now=None) -> InboundText:
    """Keep a text sent to the school's number and do what it asks, as the staff member it came from; queue the
    reply. The provider's verified webhook calls this (the check-in verbs check the staff member). The same
    message again (the provider retrying, or a replay) returns the first one and does nothing."""
    now = now or timezone.now()
    first = InboundText.objects.filter(provider=text.provider, provider_id=text.provider_id).first()
    if first is not None:
        logger.info("Text %s came again (the same provider id): nothing done", first.pk)
        return first
    try:
        with transaction.atomic():
            row = InboundText.objects.create(
                provider=text.provider,
                provider_id=text.provider_id[:64],
                sender=text.sender[:32],
                received_at=text.received_at,
                body=text.body,
                outcome=TextOutcome.NOT_UNDERSTOOD,
            )
    except IntegrityError:  # the same message in a request running alongside: the first one stands
        return InboundText.objects.get(provider=text.provider, provider_id=text.provider_id)
    fields = _handle(text, now=now)
    for name, value in fields.items():
        setattr(row, name, value)
    row.school = _school_of(fields)
    row.reply = row.reply[:320]
    if row.reply and row.sender.startswith("+"):
        row.reply_notification = AlertNotification.objects.create(
            visit=row.visit,
            key=f"reply:{row.pk}",
            channel=NotificationChannel.SMS,
            recipient=row.sender,
            user=row.staff,
            body=row.reply,
            created_at=now,
        )
    row.save()
    who = (row.staff.get_full_name() or row.staff.username) if row.staff else "an unknown number"
    what = "duress word" if row.is_duress else (row.get_command_display() or "a text")
    audit(
        actor=row.staff,
        action="text.received",
        obj=row,
        school=row.school,
        summary=f"Text from {who}: {what} ({row.get_outcome_display().lower()})",
        visit=row.visit_id,
        outcome=row.outcome,
    )
    logger.info("Text %s from %s: %s", row.pk, "staff" if row.staff else "an unknown number", row.outcome)
    return row
