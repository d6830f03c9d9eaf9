"""The checklist's items, worked out for one school (reads only)."""

from dataclasses import dataclass, replace

from django.conf import settings
from django.db.models import Q
from django.urls import reverse

from core.checks import DEVELOPMENT_SMS_BACKENDS
from core.models import School, StaffProfile
from core.permissions import FIELD_ROLES
from core.roles import Role, has_role, schools_where
from core.selectors import member_ids, step_audience, users_with_role
from families.models import Child

from ..models import ProhibitedAddress, SetupConfirmation

# The seeds' numbers and where each comes from (the five school policies in shared/seeds, named by kind, never by
# name). The policy page shows them beside the school's own values.
SEED_DEFAULTS = [
    ("max_visit_minutes", "30 minutes", "the nursery school's policy: a visit should not take longer than 30 minutes"),
    ("wait_if_late_minutes", "10 minutes", "the nursery school's policy: wait at most 10 minutes for a late parent"),
    ("overdue_grace_minutes", "5 minutes", "no seed names a number; the secondary school's office rings the mobile "
     "when staff are not back at the agreed time"),
    ("max_extension_minutes", "30 minutes", "no seed names a number: the product's default"),
    ("earliest_start", "08:30", "the school day; no seed names a time"),
    ("latest_start", "16:30", "the academy's and the trust's policies: no evening visits"),
    ("unannounced_needs_principal", "Yes", "the academy's policy: parents told in advance except in named cases"),
    ("authorisers", "a DSL or the Principal", "the trust's policy: authorised by the Principal and/or the DSL (the "
     "academy's names one senior person: choose the Principal only)"),
    ("report_due_hours", "24 hours", "every seed: write the Home Visit Form promptly after the visit"),
    ("review_date", "a year ahead", "the academy's and the trust's policies are reviewed annually"),
]  # fmt: skip


@dataclass(frozen=True)
class Item:
    key: str
    title: str
    done: bool
    detail: str
    link: str  # "" when the person reading cannot open the page that completes it
    link_text: str


def _escalation(school, policy) -> tuple[bool, str]:
    gaps = []
    for number, step in enumerate(policy.escalation_steps, start=1):
        roles, _by_text = step_audience(step.action)
        users = users_with_role(school=school, roles=roles).filter(profile__mobile__gt="")
        if not users.exists():
            gaps.append(f"step {number} ({step.get_action_display()})")
    if not policy.escalation_steps:
        return False, "The policy has no escalation steps."
    if gaps:
        return False, "Nobody active with a mobile at " + ", ".join(gaps) + "."
    return True, f"All {len(policy.escalation_steps)} steps reach someone with a mobile."


def _trained(school, today) -> tuple[bool, str]:
    staff = StaffProfile.objects.filter(
        user__in=member_ids(school_ids=[school.pk], roles=FIELD_ROLES), user__is_active=True
    )
    total = staff.count()
    untrained = staff.exclude(training_expires_on__gte=today).count()
    if not total:
        return False, "Nobody who goes on visits has a role here yet."
    if untrained:
        return False, f"{untrained} of {total} staff who go on visits have no valid safer-working-practice training."
    return True, f"All {total} staff who go on visits are trained."


# Items completed on pages only a trust admin opens (the admin, the staff import).
TRUST_ADMIN_ITEMS = {"escalation", "roles", "trained"}


def checklist(*, school: School, today, user=None) -> list[Item]:
    """The school's items; for a `user` who is not its trust admin, items they cannot complete say who does."""
    items = _items(school=school, today=today)
    if user is None or user.is_superuser or has_role(user, Role.TRUST_ADMIN, school=school):
        return items
    return [
        replace(item, link="", link_text="Your trust admin does this.") if item.key in TRUST_ADMIN_ITEMS else item
        for item in items
    ]


def _items(*, school: School, today) -> list[Item]:
    confirmed = set(SetupConfirmation.objects.filter(school=school).values_list("item", flat=True))
    policy = school.policy()
    escalation_done, escalation_detail = _escalation(school, policy)
    trained_done, trained_detail = _trained(school, today)
    dsls = users_with_role(school=school, roles=[Role.DSL]).count()
    office = users_with_role(school=school, roles=[Role.OFFICE]).count()
    listed = ProhibitedAddress.objects.filter(
        Q(school=school) | Q(school__isnull=True, trust_id=school.trust_id), expired_at__isnull=True
    ).count()
    pupils = Child.objects.filter(school=school).on_roll(today).count()
    sms_done = settings.SMS_BACKEND not in DEVELOPMENT_SMS_BACKENDS
    return [
        Item(
            "policy",
            "Policy values reviewed",
            SetupConfirmation.Item.POLICY_REVIEWED in confirmed,
            "Compare the school's values with the seed policies' defaults and say they are right.",
            reverse("setup_policy", args=[school.pk]),
            "Review the policy values",
        ),
        Item(
            "escalation",
            "Someone with a mobile at every escalation step",
            escalation_done,
            escalation_detail,
            reverse("admin:core_staffprofile_changelist"),
            "Staff profiles (mobiles)",
        ),
        Item(
            "roles",
            "At least one DSL and one office user",
            bool(dsls and office),
            f"{dsls} DSL{'s' if dsls != 1 else ''} and {office} office user{'s' if office != 1 else ''}.",
            reverse("staff_import"),
            "Import the staff list",
        ),
        Item("trained", "Staff trained", trained_done, trained_detail, reverse("staff_import"), "Training dates"),
        Item(
            "prohibited",
            "Prohibited-addresses list loaded or confirmed empty",
            bool(listed) or SetupConfirmation.Item.NO_PROHIBITED in confirmed,
            f"{listed} address{'es' if listed != 1 else ''} on the list."
            if listed
            else "The local authority's list is not loaded, and nobody has confirmed there is none.",
            reverse("safeguarding:prohibited_list"),
            "The prohibited-addresses list",
        ),
        Item(
            "pupils",
            "Pupils imported from the MIS",
            bool(pupils),
            f"{pupils} pupils on the roll." if pupils else "No pupils yet.",
            reverse("pupil_import"),
            "Import pupils",
        ),
        Item(
            "texts",
            "Text-message provider connected",
            sms_done,
            "Texts go through the provider."
            if sms_done
            else "Texts are only printed (SMS_BACKEND is a development "
            "backend): staff would never receive an overdue alert. Ask IT to set SMS_BACKEND.",
            reverse("setup") + "#texts",
            "What to set",
        ),
    ]


def schools_to_set_up(user):
    """The schools whose checklist this user keeps: where they are the Principal or a trust admin."""
    if user.is_superuser:
        return School.objects.all()
    return School.objects.filter(pk__in=schools_where(user, Role.PRINCIPAL, Role.TRUST_ADMIN))


def may_confirm(user, school, item: str) -> bool:
    if item == SetupConfirmation.Item.NO_PROHIBITED:
        return user.is_superuser or has_role(user, Role.DSL, Role.PRINCIPAL, school=school)
    return user.is_superuser or has_role(user, Role.PRINCIPAL, Role.TRUST_ADMIN, school=school)
