"""`manage.py seed_demo`: fictional, valid, complete enough to demo every screen, and safe to run twice."""

import datetime
import io
import zoneinfo

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from core.models import Authorisers, School, Trust
from core.roles import Role, user_roles
from families.models import Child, Household, ParentCarer, YearGroup
from tests.helpers import totp_code
from visits.demo.cast import DEMO_TOTP_SECRET
from visits.lifecycle import ALLOWED
from visits.models import Visit, VisitPerson, VisitStatus

PASSWORD = "demo-password"
LONDON = zoneinfo.ZoneInfo("Europe/London")
SCHOOL_ROLES = {
    "dsl": Role.DSL,
    "principal": Role.PRINCIPAL,
    "office": Role.OFFICE,
    **{f"staff{n}": Role.STAFF for n in range(1, 7)},
}
EXPECTED_USERS = {
    **{f"{school}-{key}": role for school in ("oakfield", "riverside") for key, role in SCHOOL_ROLES.items()},
    "trust-admin": Role.TRUST_ADMIN,
}
# Real people named in the seed policies: none of them may appear in the product.
REAL_NAMES = ["Ann Probert", "Bethany Kershaw", "James Kearns", "Ruth Holden", "Josephine Okokon"]


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


# The seed takes several seconds, so it runs once for the module, in a transaction rolled back at the end;
# each test runs in a savepoint inside it (pytest-django's db fixture), so none sees another's changes.
pytestmark = pytest.mark.xdist_group("seed_demo")


@pytest.fixture(scope="module")
def seeded_once(django_db_setup, django_db_blocker):
    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])  # as every test
    # Today's visits follow the clock (test_demo_clock.py): loaded mid-morning, they all sit in visiting hours.
    mid_morning = datetime.datetime.combine(timezone.localdate(), datetime.time(11, 5), tzinfo=LONDON)
    with django_db_blocker.unblock(), transaction.atomic(), fast:
        with time_machine.travel(mid_morning, tick=True):
            output = seed()
        yield output
        transaction.set_rollback(True)


@pytest.fixture
def seeded(seeded_once, db):
    return seeded_once


def counts() -> dict[str, int]:
    models = [
        *apps.get_app_config("core").get_models(),
        *apps.get_app_config("families").get_models(),
        *apps.get_app_config("safeguarding").get_models(),
        *apps.get_app_config("visits").get_models(),
        get_user_model(),
        Group,
    ]
    return {model._meta.label: model.objects.count() for model in models}


def test_two_schools_work_to_different_policies(seeded):
    oakfield, riverside = School.objects.get(slug="oakfield"), School.objects.get(slug="riverside")
    assert oakfield.trust == riverside.trust == Trust.objects.get(slug="brookvale")
    oak, river = oakfield.policy(), riverside.policy()

    assert (oak.max_visit_minutes, oak.authorisers, oak.latest_start) == (
        30,
        Authorisers.PRINCIPAL_ONLY,
        datetime.time(15, 30),
    )
    assert (river.max_visit_minutes, river.overdue_grace_minutes, river.report_due_hours, river.authorisers) == (
        45,
        10,
        48,
        Authorisers.DSL_OR_PRINCIPAL,
    )
    # What a school leaves empty it inherits from the trust, escalation chain included.
    assert oak.wait_if_late_minutes == river.wait_if_late_minutes == 10
    assert oak.earliest_start == river.earliest_start == datetime.time(8, 30)
    assert [s.delay_minutes for s in oak.escalation_steps] == [0, 15, 30]
    assert [s.delay_minutes for s in river.escalation_steps] == [0, 10, 20]
    assert "demo-password" in seeded and "oakfield-dsl" in seeded


