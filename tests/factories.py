"""Factories for the test cast. Fictional names only; phone numbers from Ofcom's London drama range (020 7946 0xxx)."""

import datetime

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from core.models import Authorisers, EscalationAction, EscalationStep, HomeVisitPolicy, School, StaffProfile, Trust
from families.models import Child, Household, ParentCarer
from visits.models import Purpose, VisitRole
from visits.requests.services import Visitor, visit_create


class TrustFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Trust
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Test Trust {n}")
    slug = factory.Sequence(lambda n: f"test-trust-{n}")


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    trust = factory.SubFactory(TrustFactory)
    name = factory.Sequence(lambda n: f"Test School {n}")
    slug = factory.Sequence(lambda n: f"test-school-{n}")
    address_line1 = "1 Chestnut Row"
    town = "Eastbridge"
    postcode = "EB1 2AB"
    phone = "020 7946 0001"


def trust_default_policy(trust: Trust, **values) -> HomeVisitPolicy:
    """The trust-wide policy with the seed policies' numbers and the default escalation chain."""
    defaults = dict(
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
    defaults.update(values)
    policy, created = HomeVisitPolicy.objects.get_or_create(trust=trust, school=None, defaults=defaults)
    if created:
        for order, (action, delay) in enumerate(
            [(EscalationAction.RING_LEAD, 0), (EscalationAction.ALERT_SENIOR, 15), (EscalationAction.POLICE_PROMPT, 30)]
        ):
            EscalationStep.objects.create(policy=policy, order=order, action=action, delay_minutes=delay)
    return policy


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Iterator(["Asha", "Tomasz", "Grace", "Idris", "Mei", "Callum", "Zainab", "Rhys"])
    last_name = factory.Iterator(["Fennimore", "Quillfield", "Ashdown", "Brackwell", "Lorrimer", "Tansey"])
    password = factory.django.Password("test-password")


def make_member(username: str, school: School | list[School], *roles: str, **profile) -> object:
    """A user with a profile at the given school(s) and the given role groups."""
    user = UserFactory(username=username)
    for role in roles:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    schools = school if isinstance(school, list) else [school]
    defaults = dict(
        job_title="Teacher",
        mobile="020 7946 0123",
        training_completed_on=timezone.localdate() - datetime.timedelta(days=100),
        training_expires_on=timezone.localdate() + datetime.timedelta(days=600),
    )
    defaults.update(profile)
    staff_profile = StaffProfile.objects.create(user=user, **defaults)
    staff_profile.schools.set(schools)
    return user


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    school = factory.SubFactory(SchoolFactory)
    name = factory.Sequence(lambda n: f"Household {n}")
    address_line1 = factory.Sequence(lambda n: f"{n + 1} Willow Lane")
    town = "Eastbridge"
    postcode = "EB2 3CD"


class ParentCarerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ParentCarer

    household = factory.SubFactory(HouseholdFactory)
    title = "Ms"
    first_name = "Rowan"
    last_name = "Pellingham"
    relationship = "mother"


class ChildFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Child

    household = factory.SubFactory(HouseholdFactory)
    school = factory.SelfAttribute("household.school")
    first_name = factory.Iterator(["Ellis", "Noor", "Kit", "Amara", "Jonah", "Safiya"])
    last_name = factory.Sequence(lambda n: f"Childsurname{n}")
    date_of_birth = datetime.date(2017, 3, 14)
    year_group = "3"


def make_visit(*, lead, second=None, child=None, start=None, minutes=30, **fields):
    """A draft visit through the real service, led by `lead` (with `second` if given) for `child`."""
    child = child or ChildFactory(household__school=lead.profile.schools.first())
    start = start or timezone.now().replace(microsecond=0) + datetime.timedelta(days=1)
    people = [Visitor(role=VisitRole.LEAD, user=lead)]
    if second is not None:
        people.append(Visitor(role=VisitRole.SECOND, user=second))
    values = dict(
        requested_by=lead,
        school=child.school,
        household=child.household,
        children=[child],
        people=people,
        purpose=Purpose.ATTENDANCE,
        reason="Absent for five days without contact.",
        outcome_wanted="See the child and agree a return date.",
        scheduled_start=start,
        expected_duration_minutes=minutes,
        expected_return=start + datetime.timedelta(minutes=minutes + 20),
    )
    values.update(fields)
    return visit_create(**values)


# --- Issue 6: a visit taken through its life to "returned", and a submitted Home Visit Form ------------------


def walk_visit(visit, actor, to_status):
    """Move a visit along its life one allowed step at a time, through the real service."""
    from visits.models import VisitStatus as S
    from visits.services import visit_transition

    path = [S.DRAFT, S.REQUESTED, S.AUTHORISED, S.OUT, S.ON_SITE, S.LEFT, S.RETURNED, S.REPORTED, S.REVIEWED]
    for status in path[path.index(visit.status) + 1 : path.index(to_status) + 1]:
        visit_transition(visit=visit, to_status=status, actor=actor)
    return visit


def make_reported_visit(
    *, lead, summary="We talked about mornings and agreed a plan.", actions=(), present=None, **report_fields
):
    """A visit returned and reported by `lead`, with a submitted Home Visit Form."""
    from visits.after.services import report_submit

    visit = make_visit(lead=lead, **report_fields.pop("visit_fields", {}))
    walk_visit(visit, lead, "returned")
    fields = dict(
        outcome="seen", child_seen=True, parent_summary=summary, staff_went_in=False, internal_notes="", referrals=""
    )
    fields.update(report_fields)
    present = (
        present
        if present is not None
        else [{"name": "Rowan Pellingham", "relationship": "mother", "parental_responsibility": True}]
    )
    report_submit(visit=visit, actor=lead, fields=fields, present=present, actions=list(actions))
    visit.refresh_from_db()
    return visit


def make_authorised_visit(*, lead, second, authoriser, start=None, minutes=30, **fields):
    """A visit by a pair, with the lead's mobile and vehicle, moved to authorised: ready to check out."""
    from visits.models import VisitStatus
    from visits.services import visit_transition

    fields.setdefault("lead_mobile", "020 7946 0456")
    fields.setdefault("vehicle", "Blue hatchback EB12 ABC")
    visit = make_visit(lead=lead, second=second, start=start, minutes=minutes, **fields)
    visit_transition(visit=visit, to_status=VisitStatus.REQUESTED, actor=lead)
    visit_transition(visit=visit, to_status=VisitStatus.AUTHORISED, actor=authoriser)
    prepare_for_departure(visit, lead)
    return visit


def prepare_for_departure(visit, lead):
    """Meet the pre-departure checklist as staff would: a current risk assessment, the family told (announced
    visits) and a safe word agreed."""
    from django.utils import timezone

    from safeguarding.services import (
        RiskRowInput,
        current_risk_assessment,
        risk_assessment_create,
        risk_rows_to_start_from,
    )
    from visits.departure.services import safe_word_set
    from visits.requests.services import parent_notification_record

    if current_risk_assessment(visit.household) is None:
        rows = [RiskRowInput(**row) for row in risk_rows_to_start_from(visit.school)]
        risk_assessment_create(household=visit.household, actor=lead, rows=rows)
    if visit.announced:
        parent_notification_record(
            visit=visit, actor=lead, method="phone", notified_at=timezone.now(), response="agreed"
        )
    safe_word_set(visit=visit, word="Blue umbrella", actor=lead)
    return visit


# --- Issue 7: many visits at once, for query-count tests and the dashboard benchmark -------------------------


def bulk_visits(
    *,
    lead,
    n,
    status,
    start,
    school=None,
    child=None,
    purpose=Purpose.ATTENDANCE,
    step_minutes=0,
    report_outcome="",
    report_due_hours=24,
):
    """`n` visits in `status` led by `lead`, inserted in bulk (no services, no audit, no guardian grants): a
    quick way to make a data set large; use make_visit/walk_visit where the life of a visit matters."""
    from visits.models import Visit, VisitPerson, VisitReport, VisitStatus, VisitTransition

    school = school or lead.profile.schools.first()
    child = child or ChildFactory(household__school=school)
    visits = Visit.objects.bulk_create(
        [
            Visit(
                school=school,
                household=child.household,
                purpose=purpose,
                reason="Bulk test visit.",
                outcome_wanted="See the child.",
                scheduled_start=start + datetime.timedelta(minutes=i * step_minutes),
                expected_duration_minutes=30,
                expected_return=start + datetime.timedelta(minutes=i * step_minutes + 50),
                status=status,
                submitted_at=start - datetime.timedelta(days=1),
                requested_by=lead,
            )
            for i in range(n)
        ],
        batch_size=1000,
    )
    if not visits or visits[0].pk is None:  # backends that cannot return ids from a bulk insert
        visits = list(Visit.objects.filter(school=school, requested_by=lead).order_by("-pk")[:n])
    VisitPerson.objects.bulk_create([VisitPerson(visit=v, role="lead", user=lead) for v in visits], batch_size=1000)
    Visit.children.through.objects.bulk_create(
        [Visit.children.through(visit_id=v.pk, child_id=child.pk) for v in visits], batch_size=1000
    )
    if status in (VisitStatus.RETURNED, VisitStatus.REPORTED, VisitStatus.REVIEWED):
        VisitTransition.objects.bulk_create(
            [
                VisitTransition(
                    visit=v,
                    from_status=VisitStatus.LEFT,
                    to_status=VisitStatus.RETURNED,
                    actor=lead,
                    at=v.expected_return,
                )
                for v in visits
            ],
            batch_size=1000,
        )
        VisitReport.objects.bulk_create(
            [
                VisitReport(
                    visit=v,
                    due_at=v.expected_return + datetime.timedelta(hours=report_due_hours),
                    outcome=report_outcome or ("seen" if status != VisitStatus.RETURNED else ""),
                    submitted_at=(v.expected_return + datetime.timedelta(hours=1))
                    if status != VisitStatus.RETURNED
                    else None,
                    submitted_by=lead if status != VisitStatus.RETURNED else None,
                    parent_summary="Talked about mornings." if status != VisitStatus.RETURNED else "",
                )
                for v in visits
            ],
            batch_size=1000,
        )
    return visits


def sign_in(client, user):
    """Log in and make one request: the session and the signed-in user are then in the cache, as on every later
    request, so query counts taken next compare like with like."""
    client.force_login(user)
    client.get("/")
