"""What an import would change: the file's pupils against the school's records as they are now.

Worked out twice: at upload for the preview, and again at confirmation under a lock on the school, when the digest
of the records it was worked out against must still be the preview's (otherwise something changed meanwhile, say
another import was confirmed, and the person looks again).

- A pupil is found by UPN, else by the MIS id; a child recorded before there were either (by hand, or the demo) is
  found by name and date of birth, and given them.
- A child on the roll whom the file does not name has left (from the import's day). Nobody is deleted.
- Households are found by address (core.addresses: postcode and premises, normalised), so siblings share one.
  Children who all move together take their household with them (its history and risk assessments follow); a
  child who moves alone (a sibling moving house) joins the household at the new address, or a new one.
- A household's carers are the carers the file gives its pupils, as the MIS holds them (title and surname
  included: nobody's surname is presumed); a carer the file no longer gives is removed, and that is noted.
"""

import datetime
import hashlib
import json
from dataclasses import dataclass, field

from core.addresses import parse_parts

from ..models import Child, Household, ParentCarer, YearGroup
from .records import Carer, Pupil

CHILD_FIELDS = ["upn", "mis_id", "first_name", "last_name", "date_of_birth", "year_group"]
CARER_FIELDS = [
    "title",
    "first_name",
    "last_name",
    "relationship",
    "parental_responsibility",
    "phone",
    "email",
    "language",
    "literacy_support_needed",
]
# More than this share of the roll leaving at once is worth a second look (a file of one year group?).
LEAVERS_WARNING_SHARE = 0.25


@dataclass
class HouseholdPlan:
    key: tuple[str, str]
    pupils: list[Pupil]
    existing: Household | None  # found at this address, or moving here
    moves_from: str = ""  # the address it moves from
    changes: list[str] = field(default_factory=list)  # for its history
    carers_add: list[Carer] = field(default_factory=list)
    carers_update: list[tuple[ParentCarer, Carer, list[str]]] = field(default_factory=list)
    carers_remove: list[ParentCarer] = field(default_factory=list)


@dataclass
class PupilPlan:
    pupil: Pupil
    child: Child | None
    status: str  # new, changed, unchanged
    changes: list[str] = field(default_factory=list)
    household: HouseholdPlan | None = None


@dataclass
class Plan:
    pupils: list[PupilPlan]
    households: list[HouseholdPlan]
    leavers: list[Child]
    loose_errors: list[tuple[int, str]]
    basis: str
    on_roll: int

    @property
    def error_count(self) -> int:
        return len(self.loose_errors) + sum(len(p.pupil.errors) for p in self.pupils)

    def counts(self) -> dict:
        found = dict.fromkeys(("new", "changed", "unchanged"), 0)
        for p in self.pupils:
            found[p.status] += 1
        return {
            **found,
            "left": len(self.leavers),
            "errors": self.error_count,
            "pupils_with_errors": sum(1 for p in self.pupils if p.pupil.errors) + len(self.loose_errors),
            "households_new": sum(1 for h in self.households if h.existing is None),
            "households_changed": sum(1 for h in self.households if h.existing is not None and h.changes),
            "carers": sum(len({c.key for p in h.pupils for c in p.carers}) for h in self.households),
        }

    def warnings(self) -> list[str]:
        if self.on_roll and len(self.leavers) > LEAVERS_WARNING_SHARE * self.on_roll:
            return [
                f"{len(self.leavers)} of the {self.on_roll} pupils on the roll are not in this file and would be "
                "marked as left. Is it the whole school's export, not one class or year group?"
            ]
        return []


def _snapshot(school) -> tuple[list[Child], list[Household], list[ParentCarer], str]:
    children = list(Child.objects.filter(school=school).order_by("pk"))
    households = list(Household.objects.filter(school=school).order_by("pk"))
    carers = list(ParentCarer.objects.filter(household__school=school).order_by("pk"))
    rows = [
        [[c.pk, c.household_id, c.left_on, *(getattr(c, f) for f in CHILD_FIELDS)] for c in children],
        [
            [h.pk, h.address_line1, h.address_line2, h.town, h.postcode, str(h.phone), h.home_languages]
            for h in households
        ],
        [[c.pk, c.household_id, *(str(getattr(c, f)) for f in CARER_FIELDS)] for c in carers],
    ]
    basis = hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()
    return children, households, carers, basis


def make_plan(*, school, pupils: list[Pupil], loose_errors, today: datetime.date) -> Plan:
    children, households, carers, basis = _snapshot(school)
    by_upn = {c.upn: c for c in children if c.upn}
    by_mis = {c.mis_id: c for c in children if c.mis_id}
    by_person = {(c.first_name.casefold(), c.last_name.casefold(), c.date_of_birth): c for c in children}
    household_by_key = {}
    for h in households:
        household_by_key.setdefault((h.postcode, parse_parts(line1=h.address_line1, line2=h.address_line2).key), h)
    carers_of: dict[int, list[ParentCarer]] = {}
    for carer in carers:
        carers_of.setdefault(carer.household_id, []).append(carer)

    plans, matched = [], set()
    for pupil in pupils:
        child = by_upn.get(pupil.upn) if pupil.upn else None
        child = child or (by_mis.get(pupil.mis_id) if pupil.mis_id else None)
        if child is None:
            person = by_person.get((pupil.first_name.casefold(), pupil.last_name.casefold(), pupil.date_of_birth))
            if person is not None and not person.upn and not person.mis_id:
                child = person
        if child is not None and child.pk in matched:
            pupil.errors.append((pupil.lines[0], f"Matches {child}, whom another pupil in the file matches too."))
            child = None
        if child is not None:
            matched.add(child.pk)
        plans.append(PupilPlan(pupil=pupil, child=child, status="new" if child is None else "unchanged"))

    on_roll = [c for c in children if c.is_on_roll(today)]
    leavers = [c for c in on_roll if c.pk not in matched]
    household_plans = _households(plans, household_by_key, {h.pk: h for h in households}, children, carers_of, today)
    for plan in plans:
        if plan.child is not None:
            plan.changes = _child_changes(plan)
            if plan.changes:
                plan.status = "changed"
    return Plan(
        pupils=plans,
        households=household_plans,
        leavers=leavers,
        loose_errors=list(loose_errors),
        basis=basis,
        on_roll=len(on_roll),
    )


