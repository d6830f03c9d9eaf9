"""The staff list of a school, imported from a CSV (or .xlsx): who is new (an account, a role from today and an
invitation), whose details or role changed, and who has left (their roles here end; someone left with no role
anywhere is deactivated, sessions and all). A preview first, as for pupils; the trust admin confirms it.

Columns (docs/staff-import-template.csv): first_name, last_name, email, mobile, job_title, role, training_date,
training_expires. The email finds the person again next time; the role is one of the product's (Visiting staff,
DSL, Principal, Office, Trust admin; several separated by ';'); training dates are optional, both or neither.
"""

import datetime
import hashlib
import json
import re
from collections.abc import Callable

import phonenumbers
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from .audit import audit
from .invitations import invitation_send, staff_deactivate
from .memberships import membership_end, membership_grant
from .models import Membership, PendingImport, School, StaffProfile
from .permissions import may_manage_memberships
from .roles import Role
from .services import staff_profile_create, staff_profile_update
from .tabular import formula_problem, read_table

COLUMNS = ["first_name", "last_name", "email", "mobile", "job_title", "role", "training_date", "training_expires"]
REQUIRED = ["first_name", "last_name", "email", "role"]
ROLE_WORDS = {
    "staff": Role.STAFF,
    "visiting staff": Role.STAFF,
    "teacher": Role.STAFF,
    "dsl": Role.DSL,
    "deputy dsl": Role.DSL,
    "designated safeguarding lead": Role.DSL,
    "principal": Role.PRINCIPAL,
    "headteacher": Role.PRINCIPAL,
    "head teacher": Role.PRINCIPAL,
    "office": Role.OFFICE,
    "reception": Role.OFFICE,
    "trust admin": Role.TRUST_ADMIN,
}
KIND = PendingImport.Kind.STAFF

# Training dates arrive with the staff list; the safeguarding app records them (it registers itself at start-up,
# as core may not import it). Without it, training columns are refused rather than dropped.
_record_training: Callable | None = None


def register_training_recorder(recorder: Callable) -> None:
    global _record_training
    _record_training = recorder


def template_csv() -> str:
    example = ["Asha", "Fennimore", "asha.fennimore@example.org", "020 7946 0123", "Class teacher", "Visiting staff"]
    return ",".join(COLUMNS) + "\r\n" + ",".join([*example, "2026-09-01", "2029-08-31"]) + "\r\n"


def _header_name(raw: str) -> str:
    return "_".join(raw.strip().lower().replace("-", " ").split())


def _date(value: str) -> datetime.date:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y"):
        try:
            return datetime.datetime.strptime(value, fmt).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    raise ValueError(value)


def _row(line: int, values: dict, *, today) -> dict:
    """One person as the preview keeps them, with their problems in plain words."""
    problems = []
    for value in values.values():
        if problem := formula_problem(value):
            return {"line": line, "email": values.get("email", ""), "errors": [problem], "roles": []}
    for name in REQUIRED:
        if not values.get(name):
            problems.append(f"{name.replace('_', ' ').capitalize()} is empty.")
    email = values.get("email", "").lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            problems.append(f"'{email}' is not an email address.")
    roles = []
    for word in filter(None, (w.strip().lower() for w in re.split(r"[;,]", values.get("role", "")))):
        if word in ROLE_WORDS:
            roles.append(ROLE_WORDS[word])
        else:
            problems.append(f"'{word}' is not a role here (Visiting staff, DSL, Principal, Office, Trust admin).")
    mobile = ""
    if values.get("mobile"):
        try:
            number = phonenumbers.parse(values["mobile"], "GB")
            assert phonenumbers.is_valid_number(number)
            mobile = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        except (phonenumbers.NumberParseException, AssertionError):
            problems.append(f"'{values['mobile']}' is not a phone number.")
    training = None
    done, expires = values.get("training_date", ""), values.get("training_expires", "")
    if done or expires:
        try:
            training = (_date(done), _date(expires))
        except ValueError:
            problems.append("Training needs both dates (training_date and training_expires), e.g. 2026-09-01.")
        else:
            if training[0] > today:
                problems.append("The training date is in the future.")
            elif training[1] <= training[0]:
                problems.append("The training expires before it was done.")
    for name, limit in (("first_name", 150), ("last_name", 150), ("job_title", 100)):
        if len(values.get(name, "")) > limit:
            problems.append(f"{name.replace('_', ' ').capitalize()} is longer than {limit} characters.")
    return {
        "line": line,
        "first_name": values.get("first_name", ""),
        "last_name": values.get("last_name", ""),
        "email": email,
        "mobile": mobile,
        "job_title": values.get("job_title", ""),
        "roles": sorted(set(roles)),
        "training": [d.isoformat() for d in training] if training else None,
        "errors": problems,
    }


def _basis(school) -> str:
    rows = list(
        Membership.objects.filter(school=school)
        .order_by("pk")
        .values_list("pk", "user_id", "role", "starts_on", "ends_on", "user__email", "user__is_active")
    )
    return hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()


