"""The MIS import's verbs: read an upload into a preview, map its columns, confirm it (one transaction, one audit
entry saying what changed, and a history entry on each household it changed), or discard it.

Who: the school's DSLs and Principal, and the trust admins (who run imports; core.permissions.may_manage_pupil_roll).
A preview holds the roll's personal data: only its uploader and the school's DSLs and Principal open it
(visible_pupil_imports), and it is deleted on confirmation, on discard, or after IMPORT_PREVIEW_HOURS.
"""

import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.audit import audit
from core.models import PendingImport, School
from core.permissions import may_manage_pupil_roll
from core.roles import SENIOR, schools_where
from core.tabular import read_table

from ..models import Child, Household, ParentCarer, PupilImportLayout
from ..services import child_mark_left, household_moved
from .layouts import PRESETS, best_preset, mapping_for, missing_fields
from .plan import CARER_FIELDS, CHILD_FIELDS, Plan, household_name, make_plan
from .records import pupils_from

KIND = PendingImport.Kind.PUPILS


def _check(actor, school) -> None:
    if not may_manage_pupil_roll(actor, school):
        raise PermissionDenied("Only a DSL, the Principal or a trust admin of the school imports its pupils.")


def visible_pupil_imports(*, user, now=None):
    """Previews this user may open: their own uploads, and every one of the schools where they are a DSL or the
    Principal. Expired ones are never shown (and are deleted by pending_imports_purge)."""
    now = now or timezone.now()
    fresh = PendingImport.objects.filter(
        kind=KIND, uploaded_at__gt=now - datetime.timedelta(hours=settings.IMPORT_PREVIEW_HOURS)
    )
    return fresh.filter(Q(uploaded_by=user) | Q(school_id__in=schools_where(user, *SENIOR))).select_related(
        "school", "uploaded_by"
    )


def pending_imports_purge(*, now=None) -> int:
    """Delete every preview (pupils or staff) older than IMPORT_PREVIEW_HOURS, with the rows it holds."""
    deleted, _ = PendingImport.objects.expired(now or timezone.now()).delete()
    return deleted


def saved_mapping(school) -> tuple[str, dict]:
    layout = PupilImportLayout.objects.filter(school=school).first()
    return (layout.preset, layout.mapping) if layout else ("", {})


@transaction.atomic
def pupil_import_prepare(*, upload, school: School, actor, layout: str = "", now=None) -> PendingImport:
    """Read the upload and work out its preview. Raises ValidationError (saving nothing) for a bad file.

    `layout`: a preset's key, "saved" (the school's mapping from last time), or "" to choose: the saved mapping if
    it finds every required column, else the preset that finds the most."""
    _check(actor, school)
    now = now or timezone.now()
    pending_imports_purge(now=now)
    table = read_table(
        upload, max_bytes=settings.IMPORT_MAX_BYTES, max_rows=settings.IMPORT_MAX_ROWS, excel=True, what="export"
    )
    repeated = sorted({h for h in table.header if h and table.header.count(h) > 1})
    if repeated:
        raise ValidationError(f"The header row repeats column(s): {', '.join(repeated)}. Each column once, please.")
    if not table.rows:
        raise ValidationError("The file has a header row but no pupils.")
    saved_preset, saved = saved_mapping(school)
    usable_saved = {f: cols for f, cols in saved.items() if all(c in table.header for c in cols)}
    if layout == "saved" or (not layout and usable_saved and not missing_fields(usable_saved)):
        layout, mapping = saved_preset or "saved", usable_saved
    else:
        layout = layout if layout in PRESETS else best_preset(table.header)
        mapping = mapping_for(layout, table.header)
    pending = PendingImport(
        kind=KIND,
        school=school,
        uploaded_by=actor,
        uploaded_at=now,
        filename=(getattr(upload, "name", "") or "export.csv")[:200],
        layout=layout[:20],
        header=table.header,
        rows=[[line, values] for line, values in table.rows],
        mapping=mapping,
    )
    _work_out(pending, now=now)
    pending.save()
    audit(
        actor=actor,
        action="pupils.import_prepare",
        obj=pending,
        school=school,
        summary=f"Uploaded {pending.filename} for {school}: {len(table.rows)} rows read, nothing imported yet"[:300],
        layout=layout,
    )
    return pending


def _plan(pending: PendingImport, *, now) -> Plan | None:
    if missing_fields(pending.mapping):
        return None
    today = timezone.localdate(now)
    pupils, loose = pupils_from(
        pending.rows, pending.header, pending.mapping, school_urn=pending.school.urn, today=today
    )
    return make_plan(school=pending.school, pupils=pupils, loose_errors=loose, today=today)


def _work_out(pending: PendingImport, *, now) -> None:
    plan = _plan(pending, now=now)
    pending.preview = preview_of(plan) if plan else {}
    pending.basis = plan.basis if plan else ""


