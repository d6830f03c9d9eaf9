"""Every URL x GET and POST x every role of both schools and anonymous: the answer the rules give (403/404 or a
login redirect where they refuse), no marked text a person may not see, no 500, and a refused POST that changes
nothing.

The world (tests/access_world.py) plants a marker (MARKER-<school>-<what>) in every sensitive field of records of
school A (Oakfield) and B (Riverside); every <pk> in a URL is one of A's records. The table below (RULES) says,
per URL, who may GET and POST it; a URL the resolver knows and the table does not fails
test_every_url_has_a_rule, so nobody adds a page without saying who may use it. Cells where main does not yet
keep the rule are in NOT_YET: each runs as its own strict xfail, so the day a change keeps the rule the test
says which entry to delete.

"No effect" is read from PostgreSQL's own counters for the transaction (pg_stat_xact_user_tables): every row a
request inserted, updated or deleted, even in a savepoint it rolled back. A refusal may write only the audit
trail and the session; a GET only those too. Every request runs in a savepoint rolled back afterwards, so
cells never see each other's changes.
"""

import datetime
import fnmatch
import io
import re
import time
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.admin import site as admin_site
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client, TestCase
from django.test.utils import override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from pypdf import PdfReader

from core.roles import Role
from tests.access_world import SCHOOL_CAST, build_world
from tests.helpers import forget_cached, mark_second_factor_passed
from tests.safeguarding.test_risk import _post_data as risk_data
from tests.visits.after.test_reports import _form as report_data
from tests.visits.requests.test_visit_form import _form as request_data
from visits.models import AlertNotification

pytestmark = [
    pytest.mark.xdist_group("access_matrix"),  # one world per run, not one per worker
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="reads PostgreSQL's per-transaction row counters",
    ),
]

# --- Who is who ---------------------------------------------------------------------------------------------
# Each user's relation to A's records: a_lead (lead and requester of A's visits), a_second, a_staff (visiting
# staff of A on none of them), a_dsl, a_principal, a_office; the same for B; trust_admin (both schools); two
# people with a role at each school (a DSL at one, visiting staff at the other); anon.
CLASSES = {
    "staff1": "lead",
    "staff2": "second",
    "staff3": "staff",
    "dsl": "dsl",
    "principal": "principal",
    "office": "office",
}
USERS = {
    **{
        f"{school}-{key}": f"{s}_{CLASSES[key]}"
        for school, s in (("oakfield", "a"), ("riverside", "b"))
        for key in SCHOOL_CAST
    },
    "trust-admin": "trust_admin",
    "dsl-a-staff-b": "a_dsl_b_staff",
    "staff-a-dsl-b": "a_staff_b_dsl",
    "": "anon",
}
# Roles are per school: a person with a role at each school is, on each school's records, what their role there
# makes them, so they are in a rule's set if either of their school's classes is.
DUAL = {"a_dsl_b_staff": ("a_dsl", "b_staff"), "a_staff_b_dsl": ("a_staff", "b_dsl")}


def is_in(who: str, group) -> bool:
    return who in group or any(c in group for c in DUAL.get(who, ()))


def _of(s, *names):
    return frozenset(f"{s}_{n}" for n in names)


A_PAIR = _of("a", "lead", "second")
A_SENIOR = _of("a", "dsl", "principal")
B_SENIOR = _of("b", "dsl", "principal")
SENIOR = A_SENIOR | B_SENIOR
A_VISIT = A_PAIR | A_SENIOR  # need to know: the pair (the lead is also the requester) and A's DSL and Principal
A_REQUESTERS = A_VISIT | _of("a", "staff")  # may request visits: staff, DSLs and the Principal
B_REQUESTERS = _of("b", "lead", "second", "staff", "dsl", "principal")
A_BOARD = A_SENIOR | _of("a", "office")
BOARD = SENIOR | _of("a", "office") | _of("b", "office")
ADMIN = frozenset({"trust_admin"})
SIGNED_IN = frozenset(c for c in USERS.values() if c != "anon")
EVERYONE = SIGNED_IN | {"anon"}
NOBODY = frozenset()

# --- What each may see ----------------------------------------------------------------------------------------
# Marker (by its <what>) -> who may see it anywhere; a marker not listed is visible to nobody but the classes of
# its school's visit (MARKER-A-...: A_VISIT). "Family" is what staff need to plan a visit: the household's name
# and address, its children; the office sees who and where for visits out today (the board).