def _plan(school, rows: list[dict], *, actor, today) -> dict:
    """What confirming would do: per person new / changed / unchanged, and who leaves."""
    user_model = get_user_model()
    emails = [r["email"] for r in rows if r["email"]]
    seen: dict[str, int] = {}
    for row in rows:
        if row["email"] and row["email"] in seen:
            row["errors"].append(f"{row['email']} is also on line {seen[row['email']]}.")
        seen.setdefault(row["email"], row["line"])
    found = user_model.objects.annotate(address=Lower("email")).filter(address__in=emails).select_related("profile")
    users = {u.address: u for u in found}
    taken = set(user_model.objects.filter(username__in=[e[:150] for e in emails]).values_list("username", flat=True))
    current = Membership.objects.filter(school=school).exclude(ends_on__lt=today).filter(starts_on__lte=today)
    held: dict[int, set[str]] = {}
    for user_id, role in current.values_list("user_id", "role"):
        held.setdefault(user_id, set()).add(role)
    elsewhere = set(
        Membership.objects.exclude(school__trust_id=school.trust_id)
        .exclude(ends_on__lt=today)
        .values_list("user_id", flat=True)
    )
    for row in rows:
        user = users.get(row["email"])
        row["user_id"] = user.pk if user else None
        if user is not None and user.pk in elsewhere:
            row["errors"].append("This address belongs to someone at another trust: ask their trust admin.")
        if user is None:
            if row["email"][:150] in taken:
                row["errors"].append(f"The username {row['email']} is someone else's: ask the trust admin.")
            row["status"], row["changes"] = "new", ["New: an account and an invitation by email"]
            continue
        changes = [f"Role added: {Role(r).label}" for r in row["roles"] if r not in held.get(user.pk, set())]
        gone = held.get(user.pk, set()) - set(row["roles"]) - {Role.TRUST_ADMIN}
        changes += [f"Role ended: {Role(r).label}" for r in sorted(gone)]
        profile = getattr(user, "profile", None)
        if profile is not None:
            if row["mobile"] and (profile.mobile.as_e164 if profile.mobile else "") != row["mobile"]:
                changes.append("Mobile changed")
            if row["job_title"] and profile.job_title != row["job_title"]:
                changes.append("Job title changed")
        if row["training"] and (profile is None or str(profile.training_completed_on) != row["training"][0]):
            changes.append(f"Training recorded: {row['training'][0]}")
        if not user.is_active:
            changes.append("Was deactivated: active again, with a new invitation")
        row["status"], row["changes"] = ("changed" if changes else "unchanged"), changes
    listed = {r["user_id"] for r in rows if r["user_id"]}
    # Trust admins hold their role for the whole trust: a school's staff list does not end it.
    leavers = [
        {"user_id": uid, "roles": sorted(roles)}
        for uid, roles in held.items()
        if uid not in listed and uid != actor.pk and roles - {Role.TRUST_ADMIN}
    ]
    names = {
        u.pk: u.get_full_name() or u.username for u in user_model.objects.filter(pk__in=[x["user_id"] for x in leavers])
    }
    for leaver in leavers:
        leaver["name"] = names.get(leaver["user_id"], "")
    counts = {
        s: sum(1 for r in rows if r.get("status") == s and not r["errors"]) for s in ("new", "changed", "unchanged")
    }
    counts.update(left=len(leavers), errors=sum(1 for r in rows if r["errors"]))
    return {"rows": rows, "leavers": leavers, "counts": counts}


def _check(actor, school) -> None:
    if not may_manage_memberships(actor, school):
        raise PermissionDenied("Only a trust admin of the school imports its staff.")


@transaction.atomic
def staff_import_prepare(*, upload, school: School, actor, now=None) -> PendingImport:
    _check(actor, school)
    now = now or timezone.now()
    today = timezone.localdate(now)
    PendingImport.objects.expired(now).delete()
    table = read_table(upload, max_bytes=settings.IMPORT_MAX_BYTES, max_rows=settings.IMPORT_MAX_ROWS, excel=True)
    header = [_header_name(h) for h in table.header]
    missing = [c for c in REQUIRED if c not in header]
    unknown = [h for h in header if h not in COLUMNS]
    if missing or unknown:
        raise ValidationError(
            f"The header row is wrong (missing: {', '.join(missing) or 'none'}; "
            f"unknown: {', '.join(unknown) or 'none'}). The columns are: {', '.join(COLUMNS)}."
        )
    if not table.rows:
        raise ValidationError("The file has a header row but nobody in it.")
    rows = [_row(line, dict(zip(header, values, strict=False)), today=today) for line, values in table.rows]
    pending = PendingImport(
        kind=KIND,
        school=school,
        uploaded_by=actor,
        uploaded_at=now,
        filename=(getattr(upload, "name", "") or "staff.csv")[:200],
        layout="staff",
        header=header,
        rows=[[line, values] for line, values in table.rows],
        preview=_plan(school, rows, actor=actor, today=today),
        basis=_basis(school),
    )
    pending.save()
    audit(
        actor=actor,
        action="staff.import_prepare",
        obj=pending,
        school=school,
        summary=f"Uploaded the staff list {pending.filename} for {school}: {len(rows)} people, nothing changed yet",
    )
    return pending


