"""The demo seeder: builds the trust, schools, staff, families and a term of visits through the same public verbs
the pages use, each step at the time it happened (the verbs take `now`), so every row is one the product could
have made."""

import datetime
import random
import unicodedata
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from core.memberships import SYSTEM, membership_grant
from core.models import (
    AuditEntry,
    Authorisers,
    EscalationAction,
    EscalationStep,
    HomeVisitPolicy,
    Membership,
    School,
    StaffProfile,
    Trust,
)
from core.roles import Role
from core.signin.services import demo_second_factor_set
from families.models import Child, Household, ParentCarer, YearGroup
from safeguarding.selectors import risk_rows_to_start_from
from safeguarding.services import RiskRowInput, prohibited_address_add, risk_assessment_create

from ..after.services import action_complete, report_review, report_submit, visit_concern_raise
from ..departure.services import safe_word_set, visit_inform_headteacher, visit_record_social_worker
from ..field.services import visit_check_in
from ..lifecycle import BOOKED, ON_THE_DAY
from ..models import (
    CheckInKind,
    Decision,
    EntryInvitation,
    NotifyMethod,
    ParentResponse,
    Purpose,
    Visit,
    VisitGroupObjectPermission,
    VisitOutcome,
    VisitReport,
    VisitRole,
    VisitStatus,
    VisitTransition,
    VisitUserObjectPermission,
)
from ..requests.policy import decision_refusal
from ..requests.services import (
    Visitor,
    parent_notification_record,
    visit_cancel,
    visit_create,
    visit_decide,
    visit_submit,
)
from .cast import (
    ACCESS_NOTES,
    AUTHORISED_NOTES,
    DEMO_TOTP_SECRET,
    EDUCATIONAL_PSYCHOLOGIST,
    EMAIL_DOMAIN,
    ENGLISH,
    HERITAGES,
    PASSWORD,
    PURPOSE_TEXT,
    RANDOM_SEED,
    SAFE_WORDS,
    SCHOOL_NURSE,
    SCHOOLS,
    SOCIAL_WORKERS,
    TERM_DAYS,
    TOWN,
    TRUST_ADMIN,
    TRUST_NAME,
    TRUST_SLUG,
    UNANNOUNCED_REASONS,
    Heritage,
    Member,
    SchoolSpec,
)

S = VisitStatus
# The check-in that moves a visit into each status on the field page.
CHECK_INS = {
    S.OUT: CheckInKind.CHECKED_OUT,
    S.ON_SITE: CheckInKind.ARRIVED,
    S.LEFT: CheckInKind.LEFT,
    S.RETURNED: CheckInKind.RETURNED,
}


DECISIONS = {
    S.AUTHORISED: Decision.APPROVED,
    S.DECLINED: Decision.DECLINED,
    S.CHANGES_REQUESTED: Decision.CHANGES_REQUESTED,
}


MINUTE = datetime.timedelta(minutes=1)
# Today's visits are laid out around the moment the seed runs; before or after the school's visiting hours that
# makes them the exceptions the policy keeps for the Principal, asked for with this reason.
OUT_OF_HOURS_REASON = "The only time the family can be at home: both parents work during the school day."
UNFAMILIAR_PAIR_REASON = "The key worker is on a course this week; the family know both visitors from the school gate."
# The earliest of today's visits checks out 85 minutes before the moment the seed runs (Riverside's block is
# 10 minutes earlier than Oakfield's); before this time of night they would check out on the day before.
EARLIEST_LIVE_ANCHOR = datetime.time(1, 30)


def live_anchor(now: datetime.datetime) -> datetime.datetime:
    """The moment today's visits are laid out around: the seed's own time, to the five minutes before. In the first
    hour and a half after midnight, late yesterday evening instead (a check-out and its visit share a day)."""
    anchor = now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)
    if anchor.time() < EARLIEST_LIVE_ANCHOR:
        yesterday = anchor.date() - datetime.timedelta(days=1)
        anchor = timezone.make_aware(datetime.datetime.combine(yesterday, datetime.time(23)))
    return anchor


@dataclass
class SchoolContext:
    spec: SchoolSpec
    school: School
    staff: dict[str, object] = field(default_factory=dict)  # cast key -> user
    households: list[Household] = field(default_factory=list)
    children: dict[int, list[Child]] = field(default_factory=dict)  # household pk -> its children
    bookings: dict[int, list[tuple]] = field(default_factory=dict)  # user pk -> the times they are out

    @property
    def visiting_staff(self) -> list:
        """Staff who go on visits: not the office, the Principal, or anyone whose training has lapsed."""
        return [self.staff["dsl"], *(self.staff[f"staff{n}"] for n in range(1, 6))]


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace(" ", "")


