"""Read queries for the office board and the day's timetable (selectors): a fixed number of queries per page."""

import datetime
import hashlib
from dataclasses import dataclass, field
from functools import cached_property

from django.core.cache import cache
from django.db.models import CharField, Count, DateTimeField, Exists, Max, Min, OuterRef, Prefetch, Q
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from phonenumber_field.phonenumber import PhoneNumber

from core.dates import local_day_bounds
from core.models import EscalationAction, School
from core.permissions import BOARD_ROLES, school_ids_where
from families.models import Child

from ..alerts.sweep import family_phones, sweep_status
from ..changes import GENERATION_KEY, generation_key, recent_sweep_health, recent_versions
from ..field.doorstep import DOORSTEP_KINDS, doorstep_of
from ..lifecycle import AWAY, ON_THE_DAY
from ..models import (
    AlertKind,
    AlertNotification,
    CheckIn,
    CheckInKind,
    Visit,
    VisitAlert,
    VisitPerson,
    VisitRole,
    VisitStatus,
)

# A failed message is named on its row while what it was about is still open (an unanswered alert, or the lead's
# reminder while the pair are out): once someone has answered the alert, the office has nothing left to chase.
STILL_FAILING = Q(failed_at__isnull=False) & (Q(alert__isnull=True) | Q(alert__acknowledged_at__isnull=True))


def open_duress(visit_ref="pk"):
    return VisitAlert.objects.filter(visit=OuterRef(visit_ref), kind=AlertKind.DURESS, acknowledged_at__isnull=True)


def board_visits(*, user=None, now: datetime.datetime, school_ids: list[int] | None = None):
    """Today's visits at the user's schools (or these schools: a board screen's), any still out from earlier, and
    any with a duress alert nobody has yet confirmed safe or a DSL still needed at the door (whatever their status):
    with the pair, open alerts, messages that failed, and the check-ins beside a duress alert."""
    start, end = local_day_bounds(timezone.localdate(now))
    # Mobiles come as raw text (Cast skips the field's parse on load, ~0.3 ms a number): board_rows formats
    # each distinct number once.
    people = (
        VisitPerson.objects.filter(role__in=[VisitRole.LEAD, VisitRole.SECOND])
        .select_related("user")
        .annotate(mobile_raw=Cast("user__profile__mobile", CharField()))
    )
    open_alerts = VisitAlert.objects.filter(acknowledged_at__isnull=True).order_by("raised_at")
    failed = AlertNotification.objects.filter(STILL_FAILING).select_related("user").order_by("failed_at")
    # What is happening at the door, and the way check-ins, each with the phone's time when it reached school
    # late: one query for both.
    board_checkins = (
        CheckIn.objects.filter(kind__in=[*DOORSTEP_KINDS, *ON_THE_WAY])
        .defer("latitude", "longitude", "accuracy_m")  # never on the board's rows
        .select_related("recorded_by")
        .order_by("at", "pk")
    )
    # Check-ins beside a duress alert (none of them closes it): only visits with one open, so one small query.
    duress_checkins = CheckIn.objects.filter(Exists(open_duress("visit_id"))).select_related("recorded_by")
    # The last place a phone sent (with its visitor's consent), for the police prompt only: the rows and the office
    # never see it otherwise.
    police_prompt = VisitAlert.objects.filter(visit=OuterRef("visit_id"), acknowledged_at__isnull=True).filter(
        Q(kind=AlertKind.DURESS) | Q(action=EscalationAction.POLICE_PROMPT)
    )
    located = CheckIn.objects.filter(Exists(police_prompt), latitude__isnull=False).order_by("-at", "-pk")
    return (
        Visit.objects.filter(school_id__in=_schools(user, school_ids))
        .defer("lead_mobile", "reason", "outcome_wanted", "unannounced_reason")
        .annotate(lead_mobile_raw=Cast("lead_mobile", CharField()))
        .filter(
            Q(status__in=AWAY)
            | Q(scheduled_start__gte=start, scheduled_start__lt=end, status__in=ON_THE_DAY)
            | Exists(open_duress())
            # A DSL is still needed after the pair are back, whatever the day: the card is where it is answered.
            | Exists(
                VisitAlert.objects.filter(
                    visit=OuterRef("pk"), kind=AlertKind.CHILD_DANGER, acknowledged_at__isnull=True
                )
            )
        )
        .select_related("household", "school")
        .prefetch_related(
            Prefetch("people", queryset=people, to_attr="pair"),
            Prefetch("alerts", queryset=open_alerts, to_attr="open_alerts"),
            Prefetch("notifications", queryset=failed, to_attr="failed_notifications"),
            # What is happening at the door and on the way, and whom the office rings when nobody answers it.
            Prefetch("checkins", queryset=board_checkins, to_attr="board_checkins"),
            "household__carers",
            Prefetch("checkins", queryset=duress_checkins, to_attr="duress_checkins"),
            Prefetch("checkins", queryset=located, to_attr="located_checkins"),
            # For the police prompt only (templates/visits/_board_live.html): the children's social workers.
            Prefetch(
                "children", queryset=Child.objects.exclude(social_worker_name=""), to_attr="children_with_social_worker"
            ),
        )
        .order_by("scheduled_start", "pk")
    )