def test_every_user_has_their_role_and_logs_in_with_the_demo_password(seeded):
    users = {u.username: u for u in get_user_model().objects.prefetch_related("groups", "memberships__school")}
    assert set(users) == set(EXPECTED_USERS)
    for username, role in EXPECTED_USERS.items():
        user = users[username]
        assert {m.role for m in user.memberships.all()} == {role}, username
        assert user_roles(user) == {role}, username
        # Groups only carry the admin's model permissions, for trust admins.
        assert [g.name for g in user.groups.all()] == ([role] if role == Role.TRUST_ADMIN else []), username
        assert user.check_password(PASSWORD), username
        has_app = Authenticator.objects.filter(user=user, type="totp").exists()
        assert has_app == (role in settings.SECOND_FACTOR_ROLES), username
        expected_schools = {"oakfield", "riverside"} if role == Role.TRUST_ADMIN else {username.split("-")[0]}
        assert {m.school.slug for m in user.memberships.all()} == expected_schools, username

    # The trust admin manages records in the admin but only reads the audit trail.
    admin = users["trust-admin"]
    assert admin.is_staff and not admin.is_superuser
    assert admin.has_perm("families.change_household") and admin.has_perm("core.add_staffprofile")
    assert admin.has_perm("core.view_auditentry")
    assert not admin.has_perm("core.change_auditentry")
    assert not admin.has_perm("visits.delete_visit")
    assert not users["oakfield-dsl"].is_staff

    # Training: one lapsed and one running out within 30 days at each school.
    today = timezone.localdate()
    for school in ("oakfield", "riverside"):
        profiles = [u.profile for u in get_user_model().objects.filter(username__startswith=f"{school}-")]
        expired = [p for p in profiles if not p.training_valid_on(today)]
        expiring = [
            p
            for p in profiles
            if p.training_valid_on(today) and not p.training_valid_on(today + datetime.timedelta(days=30))
        ]
        assert len(expired) == 1 and len(expiring) == 1, school
        assert any(p.vehicle_registration and p.business_insurance_confirmed for p in profiles)


def test_families_and_children_of_the_right_age_at_their_own_school(seeded):
    assert Household.objects.count() == 30
    assert 45 <= Child.objects.count() <= 55
    for school in School.objects.all():
        assert school.households.count() == 15
    for child in Child.objects.select_related("household"):
        assert child.household.school_id == child.school_id
    for household in Household.objects.prefetch_related("carers"):
        assert 1 <= household.carers.count() <= 2
    assert ParentCarer.objects.filter(literacy_support_needed=True).exists()
    assert Household.objects.filter(interpreter_needed=True).exists()
    assert Household.objects.exclude(access_notes="").exists()
    assert Child.objects.exclude(social_worker_name="").exists()
    # Carers are addressed by their own names, which are not always the child's.
    surnames: dict[int, set[str]] = {}
    for child in Child.objects.all():
        surnames.setdefault(child.household_id, set()).add(child.last_name)
    assert any(c.last_name not in surnames[c.household_id] for c in ParentCarer.objects.all())

    # Year groups run from 1 September: a Year 1 child is 5 at its start, Nursery 3, Reception 4.
    today = timezone.localdate()
    september = datetime.date(today.year if today.month >= 9 else today.year - 1, 9, 1)
    primary_years = {YearGroup.NURSERY, YearGroup.RECEPTION, *(str(n) for n in range(1, 7))}
    for child in Child.objects.select_related("school"):
        dob, year = child.date_of_birth, child.year_group
        age_in_september = september.year - dob.year - ((september.month, september.day) < (dob.month, dob.day))
        expected = {YearGroup.NURSERY: 3, YearGroup.RECEPTION: 4}[year] if not year.isdigit() else int(year) + 4
        assert age_in_september == expected, child
        assert (year in primary_years) == (child.school.slug == "oakfield"), child


def test_visits_reach_every_state_at_both_schools_along_the_allowed_life(seeded):
    today = timezone.localdate()
    for school in School.objects.all():
        visits = school.visits.all()
        assert set(visits.values_list("status", flat=True)) == set(VisitStatus.values), school
        today_states = {v.status for v in visits if v.local_start.date() == today}
        assert {"authorised", "out", "on_site", "left", "returned"} <= today_states, school
        assert visits.filter(announced=False).exclude(unannounced_reason="").exists()

        policy = school.policy()
        for visit in visits.prefetch_related("transitions", "people"):
            start = visit.local_start
            assert policy.earliest_start <= start.time() <= policy.latest_start, visit
            assert visit.expected_duration_minutes <= policy.max_visit_minutes
            assert visit.expected_return >= visit.scheduled_start + datetime.timedelta(
                minutes=visit.expected_duration_minutes
            )
            assert sum(p.role == "lead" for p in visit.people.all()) == 1
            assert len(visit.people.all()) >= 2

            steps = list(visit.transitions.order_by("id"))
            assert [s.at for s in steps] == sorted(s.at for s in steps), visit
            assert steps[0].to_status == VisitStatus.DRAFT and steps[-1].to_status == visit.status
            for before, after in zip(steps, steps[1:], strict=False):
                assert after.from_status == before.to_status
                assert after.to_status in ALLOWED[before.to_status]
            if start.date() < today:
                assert steps[-1].at <= timezone.now()
    assert VisitPerson.objects.filter(role="external").exists()
    assert len(set(Visit.objects.values_list("purpose", flat=True))) >= 10