def _child_changes(plan: PupilPlan) -> list[str]:
    child, pupil, changes = plan.child, plan.pupil, []
    labels = {"upn": "UPN", "mis_id": "MIS id", "first_name": "first name", "last_name": "surname"}
    for name in CHILD_FIELDS:
        old, new = getattr(child, name), getattr(pupil, name)
        if name in ("upn", "mis_id") and not new:
            continue  # the file leaves it out: keep ours
        if old != new:
            if name == "year_group":
                changes.append(f"Year group {YearGroup(old).label} → {YearGroup(new).label}" if new else "")
            elif name == "date_of_birth":
                changes.append(f"Date of birth {old:%-d %b %Y} → {new:%-d %b %Y}" if new else "")
            else:
                changes.append(f"{labels.get(name, name).capitalize()} {old or '(none)'} → {new}")
    if child.left_on is not None:
        changes.append(f"Back on the roll (had left on {child.left_on:%-d %b %Y})")
    household = plan.household
    if household is not None and (household.existing is None or household.existing.pk != child.household_id):
        changes.append(f"Moved to {pupil.address}")
    return [c for c in changes if c]


def _households(plans, household_by_key, households, children, carers_of, today) -> list[HouseholdPlan]:
    groups: dict[tuple, HouseholdPlan] = {}
    for plan in plans:
        key = plan.pupil.address_key
        group = groups.get(key)
        if group is None:
            groups[key] = group = HouseholdPlan(key=key, pupils=[], existing=household_by_key.get(key))
        group.pupils.append(plan.pupil)
        plan.household = group
    taken = {group.existing.pk for group in groups.values() if group.existing is not None}
    by_pupil = {id(p.pupil): p.child for p in plans}
    in_file = {c.pk for c in by_pupil.values() if c is not None}
    on_roll_of: dict[int, set[int]] = {}  # household -> its children on the roll who stay on it (in the file)
    for child in children:
        if child.pk in in_file and child.is_on_roll(today):
            on_roll_of.setdefault(child.household_id, set()).add(child.pk)
    for group in groups.values():
        if group.existing is not None:
            continue
        # The children moving here all come from one household, and every other child of it on the roll moves here
        # too, or leaves: the household moves with them. New pupils at the address join it.
        movers = [c for c in (by_pupil[id(p)] for p in group.pupils) if c is not None]
        homes = {c.household_id for c in movers}
        if len(homes) != 1:
            continue
        home = homes.pop()
        if home in taken or not on_roll_of.get(home, set()) <= {c.pk for c in movers}:
            continue
        group.existing, group.moves_from = households[home], households[home].address
        taken.add(home)
    for group in groups.values():
        _household_changes(group, carers_of)
    return list(groups.values())


def _household_changes(group: HouseholdPlan, carers_of) -> None:
    first = group.pupils[0]
    carers: dict[tuple, Carer] = {}
    for pupil in group.pupils:
        for carer in pupil.carers:
            carers.setdefault(carer.key, carer)
    group.carers_add = list(carers.values())
    existing = group.existing
    if existing is None:
        return
    if group.moves_from:
        group.changes.append(f"Moved from {group.moves_from} to {first.address}")
    if first.home_phone and str(existing.phone) != first.home_phone:
        group.changes.append("Home telephone changed")
    languages = _languages(group)
    if languages and languages != existing.home_languages:
        group.changes.append(f"Home languages {existing.home_languages or '(none)'} → {languages}")
    kept = {}
    for carer in carers_of.get(existing.pk, []):
        kept.setdefault((carer.first_name.casefold(), carer.last_name.casefold()), carer)
    group.carers_add = []
    for key, carer in carers.items():
        old = kept.pop(key, None)
        if old is None:
            group.carers_add.append(carer)
            group.changes.append(f"Carer added: {carer.addressed_as} ({carer.relationship})")
            continue
        differs = [name for name in CARER_FIELDS if str(getattr(old, name) or "") != str(getattr(carer, name) or "")]
        if differs:
            group.carers_update.append((old, carer, differs))
            words = ", ".join(d.replace("_", " ") for d in differs)
            group.changes.append(f"Carer {carer.addressed_as}: {words} changed")
    group.carers_remove = list(kept.values())
    for carer in group.carers_remove:
        group.changes.append(f"Carer removed (no longer in the MIS): {carer.addressed_as}")


def _languages(group: HouseholdPlan) -> str:
    seen = []
    for pupil in group.pupils:
        for language in [pupil.home_language]:
            if language and language not in seen:
                seen.append(language)
    return ", ".join(seen)[:200]


def household_name(group: HouseholdPlan) -> str:
    """How staff will refer to a new household: its pupils' surnames (never a carer's presumed one)."""
    surnames = []
    for pupil in group.pupils:
        if pupil.last_name not in surnames:
            surnames.append(pupil.last_name)
    return (" / ".join(surnames) + " family")[:100]