def _visible(s: str) -> dict[str, frozenset]:
    visit = _of(s, "lead", "second", "dsl", "principal")
    seniors = _of(s, "dsl", "principal")
    board = _of(s, "office")
    family = visit  # staff need to know, the DSL and Principal; the admin shows no family records
    # The Visit admin keeps which household and children a visit is for (read-only, its views audited): names
    # only, never an address, a carer or anything said.
    named = family | ADMIN
    # Whoever may request a visit finds the child (and sees their household's name) in the request form's picker.
    picker = named | _of(s, "staff")
    return {
        "household-name": picker | (board if s == "a" else NOBODY),  # A's visit out today is on A's board
        "household-address": family | (board if s == "a" else NOBODY),
        "access-notes": family,
        "carer-surname": family,
        "child-firstname": picker,
        "child-surname": picker,
        # The police prompt reads out the social worker's number: A's visit out today has a duress alert.
        "social-worker": family | (board if s == "a" else NOBODY),
        "risk-hazard": visit,
        "risk-vulnerable": visit,
        "out-safe-word": visit | board,  # the office sees a safe word for visits out today only
        "reported-safe-word": visit,
        "concern-details": seniors,
        "concern-action": seniors,
        "incident-details": _of(s, "principal"),  # an accusation against staff: the Principal only
        "prohibited-address": seniors | ADMIN,
        "prohibited-note": seniors | ADMIN,
        "import-address": seniors | ADMIN,
        "import-note": seniors | ADMIN,
        "screen-name": EVERYONE,  # the enrolment page names its screen to whoever holds the code
        # Texts to the school's number: the school's log (office, DSLs, Principal); a duress-word text's own words
        # never reach the office (it reads as the check-in its reply imitated).
        "text-body": seniors | board,
        "duress-text": seniors,
        "pupil-import": seniors,  # an MIS import's preview: its uploader (A's Principal) and the school's seniors
        "staff-import": ADMIN,  # a staff list's preview: its uploader, the trust admin
    }


VISIBLE = {f"MARKER-{s.upper()}-{what}": who for s in "ab" for what, who in _visible(s).items()}
MARKER = re.compile(rb"MARKER-[AB]-[a-z-]+[a-z]")
# Need to know for an accusation against a member of staff: besides its own words (the incident-details marker),
# nothing may even say that one exists (a risk assessment's review reason, a dashboard panel, the next visit's
# checklist) to anyone but a Principal. Both schools' worlds hold one, so any other page naming one leaks it.
ACCUSATION = re.compile(rb"accus|allegation", re.IGNORECASE)
PRINCIPALS = frozenset({"a_principal", "b_principal"})
# A refusal is never bare: the site's layout, and what was refused, why, what to do instead, a link back.
WORDED_REFUSAL = (b'id="main"', b"data-refusal=", b'class="refusal-why"', b'class="refusal-instead"', b"refusal-back")


def may_see(marker: str, who: str) -> bool:
    default = A_VISIT if marker.startswith("MARKER-A-") else _of("b", "lead", "second", "dsl", "principal")
    return is_in(who, VISIBLE.get(marker, default))


# --- The rules: who may GET and POST each URL -------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """`get`/`post`: who may (a GET answers `get_status`; a POST may change things). `get_soft`/`post_soft`: who
    may see the record but not do this, and are told so on a page (any answer but a 500, nothing changed).
    Anyone else is refused: 403, 404 or 405 signed in, a redirect to the log-in page anonymous, and the answer
    holds no marker at all. `obj` names the planted record in <pk>; `data` is the POST body (a function of the
    world), one a permitted user would send, so that a cell that wrongly accepts it changes something."""

    get: frozenset = NOBODY
    post: frozenset = NOBODY
    get_soft: frozenset = NOBODY
    post_soft: frozenset = NOBODY
    obj: str = ""
    kwargs: dict = field(default_factory=dict)
    query: str = ""
    data: object = None
    get_status: tuple = (200,)
    kind: str = "app"  # "app"; "public" (anyone, leaks nothing); "third_party" (allauth); "admin"
    unavailable_ok: bool = False  # a 503 is an answer here (the health check while the sweep is not running)
    effective: bool = True  # a POST with `data` by someone allowed changes something (so the body is a real one)
    explains_accusations: bool = False  # its own form offers "accusation" as a choice (the word says nothing)


def same(who, **rest) -> Rule:
    """A page that answers a POST as it answers a GET (no form of its own): the same people, nothing changed."""
    return Rule(get=who, post=who, **rest)


def _pk(name):
    return lambda w: w.objects[name].pk


def _visit_request(w):
    return request_data(w.objects["a_child"], w.users["oakfield-staff3"], reason="Changed by the matrix")


def _report(w):
    return report_data(SimpleNamespace(staff=w.users["oakfield-staff1"]), action="submit")


def _csv(w):
    return {"file": SimpleUploadedFile("list.csv", b"address_line1,postcode\n1 Matrix Row,BV3 3CC\n")}


now = timezone.localtime


def _mis_export(w):
    content = b"mis_id,first_name,last_name,date_of_birth,year_group,address_line1,town,postcode\n"
    content += b"78,Ellis,Matrix,2017-03-14,3,5 Heron Way,Eastbridge,EB1 2AB\n"
    return {"school": w.objects["a_household"].school_id, "file": SimpleUploadedFile("mis.csv", content)}


def _staff_list(w):
    content = b"first_name,last_name,email,role\nKit,Matrix,kit.matrix@example.org,Office\n"
    return {"school": w.objects["a_household"].school_id, "file": SimpleUploadedFile("staff.csv", content)}


def _grant(w):
    """riverside-staff3 becomes A's office too, from today."""
    return {
        "user": w.users["riverside-staff3"].pk,
        "school": w.objects["a_household"].school_id,
        "role": Role.OFFICE,
        "starts_on": now().date().isoformat(),
    }


