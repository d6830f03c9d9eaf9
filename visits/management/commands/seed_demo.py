"""`manage.py seed_demo`: a fictional trust, two schools, their staff, families and a term of visits.

Everything here is invented. Phone numbers come from Ofcom's drama range, postcodes use the BV area
(which does not exist), and car registrations contain I or Q in the last three letters, which the DVLA
never issues, so nobody real is rung, visited or looked up.
"""

import datetime
import random
import time
import unicodedata
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from core.models import (
    AuditEntry,
    Authorisers,
    EscalationAction,
    EscalationStep,
    HomeVisitPolicy,
    School,
    StaffProfile,
    Trust,
)
from core.roles import Role
from families.models import Child, Household, ParentCarer, YearGroup
from safeguarding.services import (
    RiskRowInput,
    prohibited_address_add,
    risk_assessment_create,
    risk_rows_to_start_from,
)
from visits.after.services import action_complete, report_review, report_submit, visit_concern_raise
from visits.departure.services import safe_word_set
from visits.lifecycle import AWAY, BOOKED, ON_THE_DAY
from visits.models import (
    AuthorisationDecision,
    Decision,
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
from visits.requests.policy import decision_refusal
from visits.requests.services import Visitor, parent_notification_record, visit_create, visit_decide, visit_submit
from visits.services import visit_transition

S = VisitStatus
DECISIONS = {
    S.AUTHORISED: Decision.APPROVED,
    S.DECLINED: Decision.DECLINED,
    S.CHANGES_REQUESTED: Decision.CHANGES_REQUESTED,
}
# The visit's own clocks that a check-in stamps (visits.checkins), so the board and the alert timer work.
CLOCKS = {S.OUT: "checked_out_at", S.ON_SITE: "arrived_at"}
# Fictional, and only ever shown to the pair, the office and the DSLs.
SAFE_WORDS = ["Blue umbrella", "Marigold", "Lighthouse", "Paper crane", "Juniper", "Copper kettle"]
PASSWORD = "demo-password"
TRUST_NAME, TRUST_SLUG = "Brookvale Learning Trust", "brookvale"
TOWN = "Brookvale"
EMAIL_DOMAIN = "brookvale.example"  # RFC 2606: never delivered anywhere
RANDOM_SEED = 2026
TERM_DAYS = 84  # the past twelve weeks
MINUTE = datetime.timedelta(minutes=1)


# --- The cast -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    key: str  # the username after the school's slug, e.g. "dsl" -> "oakfield-dsl"
    role: str
    first_name: str
    last_name: str
    job_title: str
    vehicle: str = ""
    registration: str = ""
    insured: bool = False
    training: str = "valid"  # "valid", "expiring" (within 30 days) or "expired"


@dataclass(frozen=True)
class SchoolSpec:
    slug: str
    name: str
    address_line1: str
    postcode: str
    years: list[str]
    outward_codes: list[str]
    streets: list[str]
    flats: list[str]
    cast: list[Member]


OAKFIELD = SchoolSpec(
    slug="oakfield",
    name="Oakfield Primary School",
    address_line1="Acorn Way",
    postcode="BV3 2AB",
    years=[YearGroup.NURSERY, YearGroup.RECEPTION, *[str(y) for y in range(1, 7)]],
    outward_codes=["BV3", "BV4"],
    streets=[
        "Larkspur Close",
        "Tanner's Row",
        "Hawthorn Rise",
        "Cobble Lane",
        "Wrenfield Road",
        "Mistle Drive",
        "Quillon Street",
        "Orchard Mews",
    ],
    flats=["Foxglove House", "Beacon Court"],
    cast=[
        Member(
            "dsl",
            Role.DSL,
            "Nadia",
            "Fenwick-Osei",
            "Deputy Headteacher and DSL",
            "Silver Toyota Yaris",
            "FG19QIR",
            insured=True,
        ),
        Member("principal", Role.PRINCIPAL, "Gareth", "Pemberton-Lowe", "Headteacher"),
        Member("office", Role.OFFICE, "Shirin", "Castellano", "School Business Manager"),
        Member(
            "staff1",
            Role.STAFF,
            "Tomasz",
            "Whitlock",
            "Family Support Worker",
            "Blue Ford Fiesta",
            "LV68IQD",
            insured=True,
        ),
        Member(
            "staff2", Role.STAFF, "Aaliyah", "Brennan", "Year 2 Teacher", "Grey Nissan Leaf", "GN22IQA", insured=False
        ),
        Member("staff3", Role.STAFF, "Declan", "Oyelaran", "SENDCO", "Red Kia Picanto", "BD70QJI", insured=True),
        Member("staff4", Role.STAFF, "Mei Lin", "Hargreaves", "Attendance Officer"),
        Member("staff5", Role.STAFF, "Rhiannon", "Adebayo-Finch", "Learning Mentor", training="expiring"),
        Member("staff6", Role.STAFF, "Imran", "Caldwell", "Reception Class Teacher", training="expired"),
    ],
)

RIVERSIDE = SchoolSpec(
    slug="riverside",
    name="Riverside Academy",
    address_line1="Quayside Road",
    postcode="BV7 1RD",
    years=[str(y) for y in range(7, 12)],
    outward_codes=["BV7", "BV8"],
    streets=[
        "Ferryman's Walk",
        "Lock Keeper's Way",
        "Bargate Street",
        "Heron Quay",
        "Millrace Lane",
        "Sluice Road",
        "Towpath Terrace",
        "Osier Bank",
    ],
    flats=["Willowbank Court", "Wharfside House"],
    cast=[
        Member(
            "dsl",
            Role.DSL,
            "Folasade",
            "Marchetti",
            "Designated Safeguarding Lead",
            "Black Volkswagen Golf",
            "MA20QIL",
            insured=True,
        ),
        Member("principal", Role.PRINCIPAL, "Alistair", "Nwachukwu-Bell", "Principal"),
        Member("office", Role.OFFICE, "Bronwen", "Tariq", "Receptionist"),
        Member(
            "staff1",
            Role.STAFF,
            "Kwame",
            "Thistlewood",
            "Attendance Officer",
            "Green Skoda Fabia",
            "PF18IQU",
            insured=True,
        ),
        Member("staff2", Role.STAFF, "Siobhan", "Varga", "Head of Year 9", "Blue Honda Jazz", "WU69QIE", insured=True),
        Member("staff3", Role.STAFF, "Hamza", "Pennington", "SENDCO", "Silver Hyundai i10", "KP67QIB"),
        Member(
            "staff4",
            Role.STAFF,
            "Elif",
            "Mortimer",
            "Family Liaison Officer",
            "Red Renault Clio",
            "SA71IQT",
            insured=True,
        ),
        Member("staff5", Role.STAFF, "Callum", "Ezeani-Shaw", "Pastoral Lead", training="expiring"),
        Member("staff6", Role.STAFF, "Zofia", "Ashdown", "Head of Year 7", training="expired"),
    ],
)

SCHOOLS = [OAKFIELD, RIVERSIDE]
TRUST_ADMIN = Member("trust-admin", Role.TRUST_ADMIN, "Ifeoma", "Radcliffe-Kerr", "Trust Operations Manager")


# --- The families ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Heritage:
    language: str
    surnames: list[str]
    women: list[str]
    men: list[str]
    children: list[str]


HERITAGES = [
    Heritage(
        "English",
        surnames=[
            "Ashworth",
            "Fairbairn",
            "Pilbeam",
            "Ellwood",
            "Marchbank",
            "Hollis",
            "Campbell-Grant",
            "Whitcombe",
            "Lockwood",
            "Dunmore",
            "Brackley",
            "Tennant",
            "Oakes",
            "Rudge",
        ],
        women=["Gemma", "Leanne", "Hayley", "Danielle", "Kerry"],
        men=["Craig", "Darren", "Stuart", "Wayne", "Liam"],
        children=["Alfie", "Poppy", "Isla", "Harvey", "Ruby", "Freddie", "Evie", "Mason"],
    ),
    Heritage(
        "Polish",
        surnames=["Nowak", "Wozniak", "Grzelak", "Krawczyk", "Kaczmarek", "Pawlak"],
        women=["Agnieszka", "Katarzyna", "Magdalena", "Joanna", "Ewa"],
        men=["Piotr", "Marek", "Krzysztof", "Paweł", "Grzegorz"],
        children=["Zuzanna", "Jakub", "Oliwia", "Szymon", "Lena", "Filip"],
    ),
    Heritage(
        "Urdu",
        surnames=["Qureshi", "Iqbal", "Rashid", "Malik", "Siddiqui"],
        women=["Samina", "Nazia", "Farzana", "Shabana", "Rubina"],
        men=["Tariq", "Asif", "Khalid", "Naveed", "Waqar"],
        children=["Zain", "Maryam", "Aisha", "Ibrahim", "Hafsa", "Yusuf"],
    ),
    Heritage(
        "Punjabi",
        surnames=["Sandhu", "Dhillon", "Bains", "Grewal", "Sidhu"],
        women=["Harpreet", "Manpreet", "Jasvir", "Kulwinder", "Rajvinder"],
        men=["Gurdeep", "Harjit", "Rajinder", "Sukhdev", "Baljit"],
        children=["Simran", "Arjun", "Jasleen", "Gurveer", "Navneet"],
    ),
    Heritage(
        "Somali",
        surnames=["Warsame", "Abdi", "Nur", "Jama", "Osman"],
        women=["Hodan", "Amina", "Faduma", "Sahra", "Ubah"],
        men=["Abdirahman", "Mohamed", "Ahmed", "Abdullahi", "Yusuf"],
        children=["Hamdi", "Ayan", "Liban", "Sagal", "Yasin"],
    ),
    Heritage(
        "Romanian",
        surnames=["Popescu", "Dumitru", "Stan", "Munteanu"],
        women=["Andreea", "Ioana", "Mihaela", "Elena", "Cristina"],
        men=["Florin", "Bogdan", "Ionut", "Mihai", "Adrian"],
        children=["Daria", "Luca", "Bianca", "Matei", "Sofia"],
    ),
    Heritage(
        "Bengali",
        surnames=["Chowdhury", "Uddin", "Miah", "Hoque"],
        women=["Rokeya", "Nasima", "Fahmida", "Shapla", "Rumana"],
        men=["Abdul", "Shahid", "Rashed", "Jamal", "Anwar"],
        children=["Tahmid", "Nusrat", "Ayaan", "Safa", "Rayhan"],
    ),
    Heritage(
        "Portuguese",
        surnames=["Pereira", "Ferreira", "Rodrigues", "Carvalho"],
        women=["Mariana", "Tânia", "Joana", "Inês", "Sofia"],
        men=["João", "Rui", "Paulo", "Nuno", "Hugo"],
        children=["Tiago", "Beatriz", "Rafael", "Leonor", "Diogo"],
    ),
    Heritage(
        "Turkish",
        surnames=["Yilmaz", "Demir", "Aydin", "Arslan"],
        women=["Zeynep", "Ayşe", "Esra", "Hatice", "Gül"],
        men=["Mehmet", "Emre", "Murat", "Hakan", "Serkan"],
        children=["Deniz", "Kerem", "Ecrin", "Defne", "Emir"],
    ),
    Heritage(
        "Arabic",
        surnames=["Haddad", "Mahmoud", "Saleh", "Khalil"],
        women=["Rania", "Huda", "Lina", "Nour", "Dalia"],
        men=["Omar", "Karim", "Sami", "Tarek", "Bassam"],
        children=["Yara", "Adam", "Jana", "Zaid", "Layla"],
    ),
    Heritage(
        "Ukrainian",
        surnames=["Kovalenko", "Bondarenko", "Tkachenko", "Melnyk", "Savchuk"],
        women=["Oksana", "Iryna", "Natalia", "Olena", "Halyna"],
        men=["Andriy", "Serhiy", "Oleksandr", "Taras", "Viktor"],
        children=["Sofiia", "Maksym", "Anastasiia", "Artem", "Zlata"],
    ),
    Heritage(
        "English, Yoruba",
        surnames=["Adeyemi", "Balogun", "Ogunleye", "Olatunji"],
        women=["Funmilayo", "Adebola", "Titilayo", "Yewande", "Bisola"],
        men=["Olumide", "Babatunde", "Segun", "Kunle", "Femi"],
        children=["Tobi", "Ifeoluwa", "David", "Precious", "Ayomide"],
    ),
]

ENGLISH = HERITAGES[0]

ACCESS_NOTES = [
    "Large dog: ask for it to be kept in another room before going in.",
    "Second-floor flat, no lift. The entry buzzer is broken: ring the family from the door.",
    "Park on the main road; the shared drive belongs to the neighbours.",
    "Use the side gate; the front door is not used.",
    "One parent works nights and sleeps until 1 pm: visit in the afternoon.",
    "Two cats in the house; check no visitor is allergic.",
    "The family asks visitors to take their shoes off at the door.",
]

SOCIAL_WORKERS = [
    ("Tendai Moorcroft", "Brookvale Children's Services"),
    ("Lorcan Beresford-Amis", "Brookvale Children's Services"),
    ("Yetunde Halsey", "Brookvale Family Safeguarding Team"),
    ("Gwenllian Achterberg", "Brookvale Children's Services"),
]
EDUCATIONAL_PSYCHOLOGIST = ("Dr Saoirse Lindqvist", "Brookvale Educational Psychology Service")
SCHOOL_NURSE = ("Precious Mabeza-Holt", "Brookvale Community Health (school nursing)")

# Why each kind of visit happens and what it should achieve. {child} is the child's first name(s).
PURPOSE_TEXT = {
    Purpose.TRANSITION: (
        "{child} joins us next term; meet the family at home before the first day.",
        "The family knows who to contact and {child} has met a familiar adult.",
    ),
    Purpose.ATTENDANCE: (
        "{child}'s attendance has fallen below 85% this half-term with few reasons given.",
        "Understand what gets in the way and agree a plan for coming in every day.",
    ),
    Purpose.SEND_SUPPORT: (
        "Review {child}'s support plan with the family; routines at home and school differ.",
        "Agreed next steps for the plan and strategies that work at home too.",
    ),
    Purpose.FAMILY_SUPPORT: (
        "The family asked for help with housing and a food bank referral.",
        "The family is linked to the right local services with a named contact in school.",
    ),
    Purpose.WELFARE_CHECK: (
        "{child} has not been seen for three days and the family's phones go unanswered.",
        "See {child}, speak to them, and confirm they are safe and well.",
    ),
    Purpose.WORK_DROP_OFF: (
        "{child} is at home for two weeks after an operation; drop off a work pack.",
        "{child} keeps up with class work and stays connected to school.",
    ),
    Purpose.MEDICAL_ABSENCE: (
        "{child} has been off with a long illness; see how they are and plan a return.",
        "A phased return that the family and the school nurse agree with.",
    ),
    Purpose.SUSPECTED_HOLIDAY: (
        "Term-time leave was refused and {child} has been absent since Monday.",
        "Establish whether {child} is at home and explain the absence procedure.",
    ),
    Purpose.COLLECT_OR_DROP_CHILD: (
        "The parent is unwell and asked us to collect {child} for the morning.",
        "{child} is in school for the session and brought safely home.",
    ),
    Purpose.REFUSING_TO_ATTEND: (
        "{child} will not leave the house on school mornings; the parent reports anxiety.",
        "Meet {child} at home and agree one small first step back into school.",
    ),
    Purpose.ELECTIVE_HOME_EDUCATION: (
        "The parent wrote that they will home-educate {child}; offer a meeting first.",
        "The family understands what home education involves and that our door stays open.",
    ),
    Purpose.OTHER: (
        "Return {child}'s hearing aid, found after school, and check it works.",
        "{child} has working equipment for Monday.",
    ),
}
UNANNOUNCED_REASONS = {
    Purpose.WELFARE_CHECK: "Announcing the visit could put {child} at risk.",
    Purpose.SUSPECTED_HOLIDAY: "If told in advance, the family could not show whether {child} is at home.",
    Purpose.ATTENDANCE: "Three letters and several calls have had no reply.",
}
AUTHORISED_NOTES = ["", "", "Authorised. Ring the office when you arrive.", "Authorised: keep to the time agreed."]


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


class Command(BaseCommand):
    help = (
        "Load fictional demo data: the Brookvale Learning Trust with Oakfield Primary School and Riverside "
        f"Academy, their policies, staff (every password is {PASSWORD!r}), families, and a term of visits "
        "ending today. Running it again changes nothing: if the trust is already there it only prints the "
        "log-ins. Today's visits are placed around the current time (within school hours), so the board "
        "looks live during the school day. Refuses to run when settings.PRODUCTION is true."
    )

    def handle(self, *args, **options):
        if getattr(settings, "PRODUCTION", False):
            raise CommandError("seed_demo loads fictional demo data and must never run in production.")
        started = time.monotonic()
        # Demo history is not news: nobody is emailed about the requests, decisions and concerns it creates
        # (the services send their emails when the transaction commits, so the override wraps it).
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"), transaction.atomic():
            if Trust.objects.filter(slug=TRUST_SLUG).exists():
                self.stdout.write(f"Demo data is already present ({TRUST_NAME}); nothing changed.")
            else:
                summary = Seeder().run()
                self.stdout.write(
                    self.style.SUCCESS(f"Demo data loaded in {time.monotonic() - started:.1f} s: {summary}.")
                )
        self._print_logins()

    def _print_logins(self):
        rows = [("username", "role", "school", "password"), *((*row, PASSWORD) for row in login_rows())]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        self.stdout.write("\nDemo log-ins:")
        for row in rows:
            self.stdout.write("  " + "  ".join(f"{cell:<{w}}" for cell, w in zip(row, widths, strict=True)).rstrip())


class Seeder:
    def __init__(self):
        self.rng = random.Random(RANDOM_SEED)
        self.today = timezone.localdate()
        self.now = timezone.localtime()
        self.numbers = (f"0113 496 {n:04d}" for n in range(100, 1000))
        self.groups: dict[str, Group] = {}
        self.used_surnames: set[str] = set()

    def run(self) -> str:
        trust = _saved(Trust(name=TRUST_NAME, slug=TRUST_SLUG))
        self._policies(trust, schools := [self._school(trust, spec) for spec in SCHOOLS])
        self._groups()
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

    def _groups(self) -> None:
        self.groups = {role: Group.objects.get_or_create(name=role)[0] for role in Role.values}
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
        self.groups[Role.TRUST_ADMIN].permissions.add(
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
        user.groups.add(self.groups[member.role])
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
        profile.schools.add(*schools)
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
        rows = [RiskRowInput(**row) for row in risk_rows_to_start_from(ctx.school)]
        for household in ctx.households[1:]:
            dog = "dog" in household.access_notes.lower()
            risk_assessment_create(
                household=household,
                actor=dsl,
                rows=rows,
                assessed_on=self.today - datetime.timedelta(days=40),
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

        # Today's visits sit around now (kept within school hours) so the office board looks live.
        now = self.now.replace(minute=self.now.minute - self.now.minute % 5, second=0, microsecond=0)
        anchor = min(max(now, self.at(self.today, 10)), self.at(self.today, 14, 45))
        anchor -= 10 * MINUTE * SCHOOLS.index(ctx.spec)
        latest = timezone.make_aware(datetime.datetime.combine(self.today, policy.latest_start))

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
            (S.AUTHORISED, min(anchor + 60 * MINUTE, latest), {}),
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
        household = rng.choice(ctx.households)
        children = ctx.children[household.pk]
        if purpose != Purpose.WELFARE_CHECK:  # a welfare check sees every child in the home
            children = rng.sample(children, rng.randint(1, len(children)))
        names = " and ".join(c.first_name for c in children)
        announced = purpose not in UNANNOUNCED_REASONS or (purpose == Purpose.ATTENDANCE and rng.random() < 0.5)

        lead, second = self._free_pair(ctx, start, holds_time=final in BOOKED)
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
        )
        # Visits are asked for a few school days ahead, and never after the moment the seed runs.
        asked_on = self.school_day(min(timezone.localdate(start), self.today), -rng.randint(1, 3))
        created = self.at(asked_on, 10) + rng.randint(0, 240) * MINUTE
        # visit_create stamps "now"; a visit's timeline should begin when it was really asked for.
        Visit.objects.filter(pk=visit.pk).update(created_at=created)
        visit.transitions.filter(from_status="").update(at=created)

        if final in ON_THE_DAY:
            self._prepare(visit, lead, announced, created)
        authoriser = self._authoriser(ctx, policy, announced)
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
            if to_status == S.REQUESTED:
                # Through the request service, so the policy checks run and the approvals queue has its order.
                visit_submit(visit=visit, actor=visit.requested_by)
                Visit.objects.filter(pk=visit.pk).update(submitted_at=when)
            elif to_status in DECISIONS:
                self._decide(ctx, visit, to_status, actor, note, when)
            elif to_status == S.REPORTED:
                self._write_report(visit, lead, when, no_access=no_access)
            elif to_status == S.REVIEWED:
                report_review(report=visit.report, actor=actor, comment=note)
            else:
                visit_transition(visit=visit, to_status=to_status, actor=actor, at=when, note=note)
                if to_status in AWAY:
                    # What the check-in service would have stamped at the time, and the alert timer it keeps.
                    clocks = [CLOCKS[to_status]] if to_status in CLOCKS else []
                    for clock in clocks:
                        setattr(visit, clock, when)
                    visit.alert_due_at = visit.next_alert_due(policy)
                    visit.save(update_fields=[*clocks, "alert_due_at"])
                continue
            # The services stamp "now"; the demo's history should read as it happened.
            VisitTransition.objects.filter(pk=visit.transitions.filter(to_status=to_status).latest("id").pk).update(
                at=when
            )
            if to_status not in (S.REPORTED, S.REVIEWED):
                continue
            stamp = "submitted_at" if to_status == S.REPORTED else "reviewed_at"
            VisitReport.objects.filter(visit=visit).update(**{stamp: when})
        return visit

    def _free_pair(self, ctx, start, *, holds_time: bool):
        """Two visiting staff not booked on another visit still in progress then: nobody is in two homes at once
        (the request checks refuse it, as they would for a real request)."""
        window = (start, start + 60 * MINUTE)  # the longest visit and the journey back
        free = [
            u
            for u in ctx.visiting_staff
            if not any(b[0] < window[1] and window[0] < b[1] for b in ctx.bookings.get(u.pk, []))
        ]
        lead, second = self.rng.sample(free, 2)
        for user in (lead, second) if holds_time else ():
            ctx.bookings.setdefault(user.pk, []).append(window)
        return lead, second

    def _decide(self, ctx, visit, to_status, authoriser, note, when) -> None:
        """A DSL's or the Principal's decision, through the service that keeps it as a permanent record."""
        decision = DECISIONS[to_status]
        if decision_refusal(authoriser, visit, approving=decision == Decision.APPROVED):
            authoriser = ctx.staff["principal"]  # the DSL is on this visit: the Principal decides instead
        approving = decision == Decision.APPROVED
        record = visit_decide(
            visit=visit,
            actor=authoriser,
            decision=decision,
            reason="" if approving else note,
            conditions=note if approving else "",
        )
        AuthorisationDecision.objects.filter(pk=record.pk).update(decided_at=when)

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
                "invited_in_by": carers[0].addressed_as if carers else "",
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
        report_submit(visit=visit, actor=lead, fields=fields, present=present, actions=actions)
        # Most past actions were done; the ones left open show up as overdue, as they would in a real school.
        for action in visit.actions.all():
            if action.due_on < self.today and self.rng.random() < 0.7:
                action_complete(action=action, actor=lead, outcome="Leaflet sent; rang the family, all well.")

    def _prepare(self, visit, lead, announced: bool, created) -> None:
        """What the pre-departure checklist asks for, done as staff would before leaving: family told, safe word."""
        if announced:
            parent_notification_record(
                visit=visit,
                actor=lead,
                method=NotifyMethod.PHONE,
                notified_at=created,
                response=ParentResponse.AGREED,
                note="Happy for us to come.",
            )
        if visit.household.risk_assessments.exists():
            safe_word_set(visit=visit, actor=lead, word=SAFE_WORDS[visit.pk % len(SAFE_WORDS)])

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
        """The steps from draft to `final`, along visits.services.ALLOWED, with believable times."""
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
