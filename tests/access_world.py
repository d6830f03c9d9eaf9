"""The world the access matrix (tests/test_access_matrix.py) asks every URL about: two schools of one trust with
every demo role (named as the demo names them), and records of each school made through the public verbs with a
unique marker in every sensitive field, so a page that shows something to the wrong person is caught by its text.

School A is Oakfield, B is Riverside. On A's records oakfield-staff1 is the lead (and requester) and
oakfield-staff2 the second; on B's, riverside-staff1 and riverside-staff2. Markers read MARKER-<school>-<what>.
"""

import dataclasses
import datetime
from dataclasses import dataclass, field

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from core import screens
from core.audit import audit
from core.models import AuditEntry, HomeVisitPolicy, Membership
from core.roles import Role
from core.staff_import import staff_import_prepare
from families.imports.services import pupil_import_prepare
from safeguarding.prohibited_csv import prohibited_import_prepare
from safeguarding.selectors import risk_rows_to_start_from
from safeguarding.services import RiskRowInput, prohibited_address_add, risk_assessment_create
from tests.factories import (
    PAIR_REASON,
    ChildFactory,
    HouseholdFactory,
    ParentCarerFactory,
    SchoolFactory,
    TrustFactory,
    authoriser_for,
    grant,
    make_member,
    make_visit,
    trust_default_policy,
    walk_visit,
)
from visits.after.services import incident_record, report_submit, visit_concern_raise
from visits.alerts.providers import ReceivedText
from visits.alerts.services import visit_raise_duress
from visits.demo.seed import Seeder
from visits.departure.services import safe_word_set, visit_record_social_worker
from visits.field.texts import inbound_text_receive
from visits.models import ChildFileTransfer, Decision, RetentionItem, SubjectAccessRequest, VisitReport
from visits.requests.services import parent_notification_record, visit_decide

MINUTE = datetime.timedelta(minutes=1)


@dataclass
class World:
    users: dict  # username -> user, every demo user
    objects: dict = field(default_factory=dict)  # name -> a planted record (the table's `obj`)
    extra: dict = field(default_factory=dict)  # other URL values (an enrolment code)


def _today_at(hour, minute=0):
    day = timezone.localdate()
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def _family(school, s: str):
    """A household of school `s` (a or b) with every family field marked."""
    up = s.upper()
    household = HouseholdFactory(
        school=school,
        name=f"MARKER-{up}-household-name",
        address_line1=f"MARKER-{up}-household-address",
        access_notes=f"MARKER-{up}-access-notes",
    )
    carer = ParentCarerFactory(household=household, last_name=f"MARKER-{up}-carer-surname")
    child = ChildFactory(
        household=household,
        first_name=f"MARKER-{up}-child-firstname",
        last_name=f"MARKER-{up}-child-surname",
        social_worker_name=f"MARKER-{up}-social-worker",
    )
    return household, carer, child


def _risk(household, actor, s: str):
    up = s.upper()
    rows = [RiskRowInput(**row) for row in risk_rows_to_start_from(school=household.school)]
    rows[0] = dataclasses.replace(rows[0], hazard=f"MARKER-{up}-risk-hazard")
    return risk_assessment_create(
        household=household,
        actor=actor,
        rows=rows,
        assessed_on=timezone.localdate(),
        vulnerable_persons=f"MARKER-{up}-risk-vulnerable",
    )


def _reported(lead, second, child, s: str, what: str):
    """A visit reported by its lead (tomorrow, as the factories plan it), its safe word and form marked."""
    up = s.upper()
    visit = make_visit(lead=lead, second=second, child=child, reason=f"MARKER-{up}-{what}-reason")
    walk_visit(visit, lead, "requested")
    conditions = f"MARKER-{up}-decision-conditions"
    visit_decide(
        visit=visit,
        actor=authoriser_for(visit),
        decision=Decision.APPROVED,
        conditions=conditions,
        unfamiliar_pair_reason=PAIR_REASON,
    )
    parent_notification_record(
        visit=visit,
        actor=lead,
        method="phone",
        notified_at=timezone.now(),
        response="agreed",
        note=f"MARKER-{up}-parent-note",
    )
    safe_word_set(visit=visit, word=f"MARKER-{up}-{what}-safe-word", actor=lead)
    visit_record_social_worker(visit=visit, actor=lead)  # the child has one (marked): told before they go
    walk_visit(visit, lead, "returned")
    back = visit.transitions.filter(to_status="returned").latest("at").at
    fields = dict(
        outcome="seen",
        child_seen=True,
        staff_went_in=False,
        parent_summary=f"MARKER-{up}-parent-summary",
        internal_notes=f"MARKER-{up}-internal-notes",
        referrals=f"MARKER-{up}-referrals",
    )
    present = [{"name": f"MARKER-{up}-present-name", "relationship": "mother", "parental_responsibility": True}]
    actions = [
        {
            "owner": lead,
            "description": f"MARKER-{up}-action-description",
            "due_on": timezone.localdate() + datetime.timedelta(days=7),
            "agreed_with_family": True,
        }
    ]
    report_submit(visit=visit, actor=lead, fields=fields, present=present, actions=actions, now=back + 30 * MINUTE)
    visit.refresh_from_db()
    return visit