RULES: dict[str, Rule | list[Rule]] = {
    # Site and sign-in
    "home": same(SIGNED_IN, get_status=(302,)),
    "healthz": Rule(get=EVERYONE, get_status=(200, 503), kind="public", unavailable_ok=True),
    "login": Rule(kind="third_party"),
    "logout": Rule(kind="third_party"),
    "mfa_trust": Rule(kind="third_party"),
    "signin:lockouts": same(ADMIN),
    "signin:lift_lockout": Rule(post=ADMIN, kwargs={"entry_id": _pk("a_lockout")}),
    # Who holds which role at which school: the trust admin's page, nobody else's.
    "memberships": Rule(get=ADMIN, post=ADMIN, data=_grant),
    "membership-end": Rule(post=ADMIN, obj="a_membership", data=lambda w: {"last_day": now().date().isoformat()}),
    # Onboarding: the MIS import (DSLs, Principals and trust admins; a preview for its uploader and the school's
    # DSLs and Principal, acted on by its uploader alone), the staff list and leavers (the trust admin), the
    # invitation link (anyone holding it), and the set-up checklist (the Principal and the trust admin).
    "pupil_import": Rule(get=SENIOR | ADMIN, post=A_SENIOR | ADMIN, post_soft=B_SENIOR, data=_mis_export),
    "pupil_import_template": same(SENIOR | ADMIN),
    "pupil_import_preview": Rule(
        get=A_SENIOR, post={"a_principal"}, obj="a_pupil_import", data=lambda w: {"action": "discard"}
    ),
    "staff_import": Rule(get=ADMIN, post=ADMIN, data=_staff_list),
    "staff_import_template": same(ADMIN),
    "staff_import_preview": Rule(get=ADMIN, post=ADMIN, obj="a_staff_import", data=lambda w: {"action": "discard"}),
    "staff_deactivate": Rule(post=ADMIN, kwargs={"pk": lambda w: w.users["oakfield-staff3"].pk}),
    "invitation": Rule(kind="public", kwargs={"uidb64": "MQ", "token": "no-such-token"}),
    "setup": same({"a_principal", "b_principal"} | ADMIN),
    "setup_policy": Rule(
        get=A_SENIOR | ADMIN, post={"a_principal"} | ADMIN, kwargs={"pk": lambda w: w.objects["a_household"].school_id}
    ),
    "setup_no_prohibited": Rule(post=A_SENIOR, kwargs={"pk": lambda w: w.objects["a_household"].school_id}),
    # A visit's request pages
    "visits:list": same(SIGNED_IN),
    # The body asks for A's child with oakfield-staff3 as the second: B's staff are refused the child on the form,
    # and oakfield-staff3 cannot be their own second (so only some of A's change anything).
    "visits:new": Rule(
        get=A_REQUESTERS | B_REQUESTERS,
        post=A_REQUESTERS,
        post_soft=B_REQUESTERS,
        data=_visit_request,
        effective=False,
    ),
    "visits:child_search": same(A_REQUESTERS | B_REQUESTERS, query="q=MARKER"),
    # The family's needs on the request form once A's child is ticked: only those who may see the family get them.
    "visits:household_needs": same(A_REQUESTERS | B_REQUESTERS, query="children={a_child}"),
    # The requested visit's page carries its pre-departure checklist (the risk assessment's review reason too).
    "visits:detail": [same(A_VISIT, obj="a_reported"), same(A_VISIT, obj="a_requested")],
    "visits:edit": Rule(get={"a_lead"}, post={"a_lead"}, obj="a_draft", data=_visit_request),
    "visits:submit": Rule(post={"a_lead"}, post_soft=A_VISIT - {"a_lead"}, obj="a_draft"),
    "visits:cancel": Rule(post=A_VISIT, obj="a_requested", data=lambda w: {"reason": "Back in school."}),
    "visits:parent_notification": Rule(
        post=A_VISIT,
        obj="a_requested",
        data=lambda w: {
            "method": "phone",
            # An hour ago: "09:00 today" is in the future before nine, and the form refuses it.
            "notified_on": (now() - datetime.timedelta(hours=1)).date().isoformat(),
            "notified_time": (now() - datetime.timedelta(hours=1)).strftime("%H:%M"),
            "response": "agreed",
        },
    ),
    "approvals": same(SENIOR),
    "approval_decide": Rule(
        get=A_SENIOR,
        post=A_SENIOR,
        obj="a_requested",
        data=lambda w: {"decision": "approved", "conditions": "", "unfamiliar_pair_reason": "Known from the fair."},
    ),
    # The day itself
    "visits:field": Rule(
        get=A_PAIR | {"a_office"}, post=A_PAIR | {"a_office"}, obj="a_out", data=lambda w: {"kind": "arrived"}
    ),
    # The phone's outbox (a check-in sent again is recorded once), the fresh token it sends with, and the field
    # pages' service worker (a script with nothing personal in it: anyone may fetch it).
    "visits:field-send": Rule(
        post=A_PAIR | {"a_office"},
        obj="a_out",
        data=lambda w: {"kind": "arrived", "client_id": "6f1c1f0e-8d0a-4b7e-9a55-2f3f3c1d2e4b"},
    ),
    "visits:field-token": Rule(get=SIGNED_IN),
    "visits:field-sw": Rule(get=EVERYONE, kind="public"),
    # The office sees the safe word of a visit out today (the board's), not of one back and reported.
    "safe_word": [
        Rule(get=A_VISIT | {"a_office"}, post=A_VISIT, obj="a_out", data=lambda w: {"word": "Changed by matrix"}),
        Rule(get=A_VISIT, post=A_VISIT, obj="a_reported", data=lambda w: {"word": "Changed by matrix"}),
    ],
    "checklist_action": Rule(
        post=A_SENIOR,
        post_soft=A_PAIR,
        obj="a_requested",
        kwargs={"action": "override"},
        data=lambda w: {"item": "parents", "reason": "Told in person."},
    ),
    "board": same(BOARD),
    "board-live": same(BOARD),
    "board-timetable": same(BOARD),
    "board-acknowledge": Rule(
        post=A_BOARD,
        obj="a_alert",
        data=lambda w: {
            f"ack-{w.objects['a_alert'].pk}-outcome": "police_called",
            f"ack-{w.objects['a_alert'].pk}-police_reference": "CAD 1",
        },
    ),
    # Only a DSL or the Principal closes a duress alert; the office reads the page (who can, and their numbers).
    "board-confirm-safe": Rule(
        get=A_BOARD, post=A_SENIOR, obj="a_alert", data=lambda w: {"how": "safe_spoke", "note": "Rang them."}
    ),
    "board-duress": Rule(post=A_BOARD, obj="a_out", data=lambda w: {"confirm": "yes"}),
    "board-screens": Rule(
        get=ADMIN, post=ADMIN, data=lambda w: {"school": w.objects["a_household"].school_id, "name": "Hall"}
    ),
    "board-screen-new-link": Rule(post=ADMIN, obj="a_screen"),
    "board-screen-switch-off": Rule(post=ADMIN, obj="a_screen"),
    # A reception screen enrols itself with the code: the code is the credential, so anyone may try it.
    "board-screen-enrol": Rule(
        get=EVERYONE, post=EVERYONE, kind="public", data=lambda w: {"code": w.extra["enrolment_code"]}
    ),
    "board-screen-enrol-code": Rule(
        get=EVERYONE, post=EVERYONE, kind="public", kwargs={"code": lambda w: w.extra["enrolment_code"]}
    ),
    # After the visit
    "visits:report": Rule(get=A_VISIT, post={"a_lead"}, obj="a_returned", data=_report),
    "visits:report_autosave": Rule(post={"a_lead"}, obj="a_returned", data=_report),
    "visits:report_debrief": Rule(
        post=A_SENIOR | {"a_lead"},
        obj="a_reported",
        data=lambda w: {"debrief_with": w.users["oakfield-staff3"].pk, "debrief_at": now().strftime("%Y-%m-%dT%H:%M")},
    ),
    "visits:report_review": Rule(post=A_SENIOR, obj="a_reported", data=lambda w: {"review_comment": "Seen."}),
    "visits:parent_copy_pdf": same(A_VISIT, obj="a_reported"),
    # The reported visit's outcome was "seen": no missed-you letter applies, and its people are told so (a 404
    # that says why); anyone else is refused as for any other page of the visit.
    "visits:missed_you_pdf": Rule(get_soft=A_VISIT, post_soft=A_VISIT, obj="a_reported"),
    "visits:email_letter": Rule(post=A_SENIOR | {"a_lead"}, obj="a_reported", kwargs={"document": "parent-copy"}),
    # Letters by post need GOV.UK Notify, which the matrix has not got: the people allowed are told so.
    "visits:post_letter": Rule(post=A_SENIOR | {"a_lead"}, obj="a_reported", kwargs={"document": "parent-copy"}),
    # The texts received on each school's number: its office, DSLs and Principal.
    "visits:texts": same(BOARD),
    # The text providers' callbacks: anyone may call them, and only a request the provider signed does anything
    # (an unsigned one is refused with 403 and changes nothing).
    "webhook-twilio-inbound": Rule(kind="public"),
    "webhook-notify-inbound": Rule(kind="public"),
    "webhook-twilio-status": Rule(kind="public"),
    "webhook-notify-status": Rule(kind="public"),
    "visits:my_actions": same(SIGNED_IN),
    "visits:school_actions": same(SENIOR),
    "visits:action_complete": Rule(
        post=A_SENIOR | {"a_lead"}, obj="a_action", data=lambda w: {"completion_outcome": "Leaflet sent."}
    ),
    "concerns": same(SENIOR),
    "concern_new": Rule(
        get=A_REQUESTERS | B_REQUESTERS,
        post=A_REQUESTERS,
        post_soft=B_REQUESTERS,  # A's child is not theirs to choose: the form says so
        data=lambda w: {"child": w.objects["a_child"].pk, "kind": "concern", "details": "Hungry again."},
    ),
    "concern": same(A_SENIOR, obj="a_concern"),
    "concern_close": Rule(post=A_SENIOR, obj="a_concern", data=lambda w: {"outcome": "Closed: support in place."}),
    "concern_action_add": Rule(
        post=A_SENIOR,
        obj="a_concern",
        data=lambda w: {
            "action-description": "Ring the family",
            "action-owner": w.users["oakfield-dsl"].pk,
            "action-due_on": now().date().isoformat(),
        },
    ),
    "incident_new": Rule(
        get=A_VISIT,
        post=A_VISIT,
        explains_accusations=True,
        query="visit={a_reported}",
        data=lambda w: {"kind": "other", "occurred_at": now().strftime("%Y-%m-%dT%H:%M"), "details": "A dog."},
    ),
    "incident": same({"a_principal"}, obj="a_incident"),
    # Reading back
    "visits:search": same(SIGNED_IN, query="format=csv"),
    "visits:household": Rule(get=A_VISIT, obj="a_household"),
    "visits:child": Rule(get=A_VISIT, obj="a_child"),
    "visits:chronology": same(A_VISIT, obj="a_child"),
    "dashboard": same(SENIOR),
    "figures": same(SENIOR | ADMIN),
    "figures_print": same(SENIOR | ADMIN),
    # Safeguarding records
    "safeguarding:prohibited_list": same(SENIOR),
    "safeguarding:prohibited_add": Rule(
        get=SENIOR,
        post=A_SENIOR,
        post_soft=B_SENIOR,  # A is not their school to choose
        data=lambda w: {
            "address_line1": "9 Kite Lane",
            "postcode": "EB1 1AA",
            "school": w.objects["a_household"].school_id,
            "note": "LA ref 12",
        },
    ),
    "safeguarding:prohibited_expire": Rule(
        get=A_SENIOR, post=A_SENIOR, obj="a_prohibited", data=lambda w: {"reason": "Taken off by the LA."}
    ),
    "safeguarding:prohibited_import": Rule(get=SENIOR, post=SENIOR, data=_csv),
    "safeguarding:prohibited_import_report": Rule(
        get=A_SENIOR, post=A_SENIOR, obj="a_import", data=lambda w: {"action": "discard"}
    ),
    "safeguarding:address_check": Rule(
        get=A_VISIT,
        post=A_SENIOR,
        obj="a_household",
        data=lambda w: {"entry": w.objects["a_prohibited"].pk, "same_place": "no", "note": "Different house."},
    ),
    "safeguarding:household_risk": same(A_VISIT, obj="a_household"),
    # A's assessment is marked for review by the Principal (an accusation): the Principal alone redoes it.
    "safeguarding:risk_new": Rule(
        get={"a_principal"}, post={"a_principal"}, obj="a_household", data=lambda w: risk_data()
    ),
    "safeguarding:risk_detail": same(A_VISIT, obj="a_risk"),
    "safeguarding:risk_sign_off": Rule(post=A_SENIOR, obj="a_risk"),
    "safeguarding:training_due": same(SENIOR),
    "safeguarding:training_add": Rule(
        get=SENIOR,
        post=A_SENIOR,
        post_soft=B_SENIOR,  # A's member of staff is not theirs to choose
        data=lambda w: {
            "profile": w.users["oakfield-staff3"].profile.pk,
            "course": "Safer working practice",
            "completed_on": now().date().isoformat(),
            "expires_on": now().date().replace(year=now().year + 2).isoformat(),
        },
    ),
    # Records: the retention review (each school's DSLs and Principal; the trust admin for trust-wide records, of
    # which the world has none, so their confirmation disposes of nothing and says so).
    "records:retention": same(SENIOR | ADMIN),
    "records:retention_confirm": Rule(
        post=A_SENIOR,
        post_soft=B_SENIOR | ADMIN,
        data=lambda w: {"confirm": "yes", "item": [w.objects["a_retention_item"].pk]},
    ),
    "records:retention_hold": Rule(post=A_SENIOR, obj="a_retention_item", data=lambda w: {"reason": "Matrix hold"}),
    "records:retention_release": Rule(post=A_SENIOR, obj="a_retention_item"),
    # The child's file and a leaver's transfer: the school's DSLs and Principal.
    "records:child_file": same(A_SENIOR, obj="a_child"),
    "records:child_transfer": Rule(
        get=A_SENIOR,
        post=A_SENIOR,
        obj="a_child",
        data=lambda w: {
            "left_on": now().date().isoformat(),
            "new_school": "Hillcrest Academy",
            "sent_to": "Their DSL",
            "method": "by_hand",
            "sent_on": now().date().isoformat(),
        },
    ),
    "records:transfers": same(SENIOR),
    # Subject access: the school's DSLs and Principal open, review and release (the review page and each export
    # write only the audit trail; the review's POST records who is withheld).
    "records:access_requests": same(SENIOR),
    "records:access_new": Rule(
        get=A_SENIOR,
        post=A_SENIOR,
        query="child={a_child}",
        data=lambda w: {
            "child": w.objects["a_child"].pk,
            "received_on": now().date().isoformat(),
            "requested_by": "Their mother, ID seen",
        },
    ),
    "records:access_review": Rule(get=A_SENIOR, post=A_SENIOR, obj="a_access_request", data=lambda w: {"redact": []}),
    "records:access_export": same(A_SENIOR, obj="a_access_request", kwargs={"fmt": "json"}),
    "records:transfer_receipt": Rule(
        post=A_SENIOR,
        obj="a_transfer",
        data=lambda w: {
            f"r{w.objects['a_transfer'].pk}-receipt_on": now().date().isoformat(),
            f"r{w.objects['a_transfer'].pk}-receipt_from": "Their DSL, by email",
        },
    ),
    # Uploaded files, served by Django in development only (settings.DEBUG): nothing there.
    "^media/(?P<path>.*)$": Rule(kind="public", kwargs={"path": "nothing.txt"}),
}

