"""Factories for the test cast. Fictional names only; phone numbers from Ofcom's London drama range (020 7946 0xxx)."""

import datetime

import factory
from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone

from core.memberships import SYSTEM, membership_grant
from core.models import Authorisers, EscalationAction, EscalationStep, HomeVisitPolicy, School, StaffProfile, Trust
from core.roles import Role, has_role
from core.selectors import schools_of, users_with_role
from families.models import Child, Household, ParentCarer
from safeguarding.selectors import current_risk_assessment, risk_rows_to_start_from
from safeguarding.services import RiskRowInput, risk_assessment_create
from visits.after.services import report_review, report_submit
from visits.departure.services import safe_word_set, visit_inform_headteacher
from visits.field.services import visit_check_in
from visits.models import (
    AuthorisationDecision,
    CheckIn,
    CheckInKind,
    Decision,
    ParentNotification,
    PresentPerson,
    Purpose,
    SafeWord,
    Visit,
    VisitPerson,
    VisitPreparation,
    VisitReport,
    VisitRole,
    VisitTransition,
    VisitUserObjectPermission,
)
from visits.requests import policy
from visits.requests.policy import decision_refusal
from visits.requests.services import (
    Visitor,
    parent_notification_record,
    visit_create,
    visit_decide,
    visit_submit,
    visit_update,
)


def tomorrow_at(hour: int, minute: int = 0) -> datetime.datetime:
    """Tomorrow at this time in the school's zone (Europe/London)."""
    day = timezone.localdate() + datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


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


# Before any day a test travels to: the cast hold their roles throughout.
MEMBER_SINCE = datetime.date(2020, 9, 1)


def grant(user, school: School, role: str, *, starts_on=MEMBER_SINCE, ends_on=None):
    """A membership through the real verb (as set-up, not as any person)."""
    return membership_grant(actor=SYSTEM, user=user, school=school, role=role, starts_on=starts_on, ends_on=ends_on)


def make_member(username: str, school: School | list[School], *roles: str, **profile) -> object:
    """A user with a profile, holding each of the given roles at each of the given school(s) since MEMBER_SINCE."""
    user = UserFactory(username=username)
    schools = school if isinstance(school, list) else [school]
    for each in schools:
        for role in roles:
            grant(user, each, role)
    defaults = dict(
        job_title="Teacher",
        mobile="020 7946 0123",
        business_insurance_confirmed=True,  # the car on a visit is the lead's unless a test says otherwise
        training_completed_on=timezone.localdate() - datetime.timedelta(days=100),
        training_expires_on=timezone.localdate() + datetime.timedelta(days=600),
    )
    defaults.update(profile)
    StaffProfile.objects.create(user=user, **defaults)
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
    """A draft visit through the real service, led by `lead` (with `second` if given) for `child`; by default
    tomorrow at 10:00, inside every school's visiting hours."""
    child = child or ChildFactory(household__school=schools_of(lead).first())
    start = start or tomorrow_at(10)
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


def visit_to(household, *, lead, second=None, **fields):
    """A draft visit to this household (for one new child of it): what opens the family's records to the
    staff on it (families/access.py)."""
    return make_visit(lead=lead, second=second, child=ChildFactory(household=household), **fields)


# --- A visit taken along its life through the public verbs, as the people involved would -------------------

PATH = ["draft", "requested", "authorised", "out", "on_site", "left", "returned", "reported", "reviewed"]
EXCEPTION_REASON = "Agreed with the Principal beforehand: the family can only meet then."
# What a decider says when approving a pair of whom nobody works with the family yet (kept only when it applies).
PAIR_REASON = "The family asked for these two: they met them at the summer fair."


def _deciders(visit):
    """Who decides this request: the school's Principals first, then its DSLs (whoever the policy allows)."""
    users = users_with_role(school=visit.school, roles=[Role.PRINCIPAL, Role.DSL])
    return sorted(users, key=lambda u: (not has_role(u, Role.PRINCIPAL, school=visit.school), u.pk))


def authoriser_for(visit):
    """A DSL or the Principal who may approve this visit (not on it, and the Principal for its exceptions)."""
    for user in _deciders(visit):
        if not decision_refusal(user, visit, approving=True):
            return user
    raise AssertionError(f"Nobody at {visit.school} may approve visit {visit.pk}: add a DSL or the Principal.")


def _ready_to_submit(visit, now):
    """What a requester would add to a draft before sending it: a second visitor (an external practitioner if
    the test named no colleague), the lead's mobile, and the reason for any Principal's exception."""

    changes = {}
    people = list(visit.people.all())
    if len(people) < 2:
        changes["people"] = [
            *(
                Visitor(
                    role=p.role,
                    user=p.user,
                    external_name=p.external_name,
                    external_organisation=p.external_organisation,
                    external_phone=str(p.external_phone or ""),
                )
                for p in people
            ),
            Visitor(role=VisitRole.EXTERNAL, external_name="Dr Ilse Marrow", external_organisation="Eastbridge EPS"),
        ]
    lead = next(p.user for p in people if p.role == VisitRole.LEAD)
    if not visit.lead_mobile:
        changes["lead_mobile"] = str(lead.profile.mobile)
    codes = {e.code for e in policy.principal_exceptions(visit, visit.school.policy())}
    if codes & {policy.EVENING, policy.LONG} and not visit.principal_exception_reason:
        changes["principal_exception_reason"] = EXCEPTION_REASON
    if changes:
        visit_update(visit=visit, actor=visit.requested_by, now=now, **changes)
        visit.refresh_from_db()


