"""What the field pages show: the expected next tap, the doorstep, the undo and the way on after the return; and the
log of texts received on the school's number."""

import datetime
from dataclasses import dataclass

from core.permissions import BOARD_ROLES, may_raise_concerns
from core.roles import SENIOR, schools_where

from ..models import CheckInKind, InboundText, Visit, VisitRole, VisitStatus
from ..permissions import is_pair, may_view_visit
from . import services
from .doorstep import DOORSTEP_KINDS, Doorstep, doorstep_of

K = CheckInKind
S = VisitStatus

# The one expected next step for each status on the way (checked out -> arrived -> left -> returned).
NEXT_STEP = {S.AUTHORISED: K.CHECKED_OUT, S.OUT: K.ARRIVED, S.ON_SITE: K.LEFT, S.LEFT: K.RETURNED}
# Taps that end the safety session ask once more before they are sent (and can be undone for two minutes).
CONFIRM = {
    K.RETURNED: ("Are you both back at school? The office stops watching for you.", "Yes, we are back at school"),
    K.NOT_RETURNING: (
        "Have you both left the home, safe, and finished for the day? The office stops watching for you.",
        "Yes, finished and safe",
    ),
}
LABELS = {
    K.CHECKED_OUT: "Checked out of school",
    K.ARRIVED: "Arrived: we are both here",
    K.LEFT: "Left the property safely",
    K.RETURNED: "Returned to school",
    K.NOT_RETURNING: "Not returning to school: finished and safe",
    K.HERE: "I'm here: waiting for my colleague",
    K.PARENT_LATE: "Parent running late",
    K.NO_ANSWER: "Nobody answers: the office rings the family",
    K.LETTER_POSTED: "Letter posted: nobody in",
    K.CHILD_DANGER: "Child alone or in danger",
}


@dataclass
class Button:
    kind: str
    label: str
    primary: bool = False
    question: str = ""  # asked before it is sent
    yes: str = ""


@dataclass
class FieldPanel:
    visit: Visit
    now: datetime.datetime
    door: Doorstep
    steps: list[Button]  # the visit's own steps; the page shows the expected next one (primary) first
    at_the_door: list[Button]
    offer_danger: bool
    undo_until: datetime.datetime | None
    poll: bool
    on_behalf: bool
    is_lead: bool
    may_view_visit: bool
    may_raise_concern: bool
    colleague_waiting: bool  # the other visitor is at the door already, waiting for this one

    @property
    def wait_seconds_left(self) -> int:
        """For the page's countdown, counted from when it arrives (the phone's clock may be wrong)."""
        until = self.door.wait_until
        return max(0, int((until - self.now).total_seconds())) if until else 0

    @property
    def undo_seconds_left(self) -> int:
        return max(0, int((self.undo_until - self.now).total_seconds())) if self.undo_until else 0

    @property
    def danger_button(self) -> Button:
        return Button(kind=K.CHILD_DANGER, label=LABELS[K.CHILD_DANGER])

    @property
    def leave_and_post(self) -> bool:
        return self.visit.status == S.OUT and self.door.leave_and_post(self.now)


def field_panel(*, visit: Visit, user, now: datetime.datetime) -> FieldPanel:
    """Everything the field page needs about where the visit is, worked out before it renders (two queries: the
    visit's doorstep check-ins and its returns)."""
    checkins = list(visit.checkins.filter(kind__in=[*DOORSTEP_KINDS, *services.RETURNS]).select_related("recorded_by"))
    door = doorstep_of(c for c in checkins if c.kind in DOORSTEP_KINDS)
    status = visit.status
    mine = is_pair(user, visit)
    available = [k for k in services.available_checkins(visit) if k in LABELS]
    next_step = NEXT_STEP.get(status)
    if status == S.OUT and door.letter_posted_at:
        next_step = K.RETURNED
    leave = status == S.OUT and door.leave_and_post(now)
    if leave:
        next_step = K.LETTER_POSTED
    colleague_waiting = door.waiting_for_colleague and bool(door.here_user_ids - {user.pk})

    steps = []
    for kind in available:
        label = LABELS[kind]
        if kind == K.ARRIVED and mine and colleague_waiting:
            label = "I'm here too: we are both here"
        question, yes = CONFIRM.get(kind, ("", ""))
        steps.append(Button(kind=kind, label=label, primary=kind == next_step, question=question, yes=yes))
    at_the_door = []
    if leave:
        # The policy's answer is in: post the letter and leave. Nothing else at the door is worth a tap now.
        at_the_door.append(Button(kind=K.LETTER_POSTED, label=LABELS[K.LETTER_POSTED], primary=True))
    elif status == S.OUT and not door.letter_posted_at:
        # Once the colleague is waiting, this visitor's "here" is the arrival (the relabelled step above).
        if (user.pk not in door.here_user_ids and not colleague_waiting) if mine else not door.here:
            at_the_door.append(Button(kind=K.HERE, label=LABELS[K.HERE]))
        if not door.wait_from:
            minutes = visit.school.policy().wait_if_late_minutes
            at_the_door.append(Button(kind=K.PARENT_LATE, label=f"{LABELS[K.PARENT_LATE]}: wait {minutes} minutes"))
        if not door.office_ringing:
            at_the_door.append(Button(kind=K.NO_ANSWER, label=LABELS[K.NO_ANSWER]))
        if door.no_answer_at or door.wait_from:
            at_the_door.append(Button(kind=K.LETTER_POSTED, label=LABELS[K.LETTER_POSTED]))
    return FieldPanel(
        visit=visit,
        now=now,
        door=door,
        steps=steps,
        at_the_door=at_the_door,
        offer_danger=visit.is_away,
        undo_until=_undo_until(visit, checkins, now),
        poll=status == S.OUT and (door.office_ringing or door.waiting_for_colleague or _waiting(door, now)),
        on_behalf=not mine,
        is_lead=any(p.user_id == user.pk and p.role == VisitRole.LEAD for p in visit.people.all()),
        may_view_visit=may_view_visit(user, visit),
        may_raise_concern=mine and may_raise_concerns(user, school=visit.school_id),
        colleague_waiting=colleague_waiting,
    )