# allauth's pages: third-party, so their answers are allauth's, but they leak nothing either, and change only the
# signed-in person's own sign-in records.
THIRD_PARTY_WRITES = {"django_session", "core_auditentry", "mfa_authenticator", "account_emailaddress"}
THIRD_PARTY_KWARGS = {
    "key": "no-such-key",
    "uidb36": "1",
    "pk": 999999,
    "provider_id": "no-such-provider",
}

# The admin: only the trust admin (is_staff) gets in; everyone else is sent to its log-in page. Which record of
# each model its <object_id> pages open (any other model: its first row); reports, concerns, incidents and actions
# have no admin pages at all:
ADMIN_OBJECTS = {
    "auth.user": lambda w: w.users["oakfield-staff3"].pk,
    "core.auditentry": _pk("a_lockout"),
    "core.staffprofile": lambda w: w.users["oakfield-staff1"].profile.pk,
    "core.boardscreen": _pk("a_screen"),
    "safeguarding.prohibitedaddress": _pk("a_prohibited"),
    "safeguarding.prohibitedaddressimport": _pk("a_import"),
    "visits.visit": _pk("a_reported"),
}


def _admin_rule(name: str) -> Rule:
    return Rule(get=ADMIN, post=ADMIN, kind="admin")


# Cells where main does not keep the rule yet (cell pattern: "METHOD url-key class", fnmatch) -> why. Each runs
# as a strict xfail; when a change keeps the rule, delete its entry.
NOT_YET: dict[str, str] = {}