# The check-ins the board lists on each row, in the order they reached school.
ON_THE_WAY = (
    CheckInKind.CHECKED_OUT,
    CheckInKind.ARRIVED,
    CheckInKind.LEFT,
    CheckInKind.RETURNED,
    CheckInKind.NOT_RETURNING,
    CheckInKind.RETURN_UNDONE,
)
SHORT = {
    CheckInKind.CHECKED_OUT: "out",
    CheckInKind.ARRIVED: "arrived",
    CheckInKind.LEFT: "left",
    CheckInKind.RETURNED: "back",
    CheckInKind.NOT_RETURNING: "finished, not returning",
    CheckInKind.RETURN_UNDONE: "return undone",
}


@dataclass
class CheckInTime:
    """ "arrived 14:05", or with the phone's time when it reached school more than a minute later (a tap queued
    with no signal): "left 14:05, reached school 14:19"."""

    checkin: CheckIn

    def __str__(self) -> str:
        c = self.checkin
        said = SHORT.get(c.kind, c.get_kind_display().lower())
        if c.reached_late:
            return f"{said} {timezone.localtime(c.phone_at):%H:%M}, reached school {timezone.localtime(c.at):%H:%M}"
        return f"{said} {timezone.localtime(c.at):%H:%M}"


@dataclass
class Phone:
    display: str
    tel: str


@dataclass
class Person:
    name: str
    role: str
    mobile: Phone | None

    @property
    def role_label(self) -> str:
        return VisitRole(self.role).label


@dataclass
class BoardRow:
    visit: Visit
    overdue: bool
    overdue_minutes: int
    minutes_left: int | None
    on_site_too_long: bool
    people: list[Person]
    lead_mobile: Phone | None
    doorstep: str = ""  # what is happening at the door, in words ("Waiting for colleague: ...")
    on_the_way: list["CheckInTime"] = field(default_factory=list)

    @property
    def lead_mobile_is_unusual(self) -> bool:
        """Today's number for the lead is worth a line of its own only when it is not the one shown by their
        name (their profile's)."""
        usual = next((p.mobile for p in self.people if p.role == VisitRole.LEAD), None)
        return bool(self.lead_mobile) and (usual is None or usual.tel != self.lead_mobile.tel)

    @property
    def last_location(self) -> CheckIn | None:
        """For the police prompt: the latest check-in that came with the phone's location, if any."""
        return self.visit.located_checkins[0] if self.visit.located_checkins else None

    @cached_property
    def duress(self) -> VisitAlert | None:
        """The duress alert still up (until a DSL or the Principal confirms the pair safe), if any."""
        return next((a for a in self.visit.open_alerts if a.is_duress), None)

    @property
    def family_phones(self) -> list[tuple[str, Phone]]:
        """Whom the office rings when nobody answers the door (shown on that alert's card only)."""
        return [(who, Phone(display=str(n), tel=n.as_e164)) for who, n in family_phones(self.visit.household)]

    @property
    def failures(self) -> list[str]:
        """Messages that did not reach a phone or inbox after their retries: "text to Sam Okafor failed"."""
        return [n.failure_text for n in self.visit.failed_notifications]

    @cached_property
    def state(self) -> str:
        """Words for the row's state: never colour alone. Read several times a row by the template."""
        if self.duress:
            return "DURESS"
        if self.overdue:
            return "OVERDUE"
        if self.on_site_too_long:
            return "Check on them"
        return self.visit.get_status_display()