def _out_today(lead, second, child, s: str, office):
    """A visit out now (checked out today), its safe word marked, with a duress alert the office raised."""
    up = s.upper()
    now = timezone.localtime()
    start = min(max(now.replace(second=0, microsecond=0), _today_at(10)), _today_at(14, 45))
    asked = start - datetime.timedelta(days=1)
    visit = make_visit(lead=lead, second=second, child=child, start=start, reason=f"MARKER-{up}-out-reason", now=asked)
    times = {"requested": asked + 5 * MINUTE, "authorised": asked + 60 * MINUTE}
    walk_visit(visit, lead, "authorised", times=times)
    safe_word_set(visit=visit, word=f"MARKER-{up}-out-safe-word", actor=lead, now=asked + 90 * MINUTE)
    visit_record_social_worker(visit=visit, actor=lead, now=asked + 90 * MINUTE)
    # Checked out shortly before the start (in the morning the clock has not got there yet: recorded ahead).
    walk_visit(visit, lead, "out", times={"out": start - 5 * MINUTE})
    alert = visit_raise_duress(visit=visit, actor=office, from_office=True, now=start)
    return visit, alert


def _visits_of_a(o, lead, second, child, office):
    """A's visits in each state a page acts on (made before the incident, which sends the risk assessment for
    review and so would stop anyone checking out)."""
    o["a_draft"] = make_visit(lead=lead, second=second, child=child, reason="MARKER-A-draft-reason")
    o["a_requested"] = requested = make_visit(
        lead=lead, second=second, child=child, reason="MARKER-A-requested-reason", minutes=25
    )
    walk_visit(requested, lead, "requested")
    o["a_returned"] = returned = make_visit(
        lead=lead,
        second=second,
        child=child,
        reason="MARKER-A-returned-reason",
        start=timezone.localtime() - datetime.timedelta(days=7),
        now=timezone.now() - datetime.timedelta(days=9),
    )
    past = returned.scheduled_start
    day = datetime.timedelta(days=1)
    walk_visit(returned, lead, "authorised", times={"requested": past - 2 * day, "authorised": past - day})
    visit_record_social_worker(visit=returned, actor=lead, now=past - day)
    walk_visit(returned, lead, "returned")
    o["a_out"], o["a_alert"] = _out_today(lead, second, child, "a", office)
    _texts(lead, o["a_out"])


def _texts(lead, visit):
    """Two texts from the lead's phone to A's number while A's visit is out: one not understood, and one with A's
    duress word (the office's log must show neither the word nor that text's words)."""
    HomeVisitPolicy.objects.create(trust=visit.school.trust, school=visit.school, duress_word="Markerword")
    lead.profile.mobile = "020 7946 0777"
    lead.profile.save()
    for n, body in enumerate(["MARKER-A-text-body", "MARKER-A-duress-text Markerword"]):
        received = ReceivedText("twilio", f"SMmatrix{n}", "+442079460777", body, timezone.now())
        inbound_text_receive(text=received)


# Every role of the demo (visits/demo/cast.py), named as there: the lead, the second and a colleague of each school.
SCHOOL_CAST = {
    "staff1": Role.STAFF,
    "staff2": Role.STAFF,
    "staff3": Role.STAFF,
    "dsl": Role.DSL,
    "principal": Role.PRINCIPAL,
    "office": Role.OFFICE,
}


def _cast():
    """Both schools of one trust, each with every role, and the trust admin of both, with the demo's admin
    permissions (the demo seed's own group for them)."""
    trust = TrustFactory(name="Brookvale Test Trust", slug="brookvale-matrix")
    trust_default_policy(trust)
    oak = SchoolFactory(trust=trust, name="Oakfield Test Primary", slug="oakfield")
    river = SchoolFactory(trust=trust, name="Riverside Test Academy", slug="riverside")
    seeder = Seeder()
    seeder._admin_group()
    users = {
        f"{school.slug}-{key}": make_member(f"{school.slug}-{key}", school, role)
        for school in (oak, river)
        for key, role in SCHOOL_CAST.items()
    }
    for username, user in users.items():  # an address each, so the emails a record sends can be read back
        user.email = f"{username}@example.org"
        user.save(update_fields=["email"])
    admin = users["trust-admin"] = make_member("trust-admin", [oak, river], Role.TRUST_ADMIN)
    admin.is_staff = True
    admin.save(update_fields=["is_staff"])
    admin.groups.add(seeder.admin_group)
    # Roles are per school: a DSL at one school who is visiting staff (on no visit) at the other, both ways round.
    for username, senior_at, staff_at in (("dsl-a-staff-b", oak, river), ("staff-a-dsl-b", river, oak)):
        users[username] = make_member(username, senior_at, Role.DSL)
        grant(users[username], staff_at, Role.STAFF)
    return users, oak, river