# --- Walking the resolver ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    key: str  # the URL's name (with its namespace), or its route for an unnamed one
    route: str
    params: tuple
    callback: object


def walk(resolver=None, prefix="", namespace=()) -> list[Pattern]:
    """Every pattern the site answers, included ones too; a route shadowed by an earlier one appears once."""
    found = []
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            inner = namespace + ((entry.namespace,) if entry.namespace else ())
            found += walk(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            key = ":".join((*namespace, entry.name)) if entry.name else route
            params = tuple(re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route))
            params = tuple(a or b for a, b in params)
            found.append(Pattern(key, route, params, entry.callback))
    seen, unique = set(), []
    for p in found:
        if p.route not in seen:
            seen.add(p.route)
            unique.append(p)
    return unique


def _admin_model(pattern: Pattern) -> str | None:
    """ "app.model" for a ModelAdmin's page (admin:<app>_<model>_<view> or its unnamed redirect)."""
    for model in admin_site._registry:
        label = model._meta.label_lower
        stem = f"admin/{model._meta.app_label}/{model._meta.model_name}/"
        if pattern.route.startswith(stem):
            return label
    return None


def rules_for(pattern: Pattern) -> list[Rule]:
    """The pattern's rules: one per planted record its <pk> is asked about."""
    rule = rule_for(pattern)
    return rule if isinstance(rule, list) else [rule]