def _waiting(door: Doorstep, now) -> bool:
    return door.wait_from is not None and not door.wait_over(now)


def _undo_until(visit, checkins, now):
    until = services.undo_until(visit, checkins)
    return until if until and now < until else None


# The check-ins the visit's timeline shows beside its moves (those that move the status are moves already; the
# discreet duress control stays out of sight on a page the pair may have to show someone).
ON_THE_TIMELINE = (
    K.HERE,
    K.PARENT_LATE,
    K.NO_ANSWER,
    K.FAMILY_COMING,
    K.FAMILY_NO_ANSWER,
    K.LETTER_POSTED,
    K.CHILD_DANGER,
    K.EXTENDED,
    K.RETURN_UNDONE,
)


# Never on the timeline, nor lending it their times or place: the discreet duress control and the office's code word.
DISCREET = (K.DURESS, K.OFFICE_CODE_WORD)


@dataclass
class TimelineEntry:
    at: datetime.datetime
    title: str
    who: str
    from_label: str = ""
    note: str = ""
    phone_at: datetime.datetime | None = None  # tapped on the phone more than a minute before it reached school
    location: str = ""  # only for the DSLs and the Principal (show_location)


def _name(user) -> str:
    return (user.get_full_name() or user.username) if user else "system"


def visit_timeline(visit: Visit, *, show_location: bool = False) -> list[TimelineEntry]:
    """The visit's moves and what happened at the door, in time order (the time each reached school), with the
    phone's time when a tap reached school more than a minute later, and (`show_location`: for the DSLs and the
    Principal only) where the phone was. Reads `transitions` and `checkins` (prefetch both, with their people,
    for no query here)."""
    checkins = list(visit.checkins.all())
    # A check-in that moved the status did so at its own moment: the move shows the check-in's times.
    by_moment = {c.at: c for c in checkins if c.kind not in ON_THE_TIMELINE and c.kind not in DISCREET}

    def extra(c) -> dict:
        if c is None:
            return {}
        return {
            "phone_at": c.phone_at if c.reached_late else None,
            "location": c.location if show_location else "",
        }

    entries = [
        TimelineEntry(
            at=t.at,
            title=t.get_to_status_display(),
            who=_name(t.actor),
            from_label=t.get_from_status_display() if t.from_status else "",
            note=t.note,
            **extra(by_moment.get(t.at)),
        )
        for t in visit.transitions.all()
    ]
    for c in checkins:
        if c.kind not in ON_THE_TIMELINE:
            continue
        title = c.get_kind_display() + (f" ({c.minutes} minutes)" if c.minutes else "")
        who = _name(c.recorded_by) + (" for the pair" if c.on_behalf else "")
        entries.append(TimelineEntry(at=c.at, title=title, who=who, **extra(c)))
    return sorted(entries, key=lambda e: e.at)


# The log shows the latest texts; older ones stay in the database (and the audit trail).
TEXT_LOG_LIMIT = 200


def inbound_text_log(*, user) -> list[dict]:
    """The latest texts of the schools where the user is office, DSL or Principal, newest first, each as the user
    may see it: the DSLs and the Principal see every text as sent; the office sees a duress-word text as the
    ordinary check-in its reply imitated (the word itself is never shown to them)."""
    seen_in_full = set(schools_where(user, *SENIOR))
    texts = (
        InboundText.objects.filter(school_id__in=schools_where(user, *BOARD_ROLES))
        .select_related("staff", "school", "visit__household", "reply_notification")
        .order_by("-received_at", "-id")[:TEXT_LOG_LIMIT]
    )
    rows = []
    for text in texts:
        in_full = text.school_id in seen_in_full
        said, did = (text.body, text.get_outcome_display()) if in_full else text.as_the_office_sees_it
        rows.append(
            {
                "text": text,
                "said": said,
                "did": did,
                "note": text.note if in_full or not text.is_duress else "",
                "duress": in_full and text.is_duress,
                "link_visit": in_full and text.visit_id is not None,
                "reply_status": text.reply_notification.get_delivery_status_display()
                if text.reply_notification and text.reply_notification.delivery_status
                else ("queued" if text.reply_notification else ""),
            }
        )
    return rows