def _saved(obj):
    """Validate as the admin would, then save: demo rows must be rows a user could have typed."""
    obj.full_clean()
    obj.save()
    return obj


def login_rows() -> list[tuple[str, str, str]]:
    rows = [(f"{spec.slug}-{m.key}", m.role, spec.name) for spec in SCHOOLS for m in spec.cast]
    rows.append((TRUST_ADMIN.key, TRUST_ADMIN.role, " and ".join(spec.name for spec in SCHOOLS)))
    return rows


class Seeder:
    def __init__(self):
        self.rng = random.Random(RANDOM_SEED)
        self.today = timezone.localdate()
        self.now = timezone.localtime()
        self.numbers = (f"0113 496 {n:04d}" for n in range(100, 1000))
        self.admin_group: Group | None = None
        self.used_surnames: set[str] = set()

    def run(self) -> str:
        trust = _saved(Trust(name=TRUST_NAME, slug=TRUST_SLUG))
        self._policies(trust, schools := [self._school(trust, spec) for spec in SCHOOLS])
        self._admin_group()
        password = make_password(PASSWORD)  # hashing is slow on purpose: do it once for everyone
        contexts = [SchoolContext(spec, school) for spec, school in zip(SCHOOLS, schools, strict=True)]
        for ctx in contexts:
            for member in ctx.spec.cast:
                ctx.staff[member.key] = self._user(f"{ctx.spec.slug}-{member.key}", member, [ctx.school], password)
        self._user(TRUST_ADMIN.key, TRUST_ADMIN, schools, password)
        for ctx in contexts:
            self._families(ctx)
            self._risk_assessments(ctx)
        visits = sum(self._visits(ctx) for ctx in contexts)
        for ctx in contexts:
            self._safeguarding_records(ctx)
        children = sum(len(kids) for ctx in contexts for kids in ctx.children.values())
        households = sum(len(ctx.households) for ctx in contexts)
        return (
            f"{len(schools)} schools, {len(login_rows())} users, {households} households, "
            f"{children} children, {visits} visits"
        )

    def phone(self) -> str:
        # Ofcom keeps 0113 496 0000-0999 for drama. Its 01632 960xxx and 07700 900xxx ranges would be the
        # obvious picks, but libphonenumber (so PhoneNumberField) rejects them, and the forms would too.
        return next(self.numbers)

    def at(self, day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
        """A wall-clock time at the school (Europe/London), stored in UTC: right on either side of a clock change."""
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))

    def school_days(self, first: int, last: int) -> list[datetime.date]:
        """Weekdays from `first` to `last` days after today, oldest first."""
        days = (self.today + datetime.timedelta(days=n) for n in range(first, last + 1))
        return [d for d in days if d.weekday() < 5]

    @staticmethod
    def school_day(day: datetime.date, shift: int) -> datetime.date:
        """The weekday `shift` weekdays after (or, if negative, before) `day`."""
        step = datetime.timedelta(days=1 if shift > 0 else -1)
        while shift:
            day += step
            if day.weekday() < 5:
                shift -= 1 if shift > 0 else -1
        return day

    # --- Trust, schools, policies, roles and staff --------------------------------------------------------

    def _school(self, trust: Trust, spec: SchoolSpec) -> School:
        return _saved(
            School(
                trust=trust,
                name=spec.name,
                slug=spec.slug,
                address_line1=spec.address_line1,
                town=TOWN,
                postcode=spec.postcode,
                phone=self.phone(),
                email=f"office@{spec.slug}.{EMAIL_DOMAIN}",
            )
        )

    def _policies(self, trust: Trust, schools: list[School]) -> None:
        oakfield, riverside = schools
        default = _saved(
            HomeVisitPolicy(
                trust=trust,
                max_visit_minutes=30,
                wait_if_late_minutes=10,
                overdue_grace_minutes=5,
                max_extension_minutes=30,
                earliest_start=datetime.time(8, 30),
                latest_start=datetime.time(16, 30),
                unannounced_needs_principal=True,
                authorisers=Authorisers.DSL_OR_PRINCIPAL,
                report_due_hours=24,
                review_date=datetime.date(2027, 7, 1),
            )
        )
        self._escalation(default, ring_lead=0, alert_senior=15, police_prompt=30)
        # Fields left empty on a school's row inherit the trust's value; Oakfield also keeps the trust's chain.
        _saved(
            HomeVisitPolicy(
                trust=trust,
                school=oakfield,
                max_visit_minutes=30,
                latest_start=datetime.time(15, 30),
                authorisers=Authorisers.PRINCIPAL_ONLY,
            )
        )
        own = _saved(
            HomeVisitPolicy(
                trust=trust,
                school=riverside,
                max_visit_minutes=45,
                overdue_grace_minutes=10,
                report_due_hours=48,
                review_date=datetime.date(2027, 3, 31),
            )
        )
        self._escalation(own, ring_lead=0, alert_senior=10, police_prompt=20)

    def _escalation(self, policy: HomeVisitPolicy, **delays: int) -> None:
        for order, (action, minutes) in enumerate(delays.items(), start=1):
            _saved(EscalationStep(policy=policy, order=order, action=EscalationAction(action), delay_minutes=minutes))

    def _admin_group(self) -> None:
        """Roles are memberships; this group only carries the Django admin's model permissions for trust admins."""
        self.admin_group = Group.objects.get_or_create(name=Role.TRUST_ADMIN)[0]
        # The audit trail and a visit's timeline are evidence: view only. Guardian's per-visit grant tables
        # are kept in step by the services, so nobody edits them by hand.
        view_only, hidden = {AuditEntry, VisitTransition}, {VisitUserObjectPermission, VisitGroupObjectPermission}
        codenames = {
            f"{action}_{model._meta.model_name}"
            for label in ("core", "families", "safeguarding", "visits")
            for model in apps.get_app_config(label).get_models()
            if model not in hidden
            for action in (["view"] if model in view_only else ["view", "add", "change"])
        }
        self.admin_group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label__in=["core", "families", "safeguarding", "visits"], codename__in=codenames
            )
        )

    def _user(self, username: str, member: Member, schools: list[School], password: str):
        user, _ = get_user_model().objects.get_or_create(
            username=username,
            defaults={
                "first_name": member.first_name,
                "last_name": member.last_name,
                "password": password,
                "email": f"{username}@{EMAIL_DOMAIN}",
                "is_staff": member.role == Role.TRUST_ADMIN,
            },
        )
        if member.role == Role.TRUST_ADMIN:
            user.groups.add(self.admin_group)
        profile = StaffProfile.objects.filter(user=user).first()
        if profile is None:
            completed, expires = self._training(member.training)
            profile = _saved(
                StaffProfile(
                    user=user,
                    job_title=member.job_title,
                    mobile=self.phone(),
                    training_completed_on=completed,
                    training_expires_on=expires,
                    vehicle_description=member.vehicle,
                    vehicle_registration=member.registration,
                    business_insurance_confirmed=member.insured,
                )
            )
        since = datetime.date(self.today.year - 1, 9, 1)  # since the start of last school year
        for school in schools:
            if not Membership.objects.filter(user=user, school=school, role=member.role).exists():
                membership_grant(actor=SYSTEM, user=user, school=school, role=member.role, starts_on=since)
        if member.role in settings.SECOND_FACTOR_ROLES:
            demo_second_factor_set(user=user, secret=DEMO_TOTP_SECRET)
        return user

    def _training(self, state: str) -> tuple[datetime.date, datetime.date]:
        """Safer-working-practice training lasts two years here."""
        expires = {
            "expired": self.today - datetime.timedelta(days=40),
            "expiring": self.today + datetime.timedelta(days=self.rng.randint(10, 25)),
        }.get(state) or self.today + datetime.timedelta(days=self.rng.randint(120, 660))
        return expires - datetime.timedelta(days=730), expires

    # --- Households, carers and children --------------------------------------------------------------------

    def _safeguarding_records(self, ctx: SchoolContext) -> None:
        """A short prohibited-addresses list (one near match for a DSL to judge) and one open concern."""
        dsl, near = ctx.staff["dsl"], ctx.households[0]
        prohibited_address_add(
            actor=dsl,
            trust=ctx.school.trust,
            school=ctx.school,
            address_line1="2 Quarry Lane",
            town="Brookvale",
            postcode=near.postcode,
            note="LA list ref. DEMO-" + ctx.spec.slug,
        )
        prohibited_address_add(
            actor=dsl,
            trust=ctx.school.trust,
            school=ctx.school,
            address_line1="27 Ashgrove Terrace",
            town="Brookvale",
            postcode="BV9 4XT",
            note="LA list ref. DEMO-2-" + ctx.spec.slug,
        )
        reviewed = Visit.objects.filter(school=ctx.school, status=S.REVIEWED).order_by("-scheduled_start").first()
        child = reviewed.children.first()
        visit_concern_raise(
            visit=reviewed,
            child=child,
            raised_by=reviewed.requested_by,
            kind="concern",
            details=f"{child.first_name} said they are often left to get themselves to school and had "
            "not eaten breakfast. Shared with the DSL on return.",
            action_taken="Told the DSL in person on return to school.",
        )

    def _risk_assessments(self, ctx: SchoolContext) -> None:
        """Every household but one has a current assessment (the one left shows the checklist at work)."""
        dsl = ctx.staff["dsl"]
        rows = [RiskRowInput(**row) for row in risk_rows_to_start_from(school=ctx.school)]
        for household in ctx.households[1:]:
            dog = "dog" in household.access_notes.lower()
            risk_assessment_create(
                household=household,
                actor=dsl,
                rows=rows,
                assessed_on=self.today - datetime.timedelta(days=TERM_DAYS + 30),  # before the term began
                safeguarding_team_aware=True,
                dangerous_animals=dog,
                animals_kept_apart_agreed=dog,
                animals_note="Large dog: the family keep it in the kitchen during visits." if dog else "",
            )

    def _families(self, ctx: SchoolContext) -> None:
        sizes = [1] * 7 + [2] * 6 + [3] * 2  # 15 households, 25 children
        self.rng.shuffle(sizes)
        notes = iter(self.rng.sample(ACCESS_NOTES, len(ACCESS_NOTES)))
        for size in sizes:
            # Step-parents and foster carers take English surnames too, so keep a few of those back.
            heritage = self.rng.choice([h for h in HERITAGES if len(self._free_surnames(h)) >= 2 + 2 * (h is ENGLISH)])
            surname = self._surname(heritage)
            carers, foster = self._carers(heritage, surname)
            languages = "English" if foster else heritage.language  # the foster carers' home, not the birth family's
            needs_interpreter = "English" not in languages and self.rng.random() < 0.45
            if not needs_interpreter and "English" not in languages:
                languages += ", English"
            household = _saved(
                Household(
                    school=ctx.school,
                    name=self._household_name(surname, carers, foster),
                    **self._address(ctx.spec),
                    phone=self.phone() if self.rng.random() < 0.5 else "",
                    home_languages=languages,
                    interpreter_needed=needs_interpreter,
                    access_notes=next(notes, "") if self.rng.random() < 0.45 else "",
                )
            )
            for carer in carers:
                carer.household = household
                _saved(carer)
            # A looked-after child always has a social worker (one for the sibling group); a few others do too.
            worker = (*self.rng.choice(SOCIAL_WORKERS), self.phone()) if foster else None
            ctx.children[household.pk] = [
                self._child(ctx, household, first, surname, year, social_worker=worker)
                for first, year in zip(
                    self.rng.sample(heritage.children, size), sorted(self.rng.sample(ctx.spec.years, size)), strict=True
                )
            ]
            ctx.households.append(household)

    def _free_surnames(self, heritage: Heritage) -> list[str]:
        return [s for s in heritage.surnames if s not in self.used_surnames]

    def _surname(self, heritage: Heritage) -> str:
        """A surname no other demo family has, so two households never look like the same people."""
        name = self.rng.choice(self._free_surnames(heritage))
        self.used_surnames.add(name)
        return name

    def _carers(self, heritage: Heritage, surname: str) -> tuple[list[ParentCarer], bool]:
        """One or two carers as they wish to be addressed; their surname is not always the child's."""
        rng = self.rng
        lang = heritage.language.split(",")[0]  # the one they prefer to be spoken to in

        taken = set()

        def carer(relationship, women: bool, last=surname, own=heritage, title=None, pr=True):
            first = rng.choice([n for n in (own.women if women else own.men) if n not in taken])
            taken.add(first)
            return ParentCarer(
                title=title or ("Dr" if rng.random() < 0.05 else rng.choice(["Mrs", "Ms", "Miss"]) if women else "Mr"),
                first_name=first,
                last_name=last,
                relationship=relationship,
                parental_responsibility=pr,
                phone=self.phone(),
                language=lang if own is heritage else "English",
                literacy_support_needed=rng.random() < 0.15,
            )

        english = ENGLISH
        shape = rng.choice(
            [
                "mother",
                "mother",
                "parents",
                "parents",
                "own_name",
                "step",
                "grandmother",
                "foster",
                "father",
                "two_parents",
            ]
        )
        carers = {
            "mother": lambda: [carer("mother", True)],
            "parents": lambda: [carer("mother", True), carer("father", False)],
            "own_name": lambda: [carer("mother", True, last=self._surname(heritage)), carer("father", False)][
                : rng.randint(1, 2)
            ],
            "step": lambda: [
                carer("mother", True),
                carer("stepfather", False, last=self._surname(english), own=english, pr=False),
            ],
            "grandmother": lambda: [
                carer("grandmother (special guardian)", True, last=self._surname(heritage), title="Mrs")
            ],
            "foster": lambda: self._foster_carers(carer, english),
            "father": lambda: [carer("father", False)],
            "two_parents": lambda: [
                carer("mother", True),
                carer("parent", True, last=self._surname(heritage), title="Mx"),
            ],
        }[shape]()
        for c in carers:
            if rng.random() < 0.4:
                c.email = f"{_ascii(c.first_name)}.{_ascii(c.last_name)}@mail.example"
        return carers, shape == "foster"

    def _foster_carers(self, carer, heritage: Heritage) -> list[ParentCarer]:
        """Foster carers have no parental responsibility; the local authority shares it."""
        last = self._surname(heritage)
        return [
            carer("foster carer", True, last=last, own=heritage, pr=False),
            carer("foster carer", False, last=last, own=heritage, pr=False),
        ]

    @staticmethod
    def _household_name(surname: str, carers: list[ParentCarer], foster: bool) -> str:
        if foster:
            return f"{carers[0].last_name} household (foster carers)"
        if any(c.last_name == surname for c in carers):
            return f"{surname} family"
        return f"{carers[0].last_name} household"

    def _address(self, spec: SchoolSpec) -> dict[str, str]:
        rng = self.rng
        street = rng.choice(spec.streets)
        # The inward code never uses C, I, K, M, O or V.
        postcode = f"{rng.choice(spec.outward_codes)} {rng.randint(1, 9)}{''.join(rng.sample('ABDEFGHJLNPRSTUWXY', 2))}"
        if rng.random() < 0.25:
            return {
                "address_line1": f"Flat {rng.randint(1, 24)}, {rng.choice(spec.flats)}",
                "address_line2": street,
                "town": TOWN,
                "postcode": postcode,
            }
        return {
            "address_line1": f"{rng.randint(1, 140)} {street}",
            "address_line2": "",
            "town": TOWN,
            "postcode": postcode,
        }

    def _child(self, ctx, household, first, surname, year, *, social_worker) -> Child:
        if social_worker is None:
            social_worker = (*self.rng.choice(SOCIAL_WORKERS), self.phone()) if self.rng.random() < 0.1 else ("",) * 3
        return _saved(
            Child(
                school=ctx.school,
                household=household,
                first_name=first,
                last_name=surname,
                date_of_birth=self._birth_date(year),
                year_group=year,
                key_worker=self.rng.choice(ctx.visiting_staff),
                social_worker_name=social_worker[0],
                social_worker_agency=social_worker[1],
                social_worker_phone=social_worker[2],
            )
        )

    def _birth_date(self, year: str) -> datetime.date:
        """A birthday in the right school year: England's year groups run 1 September to 31 August."""
        september = datetime.date(self.today.year, 9, 1)
        academic_year = self.today.year if self.today >= september else self.today.year - 1
        age_offset = {YearGroup.NURSERY: -1, YearGroup.RECEPTION: 0}[year] if not year.isdigit() else int(year)
        return datetime.date(academic_year - 5 - age_offset, 9, 1) + datetime.timedelta(days=self.rng.randrange(365))

    # --- Visits ---------------------------------------------------------------------------------------------

    def _visits(self, ctx: SchoolContext) -> int:
        """A term of visits, ending in every state: history, today's board, and requests waiting."""
        rng, policy = self.rng, ctx.school.policy()
        past, future = self.school_days(-TERM_DAYS, -1), self.school_days(1, 14)

        def past_slot(day):  # between 09:00 and 14:30
            return self.at(day, 9) + 15 * MINUTE * rng.randint(0, 22)

        # Today's visits sit around the moment the seed runs, so the board matches the clock: nothing is shown
        # as done that has not happened yet, nobody is late yet, and the next pair leaves in an hour.
        anchor = live_anchor(self.now) - 10 * MINUTE * SCHOOLS.index(ctx.spec)

        plans = [
            *((S.REVIEWED, past_slot(d), {}) for d in sorted(rng.sample(past[:-8], 8))),
            *((S.REPORTED, past_slot(d), {}) for d in sorted(rng.sample(past[-7:-2], 2))),
            (S.RETURNED, past_slot(past[-1]), {}),  # yesterday's: its report is due, or overdue
            (S.DECLINED, past_slot(rng.choice(past[:-3])), {}),
            (S.FAMILY_DECLINED, past_slot(rng.choice(past[:-3])), {}),
            (S.CANCELLED, past_slot(rng.choice(past[:-3])), {"withdrawn": True}),
            (S.CANCELLED, past_slot(rng.choice(past[:-3])), {}),
            (S.RETURNED, anchor - 60 * MINUTE, {"duration": 25}),
            (S.LEFT, anchor - 35 * MINUTE, {"duration": 30}),
            (S.ON_SITE, anchor - 15 * MINUTE, {"duration": 30}),
            (S.OUT, anchor + 5 * MINUTE, {}),
            (S.AUTHORISED, anchor + 60 * MINUTE, {}),
            (S.AUTHORISED, past_slot(rng.choice(future[:4])), {}),
            (S.REQUESTED, past_slot(rng.choice(future[:6])), {}),
            (S.CHANGES_REQUESTED, past_slot(rng.choice(future[2:8])), {}),
            (S.DRAFT, past_slot(rng.choice(future[3:])), {}),
        ]
        # Two of the history went out and found nobody in; one went back for changes before authorisation.
        plans[1][2]["no_access"] = plans[5][2]["no_access"] = True
        plans[3][2]["via_changes"] = True
        purposes = [*Purpose.values, *rng.sample(Purpose.values, len(plans) - len(Purpose.values))]
        rng.shuffle(purposes)
        for (status, start, options), purpose in zip(plans, purposes, strict=True):
            self._visit(ctx, policy, status, start, purpose, **options)
        return len(plans)

    def _visit(
        self, ctx, policy, final, start, purpose, *, duration=None, no_access=False, via_changes=False, withdrawn=False
    ) -> Visit:
        rng = self.rng
        # A visit made ready to go needs the household's risk assessment (the safe word is recorded on it): the
        # one household without one is only ever asked about.
        household = rng.choice(ctx.households[1:] if final in ON_THE_DAY else ctx.households)
        children = ctx.children[household.pk]
        if purpose != Purpose.WELFARE_CHECK:  # a welfare check sees every child in the home
            children = rng.sample(children, rng.randint(1, len(children)))
        names = " and ".join(c.first_name for c in children)
        announced = purpose not in UNANNOUNCED_REASONS or (purpose == Purpose.ATTENDANCE and rng.random() < 0.5)
        announced = announced or final == S.FAMILY_DECLINED  # a family can only decline a visit they were told of

        lead, second = self._free_pair(
            ctx, start, holds_time=final in BOOKED, prefer={c.key_worker_id for c in children}
        )
        people = [Visitor(role=VisitRole.LEAD, user=lead), Visitor(role=VisitRole.SECOND, user=second)]
        external = self._external(purpose, children)
        if external:
            people.append(
                Visitor(
                    role=VisitRole.EXTERNAL,
                    external_name=external[0],
                    external_organisation=external[1],
                    external_phone=external[2],
                )
            )
        profile = lead.profile
        duration = duration or rng.choice([m for m in (20, 25, 30, 40, 45) if m <= policy.max_visit_minutes])
        travel = rng.choice([10, 15]) * MINUTE
        requester = ctx.staff["dsl"] if purpose == Purpose.WELFARE_CHECK else lead
        reason, outcome = PURPOSE_TEXT[purpose]
        out_of_hours = not policy.earliest_start <= timezone.localtime(start).time() <= policy.latest_start
        # Visits are asked for a few school days ahead, and never after the moment the seed runs.
        asked_on = self.school_day(min(timezone.localdate(start), self.today), -rng.randint(1, 3))
        created = min(self.at(asked_on, 10) + rng.randint(0, 240) * MINUTE, self.now)
        visit = visit_create(
            requested_by=requester,
            school=ctx.school,
            household=household,
            children=children,
            people=people,
            purpose=purpose,
            reason=reason.format(child=names),
            outcome_wanted=outcome.format(child=names),
            scheduled_start=start,
            expected_duration_minutes=duration,
            expected_return=start + duration * MINUTE + travel,
            announced=announced,
            unannounced_reason="" if announced else UNANNOUNCED_REASONS[purpose].format(child=names),
            vehicle=f"{profile.vehicle_description}, {profile.vehicle_registration}"
            if profile.business_insurance_confirmed
            else "",
            lead_mobile=str(profile.mobile),
            principal_exception_reason=OUT_OF_HOURS_REASON if out_of_hours else "",
            now=created,
        )
        if final in ON_THE_DAY:
            self._prepare(visit, lead, created)
        authoriser = self._authoriser(ctx, policy, announced)
        if out_of_hours:
            authoriser = ctx.staff["principal"]  # the policy keeps visits outside its hours for the Principal
        for to_status, when, actor, note in self._life(
            ctx,
            final,
            created,
            start,
            duration,
            travel,
            requester,
            lead,
            authoriser,
            no_access=no_access,
            via_changes=via_changes,
            withdrawn=withdrawn,
        ):
            when = min(when, self.now)  # today's visits sit around now; nothing is recorded before it happens
            if to_status == S.REQUESTED:
                # Through the request service, so the policy checks run and the approvals queue has its order.
                visit_submit(visit=visit, actor=visit.requested_by, now=when)
            elif to_status in DECISIONS:
                self._decide(ctx, visit, to_status, actor, note, when)
            elif to_status == S.CANCELLED:
                visit_cancel(visit=visit, actor=actor, reason=note, now=when)
            elif to_status == S.FAMILY_DECLINED:
                parent_notification_record(
                    visit=visit,
                    actor=actor,
                    method=NotifyMethod.PHONE,
                    notified_at=when,
                    response=ParentResponse.DECLINED,
                    note=note,
                    now=when,
                )
            elif to_status in CHECK_INS:
                visit_check_in(visit=visit, actor=actor, kind=CHECK_INS[to_status], now=when)
            elif to_status == S.REPORTED:
                self._write_report(visit, lead, when, no_access=no_access)
            elif to_status == S.REVIEWED:
                if visit.people.filter(user=actor).exists():
                    actor = ctx.staff["principal"]  # nobody signs off a visit they were on
                report_review(report=VisitReport.objects.get(visit=visit), actor=actor, comment=note, now=when)
            visit.refresh_from_db()
        return visit

    def _free_pair(self, ctx, start, *, holds_time: bool, prefer=frozenset()):
        """Two visiting staff not booked on another visit still in progress then: nobody is in two homes at once
        (the request checks refuse it, as they would for a real request). A child's key worker leads when free,
        as the policies ask for one visitor who works with the family."""
        window = (start, start + 60 * MINUTE)  # the longest visit and the journey back
        free = [
            u
            for u in ctx.visiting_staff
            if not any(b[0] < window[1] and window[0] < b[1] for b in ctx.bookings.get(u.pk, []))
        ]
        lead, second = self.rng.sample(free, 2)
        key_worker = next((u for u in free if u.pk in prefer), None)
        if key_worker is not None and key_worker not in (lead, second):
            lead = key_worker
        elif key_worker is not None and key_worker == second:
            lead, second = second, lead
        for user in (lead, second) if holds_time else ():
            ctx.bookings.setdefault(user.pk, []).append(window)
        return lead, second

    def _decide(self, ctx, visit, to_status, authoriser, note, when) -> None:
        """A DSL's or the Principal's decision, through the service that keeps it as a permanent record."""
        decision = DECISIONS[to_status]
        if decision_refusal(authoriser, visit, approving=decision == Decision.APPROVED):
            authoriser = ctx.staff["principal"]  # the DSL is on this visit: the Principal decides instead
        approving = decision == Decision.APPROVED
        visit_decide(
            visit=visit,
            actor=authoriser,
            decision=decision,
            reason="" if approving else note,
            conditions=note if approving else "",
            unfamiliar_pair_reason=UNFAMILIAR_PAIR_REASON,  # kept only where nobody on it knows the family
            now=when,
        )

    def _write_report(self, visit, lead, when, *, no_access: bool) -> None:
        """The lead's Home Visit Form, through the same service the form page uses."""
        carers = list(visit.household.carers.all())
        names = " and ".join(c.first_name for c in visit.children.all())
        if no_access:
            fields = {
                "outcome": VisitOutcome.NO_ACCESS,
                "child_seen": False,
                "staff_went_in": False,
                "parent_summary": f"We called to see {names} but nobody was in, so we left a letter.",
            }
            present = []
        else:
            fields = {
                "outcome": VisitOutcome.SEEN,
                "child_seen": True,
                "staff_went_in": True,
                "invited_in_by": (
                    EntryInvitation.PARENT
                    if any(c.parental_responsibility for c in carers[:2])
                    else EntryInvitation.DELEGATED
                ),
                "parent_summary": f"Thank you for having us. We talked about how {names} is getting on and "
                "agreed to speak again in two weeks.",
                "internal_notes": "Warm welcome; no concerns noted.",
            }
            present = [
                {
                    "name": c.addressed_as,
                    "relationship": c.relationship,
                    "parental_responsibility": c.parental_responsibility,
                }
                for c in carers[:2]
            ]
        actions = (
            []
            if no_access
            else [
                {
                    "owner": lead,
                    "description": "Send the family the attendance support leaflet and ring in a week.",
                    "due_on": timezone.localdate(when) + datetime.timedelta(days=7),
                    "agreed_with_family": True,
                }
            ]
        )
        report_submit(visit=visit, actor=lead, fields=fields, present=present, actions=actions, now=when)
        # Most past actions were done; the ones left open show up as overdue, as they would in a real school.
        for action in visit.actions.all():
            if action.due_on < self.today and self.rng.random() < 0.7:
                action_complete(action=action, actor=lead, outcome="Leaflet sent; rang the family, all well.")

    def _prepare(self, visit, lead, created) -> None:
        """What the pre-departure checklist asks for, done as staff would before leaving: the family told (or, for
        an unannounced visit, the Headteacher), the social worker told, a safe word agreed."""
        if visit.announced:
            parent_notification_record(
                visit=visit,
                actor=lead,
                method=NotifyMethod.PHONE,
                notified_at=created,
                response=ParentResponse.AGREED,
                note="Happy for us to come.",
                now=created,
            )
        else:
            visit_inform_headteacher(visit=visit, actor=lead, now=created)
        if any(child.has_social_worker for child in visit.children.all()):
            visit_record_social_worker(visit=visit, actor=lead, now=created)
        safe_word_set(visit=visit, actor=lead, word=SAFE_WORDS[visit.pk % len(SAFE_WORDS)], now=created)

    def _external(self, purpose, children) -> tuple[str, str, str] | None:
        """Social care joins welfare checks on children they know; the EP and school nurse join some others."""
        with_worker = [c for c in children if c.social_worker_name]
        if purpose == Purpose.WELFARE_CHECK and with_worker:
            c = with_worker[0]
            return c.social_worker_name, c.social_worker_agency, str(c.social_worker_phone)
        if purpose == Purpose.SEND_SUPPORT and self.rng.random() < 0.6:
            return (*EDUCATIONAL_PSYCHOLOGIST, self.phone())
        if purpose == Purpose.MEDICAL_ABSENCE and self.rng.random() < 0.6:
            return (*SCHOOL_NURSE, self.phone())
        return None

    def _authoriser(self, ctx, policy, announced: bool):
        """Whoever the school's policy allows: the Principal alone where it says so."""
        principal_only = policy.authorisers == Authorisers.PRINCIPAL_ONLY
        if principal_only or (not announced and policy.unannounced_needs_principal):
            return ctx.staff["principal"]
        return self.rng.choice([ctx.staff["dsl"], ctx.staff["dsl"], ctx.staff["principal"]])

    def _life(
        self,
        ctx,
        final,
        created,
        start,
        duration,
        travel,
        requester,
        lead,
        authoriser,
        *,
        no_access,
        via_changes,
        withdrawn,
    ):
        """The steps from draft to `final`, along visits.lifecycle.ALLOWED, with believable times."""
        rng = self.rng
        if final == S.DRAFT:
            return
        if withdrawn:
            yield S.CANCELLED, created + 30 * MINUTE, requester, "Withdrawn: the family came into school instead."
            return
        yield S.REQUESTED, created + 5 * MINUTE, requester, ""
        if final == S.REQUESTED:
            return
        decided = created + rng.randint(40, 150) * MINUTE
        if via_changes or final == S.CHANGES_REQUESTED:
            yield S.CHANGES_REQUESTED, decided, authoriser, "Please go in the morning: the family asked for before 12."
            if final == S.CHANGES_REQUESTED:
                return
            yield S.REQUESTED, decided + 50 * MINUTE, requester, "Moved to the morning as asked."
            decided += 120 * MINUTE
        if final == S.DECLINED:
            yield S.DECLINED, decided, authoriser, "Declined: invite the family into school for this instead."
            return
        yield S.AUTHORISED, decided, authoriser, rng.choice(AUTHORISED_NOTES)
        if final == S.AUTHORISED:
            return
        if final == S.FAMILY_DECLINED:
            # A visit is optional for families (001): their no is recorded, not dropped.
            yield S.FAMILY_DECLINED, decided + 60 * MINUTE, requester, "Phoned: the family would rather not."
            return
        if final == S.CANCELLED:
            day_before = self.at(self.school_day(timezone.localdate(start), -1), 15)
            yield S.CANCELLED, max(decided + 30 * MINUTE, day_before), requester, "No longer needed: back in school."
            return

        yield S.OUT, start - travel, lead, ""
        if final == S.OUT:
            return
        if no_access:
            returned = start + 10 * MINUTE + travel  # waited as long as the policy asks, then came back
            yield S.RETURNED, returned, lead, "Nobody answered; waited 10 minutes and posted a letter."
        else:
            yield S.ON_SITE, start + rng.randint(0, 4) * MINUTE, lead, ""
            if final == S.ON_SITE:
                return
            left = start + (duration - rng.randint(2, 5)) * MINUTE
            yield S.LEFT, left, lead, ""
            if final == S.LEFT:
                return
            returned = left + travel
            yield S.RETURNED, returned, lead, ""
        if final == S.RETURNED:
            return
        # Most forms are written the same afternoon; a few come in a day or two later, past the deadline.
        day = timezone.localdate(returned)
        reported = rng.choice(
            [
                returned + 2 * 60 * MINUTE,
                returned + 3 * 60 * MINUTE,
                self.at(self.school_day(day, 1), 9, 30),
                self.at(self.school_day(day, 2), 8, 45),
            ]
        )
        yield S.REPORTED, reported, lead, "Home Visit Form written."
        if final == S.REPORTED:
            return
        reviewed = self.at(self.school_day(timezone.localdate(reported), rng.randint(1, 3)), rng.randint(9, 15))
        yield (
            S.REVIEWED,
            reviewed,
            ctx.staff["dsl"],
            rng.choice(
                [
                    "Reviewed: no further action.",
                    "Reviewed: actions agreed with the family.",
                    "Reviewed: follow-up visit in four weeks.",
                ]
            ),
        )