def rule_for(pattern: Pattern) -> Rule | list[Rule] | None:
    if pattern.key in RULES:
        return RULES[pattern.key]
    if pattern.key.startswith("admin:") or pattern.route.startswith("admin/"):
        return _admin_rule(pattern.key)
    if pattern.route.startswith("accounts/"):
        return Rule(kind="third_party")  # allauth's pages (ours there are named in RULES)
    return None


def url_for(pattern: Pattern, rule: Rule, world) -> str:
    values = {}
    for name in pattern.params:
        if name in rule.kwargs:
            value = rule.kwargs[name]
        elif rule.kind == "third_party":
            value = THIRD_PARTY_KWARGS.get(name, "x")
        elif rule.kind == "admin":
            value = _admin_value(pattern, name, world)
        elif name == "pk":
            value = world.objects[rule.obj].pk
        else:
            raise AssertionError(f"{pattern.key}: say in its rule what fills <{name}>")
        values[name] = value(world) if callable(value) else value
    url = "/" + pattern.route
    for name, value in values.items():
        url = re.sub(rf"<(?:\w+:)?{name}>|\(\?P<{name}>[^)]*\)", str(value), url)
    url = url.replace("^", "").replace("$", "")
    if rule.query:
        url += "?" + rule.query.format(**{k: v.pk for k, v in world.objects.items()})
    return url


def _admin_value(pattern: Pattern, name: str, world):
    if name == "app_label":
        return "visits"
    if name == "url":
        return "no-such-page/"
    if name == "content_type_id":
        from django.contrib.contenttypes.models import ContentType

        return ContentType.objects.get_for_model(world.objects["a_reported"]).pk
    if name == "object_id" and pattern.key == "admin:view_on_site":
        return world.objects["a_reported"].pk
    model = _admin_model(pattern)
    if model in ADMIN_OBJECTS:
        return ADMIN_OBJECTS[model](world)
    from django.apps import apps

    first = apps.get_model(model).objects.order_by("pk").first()
    return first.pk if first else 999999


# --- One cell -----------------------------------------------------------------------------------------------------