def visible_staff_imports(*, user):
    return PendingImport.objects.filter(kind=KIND, uploaded_by=user).select_related("school")


@transaction.atomic
def staff_import_confirm(*, pending: PendingImport, actor, now=None) -> dict:
    now = now or timezone.now()
    today = timezone.localdate(now)
    locked = PendingImport.objects.select_for_update(of=("self",)).select_related("school").filter(pk=pending.pk)
    locked = locked.filter(kind=KIND).first()
    if locked is None:
        raise ValidationError("This preview has gone (confirmed, discarded or more than a day old): upload again.")
    school = locked.school
    _check(actor, school)
    if locked.uploaded_by_id != actor.pk:
        raise PermissionDenied("Only the person who uploaded this list confirms it.")
    School.objects.select_for_update().get(pk=school.pk)
    if _basis(school) != locked.basis:
        raise ValidationError(
            "The school's staff have changed since this preview was made. Nothing was changed: upload the list again."
        )
    preview = locked.preview
    if preview["counts"]["errors"]:
        raise ValidationError("Some rows have problems (shown beside each). Nothing was changed: correct the list.")
    user_model = get_user_model()
    invited = []
    for row in preview["rows"]:
        if row["status"] == "unchanged":
            continue
        if row["user_id"] is None:
            user = user_model(
                username=row["email"][:150],
                email=row["email"],
                first_name=row["first_name"],
                last_name=row["last_name"],
            )
            user.set_unusable_password()
            user.full_clean(exclude=["password"])
            user.save()
            staff_profile_create(user=user, actor=actor, job_title=row["job_title"], mobile=row["mobile"])
            invited.append(user)
        else:
            user = user_model.objects.select_related("profile").get(pk=row["user_id"])
            if not user.is_active:
                user.is_active = True
                user.save(update_fields=["is_active"])
                invited.append(user)
            fields = {k: row[k] for k in ("job_title", "mobile") if row[k]}
            if getattr(user, "profile", None) is None:
                staff_profile_create(user=user, actor=actor, **fields)
            elif fields:
                staff_profile_update(profile=user.profile, actor=actor, **fields)
        held = Membership.objects.filter(user=user, school=school).exclude(ends_on__lt=today)
        for role in row["roles"]:
            if not held.filter(role=role).exists():
                membership_grant(actor=actor, user=user, school=school, role=role, starts_on=today)
        for membership in held.exclude(role__in=[*row["roles"], Role.TRUST_ADMIN]):
            membership_end(actor=actor, membership=membership, last_day=today - datetime.timedelta(days=1))
        if row["training"]:
            if _record_training is None:
                raise ValidationError("Training dates cannot be recorded here.")
            completed, expires = (datetime.date.fromisoformat(d) for d in row["training"])
            profile = StaffProfile.objects.get(user=user)
            if profile.training_completed_on != completed:
                _record_training(profile=profile, completed_on=completed, expires_on=expires, actor=actor)
    for user in invited:
        invitation_send(user=user, school=school, actor=actor)
    deactivated = []
    for leaver in preview["leavers"]:
        user = user_model.objects.get(pk=leaver["user_id"])
        current = Membership.objects.filter(user=user).exclude(ends_on__lt=today)
        if current.exclude(school=school).exists():  # still works at another school: only this school's roles end
            for membership in current.filter(school=school).exclude(role=Role.TRUST_ADMIN):
                membership_end(actor=actor, membership=membership, last_day=today - datetime.timedelta(days=1))
        else:
            staff_deactivate(actor=actor, user=user, now=now, reason=f"not in the staff list {locked.filename}")
            deactivated.append(user.pk)
    counts = preview["counts"]
    audit(
        actor=actor,
        action="staff.import",
        obj=school,
        school=school,
        summary=f"Imported the staff list {locked.filename}: {counts['new']} invited, {counts['changed']} changed, "
        f"{counts['left']} left ({len(deactivated)} deactivated)",
        counts=counts,
        deactivated=deactivated,
    )
    locked.delete()
    return counts


@transaction.atomic
def staff_import_discard(*, pending: PendingImport, actor) -> None:
    locked = PendingImport.objects.select_for_update().filter(pk=pending.pk, kind=KIND, uploaded_by=actor).first()
    if locked is None:
        raise ValidationError("This preview has gone.")
    audit(
        actor=actor, action="staff.import_discard", obj=locked, school=locked.school, summary="Discarded a staff list"
    )
    locked.delete()