def board_rows(*, visits, now: datetime.datetime) -> list[BoardRow]:
    policies = {}
    rows = []
    phones: dict[str, Phone] = {}

    def phone(raw: str | None) -> Phone | None:
        # Parsing and formatting a number costs ~0.5 ms; the same few staff mobiles recur on hundreds of rows.
        if not raw:
            return None
        if raw not in phones:
            number = PhoneNumber.from_string(raw)
            phones[raw] = Phone(display=str(number), tel=number.as_e164)
        return phones[raw]

    for visit in visits:
        if visit.school_id not in policies:
            policies[visit.school_id] = visit.school.policy()
        policy = policies[visit.school_id]
        overdue = visit.is_overdue(policy, now)
        late = int((now - visit.due_back).total_seconds() // 60)
        on_site_at = visit.on_site_too_long_at(policy)
        rows.append(
            BoardRow(
                visit=visit,
                overdue=overdue,
                overdue_minutes=max(late, 0),
                minutes_left=int((visit.due_back - now).total_seconds() // 60) if visit.is_away else None,
                on_site_too_long=bool(on_site_at and now >= on_site_at),
                people=[Person(name=p.name, role=p.role, mobile=phone(p.mobile_raw)) for p in visit.pair],
                lead_mobile=phone(visit.lead_mobile_raw),
                doorstep=doorstep_of(c for c in visit.board_checkins if c.kind in DOORSTEP_KINDS).board_line(now)
                if visit.status == VisitStatus.OUT
                else "",
                on_the_way=[CheckInTime(c) for c in visit.board_checkins if c.kind in ON_THE_WAY],
            )
        )
    # Duress first, on every board of the school, whatever the time of the visit.
    rows.sort(key=lambda row: row.duress is None)
    return rows


def _schools(user, school_ids) -> list[int]:
    return school_ids if school_ids is not None else school_ids_where(user, *BOARD_ROLES)


def sweep_health(now: datetime.datetime) -> object:
    """True while the sweep runs; otherwise when it last ran (so the version changes as it does). The same for
    every board: read at most once a second in each process, and again after a board_changed()."""
    second = int(now.timestamp())
    if second not in recent_sweep_health:
        status = sweep_status(now)
        recent_sweep_health.clear()
        recent_sweep_health[second] = status["ok"] or status["last_run_at"]
    return recent_sweep_health[second]


def board_version(*, user=None, now: datetime.datetime, school_ids: list[int] | None = None) -> str:
    """board_version_uncached, kept (in the cache, and in each process for the second) until something the board
    shows changes: a board_changed() for one of its schools or for every board, the sweep's health, the minute
    (the countdowns) or the moment a visit out becomes overdue. An unchanged board's poll reads no table but the
    sweep's heartbeat, once a second per process for every board."""
    school_ids = _schools(user, school_ids)
    ids = ",".join(map(str, sorted(school_ids)))
    second = int(now.timestamp())  # the clock the request sees (tests travel in time; so may a real clock)
    recent = recent_versions.get(ids)
    if recent and recent[0] == second:
        return recent[1]
    key = f"board-version:{ids}"
    counters = [GENERATION_KEY, *(generation_key(school_id) for school_id in sorted(school_ids))]
    found = cache.get_many([*counters, key])
    generations = tuple(found.get(counter, 0) for counter in counters)
    health = sweep_health(now)
    cached = found.get(key)
    if cached and cached[0] == generations and cached[1] == health and now < cached[2]:
        version = cached[3]
    else:
        version, until = _version_and_until(now=now, school_ids=school_ids, sweep=health)
        cache.set(key, (generations, health, until, version), max(1, int((until - now).total_seconds()) + 1))
    recent_versions[ids] = (second, version)
    return version


def board_version_uncached(*, user=None, now: datetime.datetime, school_ids: list[int] | None = None) -> str:
    """A digest of everything the live fragment shows, from a few aggregate queries: it changes when a visit
    or an alert changes, a visit becomes overdue, the sweep's health flips, or the minute (the countdowns) turns."""
    ids = _schools(user, school_ids)
    return _version_and_until(now=now, school_ids=ids, sweep=sweep_health(now))[0]


def _version_and_until(*, now, school_ids, sweep) -> tuple[str, datetime.datetime]:
    """The version, and until when it holds if nothing is changed: the next minute, or sooner the moment the
    next visit out becomes overdue."""
    ids = school_ids
    start, end = local_day_bounds(timezone.localdate(now))
    due_back = Coalesce("due_back_at", "expected_return", output_field=DateTimeField())
    overdue = Q()
    graces, next_due = {}, {}
    for school in School.objects.filter(pk__in=ids).select_related("trust"):
        graces[school.pk] = grace = datetime.timedelta(minutes=school.policy().overdue_grace_minutes)
        overdue |= Q(school_id=school.pk, due_back__lte=now - grace)
        next_due[f"next_{school.pk}"] = Min(
            "due_back", filter=Q(school_id=school.pk, status__in=AWAY, due_back__gt=now - grace)
        )
    visits = (
        Visit.objects.filter(school_id__in=ids)
        .filter(Q(status__in=AWAY) | Q(scheduled_start__gte=start, scheduled_start__lt=end, status__in=ON_THE_DAY))
        .annotate(due_back=due_back)
        .aggregate(
            n=Count("id"),
            changed=Max("updated_at"),
            overdue=Count("id", filter=Q(status__in=AWAY) & overdue),
            **next_due,
        )
    )
    alerts = VisitAlert.objects.filter(visit__school_id__in=ids).aggregate(
        last=Max("id"), open=Count("id", filter=Q(acknowledged_at__isnull=True)), police=Max("police_called_at")
    )
    failed = AlertNotification.objects.filter(STILL_FAILING, visit__school_id__in=ids).count()
    counted = {name: value for name, value in visits.items() if not name.startswith("next_")}
    raw = f"{sorted(ids)}|{counted}|{alerts}|{failed}|{sweep}|{timezone.localtime(now):%Y%m%d%H%M}"
    local = timezone.localtime(now)
    until = local.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
    for school_id, grace in graces.items():
        if (due := visits.get(f"next_{school_id}")) is not None:
            until = min(until, due + grace)
    return hashlib.sha256(raw.encode()).hexdigest()[:32], until