# The session and the audit trail of a read or a refusal. The trail's seal (an UPDATE of the new entries) runs
# after commit, and nothing here commits (the world and each cell are rolled back), so it never shows here.
ALLOWED_WRITES = {"django_session", "core_auditentry"}


def _writes() -> dict[str, tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_xact_user_tables "
            "WHERE n_tup_ins + n_tup_upd + n_tup_del > 0"
        )
        return {name: counts for name, *counts in cursor.fetchall() for counts in [tuple(counts)]}


def _changed(before, after) -> set[str]:
    return {table for table, counts in after.items() if before.get(table) != counts}


def _body(response) -> bytes:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if response.get("Content-Type", "").startswith("application/pdf") and content:
        text = "".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)
        content += text.encode()
    return content


@dataclass
class Answer:
    status: int
    location: str
    markers: set
    changed: set
    mailed: int
    names_accusation: bool = False
    worded: bool = False  # a refusal page in the site's layout: what, why, what to do instead, a way back


def ask(client, method: str, url: str, data) -> Answer:
    session = client.cookies.get(settings.SESSION_COOKIE_NAME)
    mail.outbox.clear()
    with transaction.atomic():
        before = _writes()
        response = client.get(url) if method == "GET" else client.post(url, data or {})
        body = _body(response)
        answer = Answer(
            status=response.status_code,
            location=response.get("Location", ""),
            markers={m.decode() for m in MARKER.findall(body)},
            names_accusation=bool(ACCUSATION.search(body)),
            worded=all(part in body for part in WORDED_REFUSAL),
            changed=_changed(before, _writes()),
            mailed=len(mail.outbox),
        )
        transaction.set_rollback(True)
    if answer.changed - ALLOWED_WRITES or answer.mailed:
        forget_cached()  # what the cache kept of a change now rolled back (a refusal or a read keeps nothing)
    # The session as it was: a log-out or a screen's cookie must not carry into the next cell.
    client.cookies.clear()
    if session is not None:
        client.cookies[settings.SESSION_COOKIE_NAME] = session.value
    return answer


def refused(answer: Answer, who: str) -> bool:
    if who == "anon" and answer.status == 302:
        return answer.location.startswith(("/accounts/login/", "/admin/login/"))
    if answer.status == 302 and answer.location.startswith("/admin/login/"):
        return True  # the admin sends the signed-in who are not its staff to its own log-in page
    return answer.status in (403, 404, 405)


def problems(pattern: Pattern, rule: Rule, method: str, who: str, answer: Answer) -> list[str]:
    """What is wrong with this answer, in words (empty: the cell keeps the rule)."""
    found = []
    if answer.status >= 500 and not (answer.status == 503 and rule.unavailable_ok):
        found.append(f"server error {answer.status}")
    unseen = sorted(m for m in answer.markers if not may_see(m, who))
    if unseen:
        found.append(f"shows {unseen}")
    if answer.names_accusation and not is_in(who, PRINCIPALS) and not rule.explains_accusations:
        found.append("says that an accusation against a member of staff exists")
    if answer.status in (403, 404, 405) and not answer.worded:
        found.append(f"a bare {answer.status}: no worded refusal in the site's layout")
    allowed_writes = ALLOWED_WRITES
    if rule.kind == "third_party":
        allowed_writes = THIRD_PARTY_WRITES
        if who == "anon" and answer.changed - {"django_session"}:
            found.append(f"changed {sorted(answer.changed)} for nobody signed in")
    ok = rule.get if method == "GET" else rule.post
    soft = rule.get_soft if method == "GET" else rule.post_soft
    if rule.kind in ("third_party", "public") and not ok:
        ok = EVERYONE  # anyone may ask; what matters is that it leaks and changes nothing
    may_change = method == "POST" and is_in(who, ok) and rule.kind in ("app", "public")
    if rule.kind == "admin" and is_in(who, ok):
        may_change = False  # an empty form changes nothing even for the trust admin
    if not may_change and answer.changed - allowed_writes:
        found.append(f"changed {sorted(answer.changed - allowed_writes)}")
    if not may_change and answer.mailed and not is_in(who, ok):
        found.append(f"sent {answer.mailed} email(s)")
    if method == "POST" and is_in(who, ok) and rule.data and rule.effective and not answer.changed - ALLOWED_WRITES:
        found.append(f"accepted ({answer.status} {answer.location}) but changed nothing: is the body a real one?")
    if is_in(who, ok):
        if method == "GET" and rule.kind == "app" and answer.status not in rule.get_status:
            found.append(f"answered {answer.status} {answer.location}, expected {rule.get_status}")
        if method == "POST" and rule.kind == "app" and refused(answer, who):
            found.append(f"refused ({answer.status} {answer.location}) someone the rule allows")
    elif is_in(who, soft):
        pass  # told why on a page they may see: no change (checked above), no 500, nothing they may not see
    elif rule.kind == "app":
        if not refused(answer, who):
            found.append(f"answered {answer.status} {answer.location}: not refused")
        elif answer.markers:
            found.append(f"refusal shows {sorted(answer.markers)}")
    return found


# --- The tests -------------------------------------------------------------------------------------------------------


def test_only_the_trust_admin_is_admin_staff(world, db):
    """What lets ADMIN_ASKERS stand for everyone on the admin's pages."""
    assert [u for u in world.users.values() if u.is_staff or u.is_superuser] == [world.users["trust-admin"]]


