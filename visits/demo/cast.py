"""The demo's cast, families and words: a fictional trust, two schools, their staff and the families they visit.

Everything here is invented. Phone numbers come from Ofcom's drama range, postcodes use the BV area
(which does not exist), and car registrations contain I or Q in the last three letters, which the DVLA
never issues, so nobody real is rung, visited or looked up.
"""

from dataclasses import dataclass

from core.roles import Role
from families.models import YearGroup

from ..models import Purpose

TRUST_NAME, TRUST_SLUG = "Brookvale Learning Trust", "brookvale"
# Fictional, and only ever shown to the pair, the office and the DSLs.
SAFE_WORDS = ["Blue umbrella", "Marigold", "Lighthouse", "Paper crane", "Juniper", "Copper kettle"]


PASSWORD = "demo-password"
# Demo data only: every demo user whose role needs a second factor has an authenticator app with this published
# secret (README). Add it to any authenticator app, or compute a code with `python manage.py demo_totp_code`.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPDEMOHOMEVISITS23"


RANDOM_SEED = 2026


TERM_DAYS = 84  # the past twelve weeks


TOWN = "Brookvale"


EMAIL_DOMAIN = "brookvale.example"  # RFC 2606: never delivered anywhere


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