def preview_of(plan: Plan) -> dict:
    """What the preview page shows, kept with the pending import: per pupil, what would happen and why not."""
    pupils = []
    for p in plan.pupils:
        pupils.append(
            {
                "name": p.pupil.name,
                "ident": p.pupil.upn or f"MIS {p.pupil.mis_id}",
                "lines": p.pupil.lines[:5],
                "status": "error" if p.pupil.errors else p.status,
                "changes": p.changes if p.status != "new" else [f"New, at {p.pupil.address}"],
                "carers": [f"{c.addressed_as} ({c.relationship})" for c in p.pupil.carers],
                "errors": [f"Line {line}: {message}" for line, message in p.pupil.errors],
            }
        )
    for line, message in plan.loose_errors:
        pupils.append(
            {"name": "(no UPN or MIS id)", "ident": "", "lines": [line], "status": "error", "changes": [],
             "carers": [], "errors": [f"Line {line}: {message}"]}
        )  # fmt: skip
    leavers = [{"name": str(c), "ident": c.upn or c.mis_id, "status": "left"} for c in plan.leavers]
    households = [
        {"address": h.pupils[0].address, "changes": h.changes}
        for h in plan.households
        if h.existing is not None and h.changes
    ]
    return {
        "counts": plan.counts(),
        "warnings": plan.warnings(),
        "pupils": pupils,
        "leavers": leavers,
        "households": households,
    }


@transaction.atomic
def pupil_import_map(*, pending: PendingImport, mapping: dict[str, str], actor, now=None) -> PendingImport:
    """Map the file's columns by hand (one column per field), remember it for the school, and work out the preview."""
    now = now or timezone.now()
    locked = _locked(pending, actor)
    chosen = {field: [column] for field, column in mapping.items() if column}
    unknown = [c for cols in chosen.values() for c in cols if c not in locked.header]
    if unknown:
        raise ValidationError(f"The file has no column {unknown[0]!r}.")
    missing = missing_fields(chosen)
    if missing:
        raise ValidationError(f"Choose the column for: {', '.join(missing)}.")
    locked.mapping, locked.layout = chosen, "mapped"
    _work_out(locked, now=now)
    locked.save(update_fields=["mapping", "layout", "preview", "basis"])
    return locked


def _locked(pending: PendingImport, actor) -> PendingImport:
    locked = PendingImport.objects.select_for_update(of=("self",)).select_related("school").filter(pk=pending.pk)
    locked = locked.first()
    if locked is None:
        raise ValidationError("This preview has gone (confirmed, discarded or more than a day old): upload again.")
    _check(actor, locked.school)
    if locked.uploaded_by_id != actor.pk:
        raise PermissionDenied("Only the person who uploaded this file confirms or changes it.")
    return locked


@transaction.atomic
def pupil_import_discard(*, pending: PendingImport, actor) -> None:
    locked = _locked(pending, actor)
    audit(
        actor=actor,
        action="pupils.import_discard",
        obj=locked,
        school=locked.school,
        summary=f"Discarded the import of {locked.filename}: nothing imported",
    )
    locked.delete()


@transaction.atomic
def pupil_import_confirm(*, pending: PendingImport, actor, now=None) -> dict:
    """Apply the preview: all of it or nothing. Refused while any row has a problem, and when the school's records
    changed since the preview was worked out (another import was confirmed meanwhile, or someone edited one)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    locked = _locked(pending, actor)
    School.objects.select_for_update().get(pk=locked.school_id)  # one import of a school at a time
    plan = _plan(locked, now=now)
    if plan is None:
        raise ValidationError("Map the file's columns first.")
    if plan.basis != locked.basis:
        raise ValidationError(
            "The school's pupils, households or carers have changed since this preview was made (another import was "
            "confirmed, or someone edited a record). Nothing was imported: upload the file again to see what it "
            "would change now."
        )
    if plan.error_count:
        raise ValidationError(
            f"{plan.counts()['pupils_with_errors']} pupil(s) in the file have problems (shown beside each). Nothing "
            "was imported: correct them in the MIS, export again and upload the new file."
        )
    counts = plan.counts()
    history = _apply(plan, locked.school)
    for household, lines in history.entries():
        audit(
            actor=actor,
            action="household.import",
            obj=household,
            school=locked.school,
            summary=f"From the MIS import of {today:%-d %b %Y}: " + "; ".join(lines),
            changes=lines,
        )
    for household, was in history.moved:
        household_moved(household=household, actor=actor, was=was)
    for child in plan.leavers:
        child_mark_left(child=child, actor=actor, left_on=today, reason=f"Not in the MIS export {locked.filename}")
    PupilImportLayout.objects.update_or_create(
        school=locked.school,
        defaults={"preset": locked.layout, "mapping": locked.mapping, "saved_by": actor, "saved_at": now},
    )
    audit(
        actor=actor,
        action="pupils.import",
        obj=locked.school,
        school=locked.school,
        summary=f"Imported {locked.filename}: {counts['new']} new, {counts['changed']} changed, "
        f"{counts['unchanged']} unchanged, {counts['left']} left; {counts['households_new']} new households, "
        f"{counts['households_changed']} changed",
        filename=locked.filename,
        counts=counts,
        new=[p.pupil.name for p in plan.pupils if p.status == "new"][:1000],
        changed={p.pupil.name: p.changes for p in plan.pupils if p.status == "changed"},
        left=[str(c) for c in plan.leavers],
    )
    locked.delete()
    return counts


# Phone numbers were checked as the file was read (records.phone_or_problem) and are stored in E.164: checking each
# again on save is most of what a confirm costs.
CHECKED_ON_READING = ["phone"]


class History:
    """Lines for each household's history, for households saved or not yet saved (which cannot be dict keys)."""

    def __init__(self):
        self._lines: dict[int, tuple[object, list[str]]] = {}
        self.moved: list[tuple[Household, str]] = []  # households at a new address, with the old one

    def note(self, household, line: str) -> None:
        saved = household.pk is not None and id(household) not in self._lines
        key = ("pk", household.pk) if saved else id(household)
        self._lines.setdefault(key, (household, []))[1].append(line)

    def entries(self):
        ids = [h.pk for h, _ in self._lines.values() if not h.school_id]
        found = {h.pk: h for h in Household.objects.filter(pk__in=ids)} if ids else {}
        for household, lines in self._lines.values():
            yield found.get(household.pk, household), lines