def build_world() -> World:
    """The cast, then the marked records. Built once per module (tests/test_access_matrix.py)."""
    users, oak, river = _cast()
    world = World(users=users)
    o = world.objects

    for s, school, prefix in (("a", oak, "oakfield"), ("b", river, "riverside")):
        up = s.upper()
        lead, second = users[f"{prefix}-staff1"], users[f"{prefix}-staff2"]
        dsl, office = users[f"{prefix}-dsl"], users[f"{prefix}-office"]
        household, carer, child = _family(school, s)
        o.update({f"{s}_household": household, f"{s}_carer": carer, f"{s}_child": child})
        o[f"{s}_risk"] = _risk(household, dsl, s)  # before any visit: staff not on one may not assess it
        o[f"{s}_reported"] = reported = _reported(lead, second, child, s, "reported")
        o[f"{s}_report"] = VisitReport.objects.get(visit=reported)
        o[f"{s}_action"] = reported.actions.get()
        if s == "a":
            _visits_of_a(o, lead, second, child, office)
        o[f"{s}_concern"] = visit_concern_raise(
            visit=reported,
            child=child,
            raised_by=lead,
            kind="concern",
            details=f"MARKER-{up}-concern-details",
            action_taken=f"MARKER-{up}-concern-action",
        )
        o[f"{s}_incident"] = incident_record(
            visit=reported,
            recorded_by=lead,
            kind="accusation",
            occurred_at=timezone.now() - 60 * MINUTE,
            details=f"MARKER-{up}-incident-details",
            staff_accused=second,
        )
        o[f"{s}_prohibited"] = prohibited_address_add(
            actor=dsl,
            trust=school.trust,
            school=school,
            address_line1=f"MARKER-{up}-prohibited-address",
            town="Brookvale",
            postcode="BV1 1AA",
            note=f"MARKER-{up}-prohibited-note",
        )
        if s == "b":
            continue  # B's records are there to be missed: A's pages and B's lists must never show them
        upload = SimpleUploadedFile(
            "marker.csv", b"address_line1,postcode,note\nMARKER-A-import-address,BV2 2BB,MARKER-A-import-note\n"
        )
        o["a_import"] = prohibited_import_prepare(upload=upload, trust=school.trust, school=school, actor=dsl)
        export = SimpleUploadedFile(
            "mis.csv",
            b"mis_id,first_name,last_name,date_of_birth,year_group,address_line1,town,postcode\n"
            b"77,MARKER-A-pupil-import,Quill,2017-03-14,3,4 Heron Way,Eastbridge,EB1 2AB\n",
        )
        o["a_pupil_import"] = pupil_import_prepare(upload=export, school=school, actor=users["oakfield-principal"])
        staff_list = SimpleUploadedFile(
            "staff.csv", b"first_name,last_name,email,role\nMARKER-A-staff-import,Quill,quill@example.org,Staff\n"
        )
        o["a_staff_import"] = staff_import_prepare(upload=staff_list, school=school, actor=users["trust-admin"])
        screen, code = screens.screen_register(actor=users["trust-admin"], school=school, name="MARKER-A-screen-name")
        o["a_screen"], world.extra["enrolment_code"] = screen, code
        locked = users["oakfield-staff3"]
        o["a_lockout"] = audit(
            actor=None,
            action="signin.locked_out",
            obj=locked,
            school=None,
            summary=f"{locked.username} locked out",
            username=locked.username,
            ip_address="127.0.0.1",
        )
    o["a_membership"] = Membership.objects.get(user=users["oakfield-staff3"], school=oak)
    # A's concern on the retention review's list, as if the nightly listing had found it past its period.
    o["a_retention_item"] = RetentionItem.objects.create(
        kind="concern",
        object_id=str(o["a_concern"].pk),
        school=oak,
        trust=oak.trust,
        label=f"Child-protection concern #{o['a_concern'].pk}",
        due_on=timezone.localdate(),
        listed_at=timezone.now(),
    )
    # A's child's file sent on to a new school, with no receipt yet (the child is left on the roll: other rows ask
    # for new visits to them).
    o["a_transfer"] = ChildFileTransfer.objects.create(
        child=o["a_child"],
        school=oak,
        new_school="Hillcrest Academy",
        sent_to="Their DSL",
        method="by_hand",
        sent_on=timezone.localdate(),
        child_protection_file=True,
        recorded_by=users["oakfield-dsl"],
        recorded_at=timezone.now(),
    )
    # A subject access request for A's child, reviewed (nobody withheld), so its export can be produced.
    o["a_access_request"] = SubjectAccessRequest.objects.create(
        school=oak,
        child=o["a_child"],
        received_on=timezone.localdate(),
        requested_by="The child's mother",
        opened_by=users["oakfield-dsl"],
        opened_at=timezone.now(),
        reviewed_by=users["oakfield-dsl"],
        reviewed_at=timezone.now(),
    )
    assert AuditEntry.objects.exists()
    return world
