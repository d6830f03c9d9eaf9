"""What is happening at the door, read from the visit's check-ins (pure: no queries of its own).

The seeds' "during the visit": wait outside until both visitors are there (000, 001, 002), wait at most the
policy's minutes for a parent running late (001), when nobody answers the school rings the family and the letter
goes through the door (001, 004), a child alone or in danger goes to the DSL at once, 999 if in immediate danger
(000, 002). The verbs in services.py record each step as a check-in; the field page, the board and the verbs'
own checks read them back through `doorstep_of`.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils import timezone

from ..models import CheckIn, CheckInKind

K = CheckInKind
# The check-ins that say what is happening at the door (fetched for the board and the field page).
DOORSTEP_KINDS = (
    K.CHECKED_OUT,
    K.ARRIVED,
    K.HERE,
    K.PARENT_LATE,
    K.NO_ANSWER,
    K.FAMILY_COMING,
    K.FAMILY_NO_ANSWER,
    K.LETTER_POSTED,
    K.CHILD_DANGER,
)


@dataclass
class Doorstep:
    here: list[CheckIn] = field(default_factory=list)  # "I'm here" taps since leaving school, before arriving
    arrived: bool = False
    wait_from: datetime.datetime | None = None  # the parent is running late (or the family said they are coming)
    wait_minutes: int = 0
    no_answer_at: datetime.datetime | None = None  # the office was asked to ring the family
    family_answer: str = ""  # the office's answer since: FAMILY_COMING or FAMILY_NO_ANSWER
    letter_posted_at: datetime.datetime | None = None
    dsl_alerted_at: datetime.datetime | None = None

    @property
    def waiting_for_colleague(self) -> bool:
        return bool(self.here) and not self.arrived

    @property
    def here_user_ids(self) -> set[int]:
        return {c.recorded_by_id for c in self.here if not c.on_behalf}

    @property
    def here_names(self) -> str:
        """Who is at the door, waiting (by name; the office's taps on their behalf name nobody)."""
        names = sorted({c.recorded_by.get_full_name() or c.recorded_by.username for c in self.here if not c.on_behalf})
        return " and ".join(names)

    @property
    def wait_until(self) -> datetime.datetime | None:
        return self.wait_from + datetime.timedelta(minutes=self.wait_minutes) if self.wait_from else None

    def wait_over(self, now: datetime.datetime) -> bool:
        return self.wait_until is not None and now >= self.wait_until

    @property
    def office_ringing(self) -> bool:
        """Asked the office to ring the family, and no answer from the office yet."""
        return self.no_answer_at is not None and not self.family_answer and not self.letter_posted_at

    def leave_and_post(self, now: datetime.datetime) -> bool:
        """The policy says it is time to post the letter and leave: the family could not be reached, or the wait
        for a late parent has run out, and nobody has come to the door."""
        if self.arrived or self.letter_posted_at:
            return False
        return self.family_answer == K.FAMILY_NO_ANSWER or self.wait_over(now)

    def board_line(self, now: datetime.datetime) -> str:
        """What the office needs to know of the door, in words (alerts have their own cards)."""
        if self.arrived:
            return ""
        if self.letter_posted_at:
            return "Letter posted: nobody in, on the way back"
        if self.wait_from and not self.wait_over(now):
            return f"Waiting for the family until {timezone.localtime(self.wait_until):%H:%M}"
        if self.waiting_for_colleague:
            return f"Waiting for colleague: {self.here_names or 'one of them'} is there"
        return ""


def doorstep_of(checkins: Iterable[CheckIn]) -> Doorstep:
    """Fold the visit's check-ins, in time order, into what is happening at the door now."""
    state = Doorstep()
    for c in sorted(checkins, key=lambda c: (c.at, c.pk or 0)):
        if c.kind == K.CHECKED_OUT:
            state = Doorstep()
        elif c.kind == K.ARRIVED:
            state.arrived = True
        elif c.kind == K.HERE:
            state.here.append(c)
        elif c.kind == K.NO_ANSWER:
            state.no_answer_at, state.family_answer = c.at, ""
        elif c.kind == K.FAMILY_NO_ANSWER:
            state.family_answer = c.kind
        if c.kind in (K.PARENT_LATE, K.FAMILY_COMING):
            if c.kind == K.FAMILY_COMING:
                state.family_answer = c.kind
            if state.wait_from is None:  # one wait per visit, however it started: the policy's "at most"
                state.wait_from, state.wait_minutes = c.at, c.minutes or 0
        elif c.kind == K.LETTER_POSTED:
            state.letter_posted_at = c.at
        elif c.kind == K.CHILD_DANGER:
            state.dsl_alerted_at = state.dsl_alerted_at or c.at
    return state