def test_the_data_is_fictional_so_nobody_real_is_rung_or_visited(seeded):
    phones = [
        getattr(obj, field.name)
        for label in ["core", "families", "safeguarding", "visits"]
        for model in apps.get_app_config(label).get_models()
        for field in model._meta.fields
        if isinstance(field, PhoneNumberField)
        for obj in model.objects.all()
    ]
    assert phones and all(p.as_e164.startswith("+441134960") for p in phones if p)  # Ofcom's drama range
    postcodes = [
        *Household.objects.values_list("postcode", flat=True),
        *School.objects.values_list("postcode", flat=True),
    ]
    assert all(p.startswith("BV") for p in postcodes)  # a postcode area that does not exist
    people = [
        *(f"{u.first_name} {u.last_name}" for u in get_user_model().objects.all()),
        *(f"{c.first_name} {c.last_name}" for c in ParentCarer.objects.all()),
        *(f"{c.first_name} {c.last_name}" for c in Child.objects.all()),
        *Child.objects.values_list("social_worker_name", flat=True),
        *VisitPerson.objects.values_list("external_name", flat=True),
    ]
    for real in REAL_NAMES:
        first, last = real.split()
        assert not any(last in name for name in people), real
        assert real not in people


def test_running_it_again_changes_nothing(seeded):
    before = counts()
    output = seed()
    assert counts() == before
    assert "already present" in output
    assert "riverside-staff6" in output  # still prints the log-ins


def test_it_refuses_to_run_in_production(db, settings):
    settings.PRODUCTION = True
    before = counts()
    with pytest.raises(CommandError, match="production"):
        seed()
    assert counts() == before  # nothing loaded (the module's own seed, if it ran first, is all there is)


def test_the_demo_dsl_signs_in_with_the_readmes_password_and_authenticator_code(seeded):
    client = Client()
    response = client.post("/accounts/login/", {"login": "oakfield-dsl", "password": PASSWORD})
    assert response.status_code == 302 and response.url == "/accounts/2fa/authenticate/"
    response = client.post("/accounts/2fa/authenticate/", {"code": totp_code(DEMO_TOTP_SECRET)})
    assert response.status_code == 302
    client.post("/accounts/2fa/trust/", {"action": "skip"})
    assert client.get("/dashboard/").status_code == 200


def test_demo_staff_see_the_families_of_their_open_visits_and_no_others(seeded):
    """The walkthrough: each visiting member of staff can open the households they are to visit, and only those."""
    from families.access import may_see_family, visible_households
    from visits.lifecycle import OPEN_FOR_FAMILY

    User = get_user_model()
    seen_any = False
    for user in User.objects.filter(username__in=[f"oakfield-staff{n}" for n in range(1, 7)]):
        mine = set(
            Visit.objects.filter(status__in=OPEN_FOR_FAMILY, people__user=user, people__role__in=["lead", "second"])
            .values_list("household_id", flat=True)
            .union(
                Visit.objects.filter(status__in=OPEN_FOR_FAMILY, requested_by=user).values_list(
                    "household_id", flat=True
                )
            )
        )
        assert set(visible_households(user).values_list("pk", flat=True)) == mine, user
        seen_any = seen_any or bool(mine)
        other = Household.objects.filter(school__slug="oakfield").exclude(pk__in=mine).first()
        assert other is not None and not may_see_family(user, other)
    assert seen_any, "no demo member of staff is on an open visit: the walkthrough would show no family"