def walk_visit(visit, actor, to_status, *, times=None):
    """Move a visit along its life, one step at a time, through the verbs the product offers for each step: the
    requester submits, a DSL or the Principal decides, the pair prepare and check in, the lead writes the form
    and a DSL signs it off. `actor` is the lead. `times` (status -> when) lets a data set replay a past visit;
    otherwise each step happens now."""

    # A pair may check out only on the planned day, from shortly before the planned start: a visit planned for
    # another day is walked out (and on) at its planned times, as it would be on the day.
    on_the_day = {
        "out": visit.scheduled_start,
        "on_site": visit.scheduled_start + datetime.timedelta(minutes=10),
        "left": visit.scheduled_start + datetime.timedelta(minutes=20),
        "returned": visit.scheduled_start + datetime.timedelta(minutes=30),
    }
    planned_today = timezone.localdate(visit.scheduled_start) == timezone.localdate()

    def at(status):
        given = (times or {}).get(status)
        if given:
            return given
        if status in on_the_day and not planned_today:
            return on_the_day[status]
        return timezone.now()

    steps = PATH[PATH.index(visit.status) + 1 : PATH.index(to_status) + 1]
    for status in steps:
        now = at(status)
        if status == "requested":
            _ready_to_submit(visit, now)
            visit_submit(visit=visit, actor=visit.requested_by, now=now)
        elif status == "authorised":
            visit_decide(
                visit=visit,
                actor=authoriser_for(visit),
                decision=Decision.APPROVED,
                unfamiliar_pair_reason=PAIR_REASON,
                now=now,
            )
        elif status == "out":
            prepare_for_departure(visit, actor, now=now)
            visit_check_in(visit=visit, actor=actor, kind=CheckInKind.CHECKED_OUT, now=now)
        elif status == "on_site":
            visit_check_in(visit=visit, actor=actor, kind=CheckInKind.ARRIVED, now=now)
        elif status == "left":
            visit_check_in(visit=visit, actor=actor, kind=CheckInKind.LEFT, now=now)
        elif status == "returned":
            visit_check_in(visit=visit, actor=actor, kind=CheckInKind.RETURNED, now=now)
        elif status == "reported":
            fields = dict(outcome="seen", child_seen=True, parent_summary="Talked about mornings.", staff_went_in=False)
            present = [{"name": "Rowan Pellingham", "relationship": "mother", "parental_responsibility": True}]
            report_submit(visit=visit, actor=actor, fields=fields, present=present, actions=[], now=now)
        elif status == "reviewed":
            report = VisitReport.objects.get(visit=visit)
            report_review(report=report, actor=authoriser_for_review(visit), now=now)
        visit.refresh_from_db()
    return visit


def authoriser_for_review(visit):
    """A DSL or the Principal of the school signs the form off (preferring one who was not on the visit)."""
    on_visit = {p.user_id for p in visit.people.all()}
    deciders = _deciders(visit)
    return next((u for u in deciders if u.pk not in on_visit), deciders[0])


def make_reported_visit(
    *, lead, summary="We talked about mornings and agreed a plan.", actions=(), present=None, **report_fields
):
    """A visit returned and reported by `lead`, with a submitted Home Visit Form."""
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
    # Written half an hour after they came back (a visit planned for another day came back on that day).
    back = visit.transitions.filter(to_status="returned").latest("at").at
    report_submit(
        visit=visit,
        actor=lead,
        fields=fields,
        present=present,
        actions=list(actions),
        now=back + datetime.timedelta(minutes=30),
    )
    visit.refresh_from_db()
    return visit


def make_authorised_visit(*, lead, second, authoriser, start=None, minutes=30, **fields):
    """A visit by a pair, with the lead's mobile and vehicle, submitted and approved by `authoriser`, with the
    pre-departure checklist met: ready to check out."""

    fields.setdefault("lead_mobile", "020 7946 0456")
    fields.setdefault("vehicle", "Blue hatchback EB12 ABC")
    visit = make_visit(lead=lead, second=second, start=start, minutes=minutes, **fields)
    _ready_to_submit(visit, None)
    visit_submit(visit=visit, actor=lead)
    visit_decide(visit=visit, actor=authoriser, decision=Decision.APPROVED, unfamiliar_pair_reason=PAIR_REASON)
    visit.refresh_from_db()
    prepare_for_departure(visit, lead)
    return visit