def _apply(plan: Plan, school) -> History:
    """The writes, in bulk: households, then children, then carers. Returns each household's history lines."""
    history = History()
    new_households = []
    for group in plan.households:
        first = group.pupils[0]
        if group.existing is None:
            household = Household(
                school=school,
                name=household_name(group),
                address_line1=first.address_line1,
                address_line2=first.address_line2,
                town=first.town,
                postcode=first.postcode,
                phone=first.home_phone,
                home_languages=", ".join(dict.fromkeys(p.home_language for p in group.pupils if p.home_language)),
            )
            household.full_clean(exclude=CHECKED_ON_READING + ["school"])
            new_households.append(household)
            group.existing = household
            history.note(household, f"Added at {first.address}")
            continue
        household = group.existing
        was = household.address
        changed = []
        for name in ("address_line1", "address_line2", "town", "postcode"):
            if getattr(household, name) != getattr(first, name) and group.moves_from:
                setattr(household, name, getattr(first, name))
                changed.append(name)
        if first.home_phone and str(household.phone) != first.home_phone:
            household.phone, changed = first.home_phone, [*changed, "phone"]
        languages = ", ".join(dict.fromkeys(p.home_language for p in group.pupils if p.home_language))[:200]
        if languages and languages != household.home_languages:
            household.home_languages, changed = languages, [*changed, "home_languages"]
        if changed:
            household.full_clean(exclude=CHECKED_ON_READING + ["school"])
            household.save(update_fields=changed)
        if household.address != was:
            history.moved.append((household, was))
        for line in group.changes:
            history.note(household, line)
    Household.objects.bulk_create(new_households, batch_size=500)
    new_ids = {id(h) for h in new_households}

    new_children, updated_children = [], []
    for p in plan.pupils:
        pupil, household = p.pupil, p.household.existing
        if p.child is None:
            child = Child(school=school, household=household, left_on=None)
            for name in CHILD_FIELDS:
                setattr(child, name, getattr(pupil, name))
            child.full_clean(exclude=["household", "school"], validate_constraints=False)
            new_children.append(child)
            if id(household) not in new_ids:
                history.note(household, f"Joined: {pupil.name}")
            continue
        if p.status == "unchanged":
            continue
        child = p.child
        moved = child.household_id != household.pk
        if moved:
            history.note(Household(pk=child.household_id), f"{child} moved to {pupil.address}")
            history.note(household, f"Joined: {pupil.name} (moved from another address)")
        for name in CHILD_FIELDS:
            value = getattr(pupil, name)
            if name in ("upn", "mis_id") and not value:
                continue
            setattr(child, name, value)
        child.household, child.left_on = household, None
        child.full_clean(exclude=["household", "school", "key_worker"], validate_constraints=False)
        updated_children.append(child)
        notes = [c for c in p.changes if not c.startswith("Moved to")]
        if notes:
            history.note(household, f"{pupil.name}: " + "; ".join(notes))
    Child.objects.bulk_create(new_children, batch_size=500)
    Child.objects.bulk_update(updated_children, [*CHILD_FIELDS, "household", "left_on"], batch_size=500)

    new_carers, updated_carers, removed = [], [], []
    for group in plan.households:
        for carer in group.carers_add:
            row = ParentCarer(household=group.existing, **{name: getattr(carer, name) for name in CARER_FIELDS})
            row.full_clean(exclude=CHECKED_ON_READING + ["household"])
            new_carers.append(row)
        for old, carer, differs in group.carers_update:
            for name in differs:
                setattr(old, name, getattr(carer, name))
            old.full_clean(exclude=CHECKED_ON_READING)
            updated_carers.append(old)
        removed += [c.pk for c in group.carers_remove]
    ParentCarer.objects.bulk_create(new_carers, batch_size=500)
    ParentCarer.objects.bulk_update(updated_carers, CARER_FIELDS, batch_size=500)
    ParentCarer.objects.filter(pk__in=removed).delete()
    return history