def test_every_url_has_a_rule():
    """A new page cannot be added without saying who may use it."""
    missing = [p.key for p in walk() if rule_for(p) is None]
    assert missing == [], f"add these to RULES in {__name__}: {missing}"
    unused = set(RULES) - {p.key for p in walk()} - {"^media/(?P<path>.*)$"}
    assert unused == set(), f"RULES names URLs the site no longer has: {sorted(unused)}"
    admin_models = {m._meta.label_lower for m in admin_site._registry}
    assert set(ADMIN_OBJECTS) <= admin_models, set(ADMIN_OBJECTS) - admin_models
    cells = [_cell_name(pattern, rule, method, who) for pattern, rule, method, _, who in _cells()]
    stale = [glob for glob in NOT_YET if not fnmatch.filter(cells, glob)]
    assert stale == [], f"NOT_YET names cells the matrix no longer has: {stale}"


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), transaction.atomic(), fast:
        with TestCase.captureOnCommitCallbacks() as after_commit:
            built = build_world()
        # The emails the world's records sent (each is sent once its change commits; the world never commits).
        mail.outbox.clear()
        for callback in after_commit:
            if "notify_by_email" in callback.__qualname__:
                callback()
        built.sent_mail = list(mail.outbox)
        built.clients = {}
        for username in USERS:
            client = Client(raise_request_exception=False)
            if username:
                client.force_login(built.users[username])
                mark_second_factor_passed(client, built.users[username])
            built.clients[username] = client
        yield built
        transaction.set_rollback(True)


def test_only_the_principal_is_told_of_an_accusation(world, db):
    """The emails and texts the world's records sent: an accusation is named (or quoted) to its school's
    Principal alone. The incident form tells the Principal, so there is something to check."""
    principals = {s: world.users[f"{school}-principal"].email for s, school in (("A", "oakfield"), ("B", "riverside"))}
    naming = [m for m in world.sent_mail if ACCUSATION.search(f"{m.subject}\n{m.body}".encode())]
    assert naming, "the Principal was told of the accusation"
    for message in naming:
        school = "A" if "Oakfield" in message.subject else "B"
        assert message.recipients() == [principals[school]], message.subject
    for message in world.sent_mail:
        assert b"incident-details" not in message.body.encode(), "an email quotes what was said"
    texts = AlertNotification.objects.values_list("subject", "body")
    assert texts and not any(ACCUSATION.search(f"{subject}\n{body}".encode()) for subject, body in texts)


# The admin lets in its staff only (AdminSite.has_permission: is_staff), whatever their role, so every admin page
# is asked by its one member of staff, anonymous, and one signed-in person of each other kind; the rest of the
# cast are no more its staff than they are (test_only_the_trust_admin_is_admin_staff).
ADMIN_ASKERS = {"trust-admin", "", "oakfield-dsl", "oakfield-office", "riverside-staff1"}


def _cells():
    for pattern in walk():
        for rule in rules_for(pattern):
            for method in ("GET", "POST"):
                for username, who in USERS.items():
                    if rule.kind == "admin" and username not in ADMIN_ASKERS:
                        continue
                    yield pattern, rule, method, username, who


def _cell_name(pattern, rule, method, who) -> str:
    on = f"@{rule.obj}" if isinstance(rule_for(pattern), list) else ""
    return f"{method} {pattern.key}{on} {who}"


def _not_yet(pattern, rule, method, who) -> str | None:
    cell = _cell_name(pattern, rule, method, who)
    return next((why for glob, why in NOT_YET.items() if fnmatch.fnmatchcase(cell, glob)), None)


def test_access_matrix(world, db, subtests):
    started, requests = time.process_time(), 0
    for pattern, rule, method, username, who in _cells():
        if _not_yet(pattern, rule, method, who):
            continue
        url = url_for(pattern, rule, world)
        data = rule.data(world) if callable(rule.data) else rule.data
        with subtests.test(msg=f"{method} {url} as {username or 'anonymous'} ({who})"):
            answer = ask(world.clients[username], method, url, data)
            requests += 1
            found = problems(pattern, rule, method, who, answer)
            assert found == []
    print(f"\naccess matrix: {requests} requests in {time.process_time() - started:.1f} s of CPU")


def _gap_cells():
    for pattern, rule, method, username, who in _cells():
        why = _not_yet(pattern, rule, method, who)
        if why:
            index = rules_for(pattern).index(rule)
            yield pytest.param(
                pattern.key,
                index,
                method,
                username,
                id=f"{_cell_name(pattern, rule, method, who)} {username or 'anonymous'}",
                marks=pytest.mark.xfail(strict=True, reason=why),
            )


@pytest.mark.parametrize(("key", "index", "method", "username"), list(_gap_cells()))
def test_rule_not_yet_kept_on_main(world, db, key, index, method, username):
    pattern = next(p for p in walk() if p.key == key)
    rule, who = rules_for(pattern)[index], USERS[username]
    url = url_for(pattern, rule, world)
    data = rule.data(world) if callable(rule.data) else rule.data
    answer = ask(world.clients[username], method, url, data)
    assert problems(pattern, rule, method, who, answer) == []