def _headteacher_told(visit) -> bool:
    return VisitPreparation.objects.filter(visit=visit, headteacher_informed_at__isnull=False).exists()


def prepare_for_departure(visit, lead, *, now=None):
    """Meet the pre-departure checklist as staff would: a current risk assessment, the family told (announced
    visits) or the Headteacher told (unannounced), and a safe word agreed."""

    now = now or timezone.now()
    if current_risk_assessment(household=visit.household) is None:
        rows = [RiskRowInput(**row) for row in risk_rows_to_start_from(school=visit.school)]
        risk_assessment_create(household=visit.household, actor=lead, rows=rows, assessed_on=timezone.localdate(now))
    if visit.announced and not visit.parent_notifications.exists():
        parent_notification_record(visit=visit, actor=lead, method="phone", notified_at=now, response="agreed", now=now)
    elif not visit.announced and not _headteacher_told(visit):
        visit_inform_headteacher(visit=visit, actor=lead, now=now)
    if not SafeWord.objects.filter(visit=visit).exists():
        safe_word_set(visit=visit, word="Blue umbrella", actor=lead, now=now)
    return visit


# --- Many visits at once, for query-count tests and the dashboard benchmark ----------------------------------


def bulk_visits(*, lead, n, status, start, school=None, child=None, purpose=Purpose.ATTENDANCE, step_minutes=0):
    """`n` visits in `status` led by `lead`, `step_minutes` apart: one is taken there through the verbs (on its
    own schedule: asked for two days before, decided the day before, out 10 minutes before the start, back 50
    minutes after it, the form an hour later), then copied in bulk with all it gathered on the way (people,
    children, timeline, decision, check-ins, form, grants), its times shifted. The copies share the lead's
    time, which the product would refuse for a second booking: they are for data sets too large to build one
    by one (query counts, benchmarks), never for rules about clashes. The audit trail is not copied."""

    school = school or schools_of(lead).first()
    child = child or ChildFactory(household__school=school)
    minute = datetime.timedelta(minutes=1)
    now = timezone.now()
    schedule = {
        "requested": start - datetime.timedelta(days=1),
        "authorised": start - datetime.timedelta(days=1) + 60 * minute,
        "out": start - 10 * minute,
        "on_site": start,
        "left": start + 30 * minute,
        "returned": start + 50 * minute,
        "reported": start + 110 * minute,
        "reviewed": start + 170 * minute,
    }
    times = {status_: min(when, now) for status_, when in schedule.items()}
    created = min(start - datetime.timedelta(days=2), now)
    template = make_visit(lead=lead, child=child, start=start, purpose=purpose, now=created)
    walk_visit(template, lead, status, times=times)
    return [template, *_copies(template, n - 1, datetime.timedelta(minutes=step_minutes))]


def _copies(template, n, step):
    """`n` copies of a visit and every row that hangs off it, the i-th copy's times moved by i x step."""

    if n <= 0:
        return []

    def copy(obj, shift, **changes):
        clone = type(obj)(**{f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields})
        clone.pk = None
        for field in obj._meta.concrete_fields:
            value = getattr(clone, field.attname)
            if isinstance(field, models.DateTimeField) and value is not None:
                setattr(clone, field.attname, value + shift)
        for name, value in changes.items():
            setattr(clone, name, value)
        return clone

    template = Visit.objects.get(pk=template.pk)
    visits = Visit.objects.bulk_create([copy(template, step * (i + 1)) for i in range(n)], batch_size=1000)
    children = list(template.children.values_list("pk", flat=True))
    Visit.children.through.objects.bulk_create(
        [Visit.children.through(visit_id=v.pk, child_id=c) for v in visits for c in children], batch_size=1000
    )
    for model in (
        VisitPerson,
        VisitTransition,
        AuthorisationDecision,
        ParentNotification,
        CheckIn,
        VisitPreparation,
        SafeWord,
    ):
        rows = list(model.objects.filter(visit=template))
        model.objects.bulk_create(
            [copy(row, step * (i + 1), visit_id=v.pk) for i, v in enumerate(visits) for row in rows], batch_size=1000
        )
    grants = list(VisitUserObjectPermission.objects.filter(content_object=template))
    VisitUserObjectPermission.objects.bulk_create(
        [copy(g, step * (i + 1), content_object_id=v.pk) for i, v in enumerate(visits) for g in grants],
        batch_size=1000,
    )
    report = VisitReport.objects.filter(visit=template).first()
    if report is not None:
        present = list(report.present.all())
        reports = VisitReport.objects.bulk_create(
            [copy(report, step * (i + 1), visit_id=v.pk) for i, v in enumerate(visits)], batch_size=1000
        )
        PresentPerson.objects.bulk_create(
            [copy(p, step * (i + 1), report_id=r.pk) for i, r in enumerate(reports) for p in present], batch_size=1000
        )
    return visits


def sign_in(client, user):
    """Log in and make one request: the session and the signed-in user are then in the cache, as on every later
    request, so query counts taken next compare like with like."""
    client.force_login(user)
    client.get("/")
