"""The admin: no casework, nothing a trust admin can rewrite behind the product's back, every view of people audited.

Trust admins (and the superuser) are not in the need-to-know circle of a visit's reasons, decisions, timeline,
report or concerns, nor of a family's records: the admin shows none of them. What it changes goes through the
services; what it shows of people leaves an audit entry.
"""

import datetime
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEntry, EscalationStep, HomeVisitPolicy, StaffProfile
from core.roles import Role
from core.services import setting_delete, setting_save, staff_profile_update
from families.models import Child, Household
from safeguarding.models import Concern, RiskAssessment, RiskRow, TrainingRecord
from safeguarding.services import concern_raise, prohibited_address_add, training_record_add
from tests.factories import SchoolFactory, TrustFactory, make_member, make_reported_visit, trust_default_policy
from visits.departure.services import visit_record_social_worker
from visits.models import (
    AuthorisationDecision,
    FollowUpAction,
    ParentNotification,
    PresentPerson,
    Visit,
    VisitPerson,
    VisitPreparation,
    VisitReport,
    VisitTransition,
)


class _FormValues(HTMLParser):
    """What a browser would post back from a page's forms, unchanged."""

    def __init__(self):
        super().__init__()
        self.data, self._select, self._textarea = {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in {"submit", "button", "file"}:
            if attrs.get("type") in {"checkbox", "radio"}:
                if "checked" in attrs:
                    self.data.setdefault(name, []).append(attrs.get("value", "on"))
            else:
                self.data[name] = attrs.get("value") or ""
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in attrs:
            self.data[self._select].append(attrs.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, text):
        if self._textarea:
            self.data[self._textarea] += text.lstrip("\n")


def _form_values(client, url) -> dict:
    values = _FormValues()
    values.feed(client.get(url).content.decode())
    return {k: v for k, v in values.data.items() if k != "csrfmiddlewaretoken"}


@pytest.fixture
def trust_admin(cast):
    """The cast's trust admin, with every model permission of the product's apps: only the admin classes hold
    them back."""
    user = cast.trust_admin
    user.is_staff = True
    user.save()
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=["core", "families", "safeguarding", "visits"])
    )
    return user


@pytest.fixture(params=["trust_admin", "superuser"])
def admin_user_client(request, client, trust_admin, admin_user):
    user = trust_admin if request.param == "trust_admin" else admin_user
    client.force_login(user)
    client.user = user
    return client


# --- What the admin holds ---------------------------------------------------------------------------------------

IN_ADMIN = {
    "core": {
        "Trust",
        "School",
        "HomeVisitPolicy",
        "EscalationStep",
        "StaffProfile",
        "AuditEntry",
        "BoardScreen",
        "TrustSignInPolicy",
        "IdentityProvider",
    },
    "families": set(),
    "safeguarding": {"ProhibitedAddress", "ProhibitedAddressImport", "TrainingRecord"},
    "visits": {"Visit", "SweepHeartbeat"},
}


def test_the_admin_holds_settings_staff_and_lifecycle_records_only(admin_client):
    for app, registered in IN_ADMIN.items():
        for model in apps.get_app_config(app).get_models():
            if model.__name__.endswith("ObjectPermission"):
                continue  # guardian's grant tables: managed by visits/access.py, never by hand
            url = f"/admin/{app}/{model._meta.model_name}/"
            expected = 200 if model.__name__ in registered else 404
            assert admin_client.get(url).status_code == expected, url


# --- No casework on any admin page ------------------------------------------------------------------------------

# Every casework field, with the text planted in it: none of it may appear on any admin page.
CASEWORK = {
    Visit: ["reason", "outcome_wanted", "unannounced_reason", "principal_exception_reason"],
    AuthorisationDecision: ["reason", "conditions"],
    VisitTransition: ["note"],
    ParentNotification: ["note"],
    VisitPreparation: ["social_worker_note"],
    VisitReport: ["parent_summary", "internal_notes", "referrals", "review_comment", "abandoned_reason"],
    PresentPerson: ["name"],
    FollowUpAction: ["description"],
    RiskAssessment: ["vulnerable_persons", "animals_note", "stale_reason"],
    RiskRow: ["controls", "hazard"],
    Concern: ["details", "action_taken", "outcome"],
    Household: ["access_notes"],
    Child: ["social_worker_name"],
}


@pytest.fixture
def casework(cast, trust_admin):
    """A visit lived to its report, with its decision, timeline, risk assessment, notifications and a concern,
    and a marker planted in every casework field."""
    action = {"description": "Ring the family", "owner": cast.staff, "due_on": timezone.localdate()}
    visit = make_reported_visit(lead=cast.staff, actions=[action])
    concern_raise(child=visit.children.get(), raised_by=cast.staff, details="placeholder")
    visit_record_social_worker(visit=visit, actor=cast.staff, note="placeholder")
    markers = []
    for model, fields in CASEWORK.items():
        assert model.objects.exists(), f"no {model.__name__} to plant a marker in"
        for field in fields:
            marker = f"MARKER-{model.__name__}-{field}"
            model.objects.update(**{field: marker})
            markers.append(marker)
    return visit, markers


def _every_admin_page(client, user):
    """The index, each app's index, and each registered model's list, change and history pages."""
    urls = ["/admin/"]
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        if not model_admin.has_view_or_change_permission(_Request(user)):
            continue
        urls.append(f"/admin/{opts.app_label}/")
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        for pk in model._default_manager.values_list("pk", flat=True):
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk]))
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[pk]))
    return sorted(set(urls))


class _Request:
    def __init__(self, user):
        self.user = user


def test_no_admin_page_shows_casework(admin_user_client, casework, subtests):
    visit, markers = casework
    pages = _every_admin_page(admin_user_client, admin_user_client.user)
    assert f"/admin/visits/visit/{visit.pk}/change/" in pages
    for url in pages:
        with subtests.test(url=url):
            response = admin_user_client.get(url)
            assert response.status_code in {200, 302}, url
            content = response.content.decode()
            leaked = [m for m in markers if m in content]
            assert not leaked, (url, leaked)


def test_the_visit_page_shows_where_the_visit_is_in_its_life_and_who_is_on_it(admin_user_client, casework):
    visit, _ = casework
    page = admin_user_client.get(f"/admin/visits/visit/{visit.pk}/change/").content.decode()
    assert visit.get_status_display() in page and visit.household.name in page
    assert visit.requested_by.get_full_name() in page or visit.requested_by.username in page
    assert 'name="reason"' not in page and "<textarea" not in page  # nothing to edit


# --- Visitors, household and times cannot be changed in the admin ----------------------------------------------


def test_posting_a_changed_visitor_household_or_time_to_the_visit_changes_nothing(admin_user_client, cast, casework):
    visit, _ = casework
    other = make_reported_visit(lead=cast.staff2)
    before = Visit.objects.values().get(pk=visit.pk)
    people_before = list(VisitPerson.objects.filter(visit=visit).values_list("user_id", "role"))
    url = f"/admin/visits/visit/{visit.pk}/change/"
    data = {
        "school": cast.school.pk,
        "household": other.household.pk,
        "children": [other.children.get().pk],
        "scheduled_start_0": "2030-01-01",
        "scheduled_start_1": "03:00",
        "expected_return_0": "2030-01-01",
        "expected_return_1": "23:00",
        "expected_duration_minutes": "600",
        "status": "authorised",
        "people-TOTAL_FORMS": "2",
        "people-INITIAL_FORMS": "0",
        "people-0-role": "lead",
        "people-0-user": admin_user_client.user.pk,
        "people-1-role": "second",
        "people-1-user": cast.outsider.pk,
    }
    response = admin_user_client.post(url, data)
    assert response.status_code == 403
    assert Visit.objects.values().get(pk=visit.pk) == before
    assert list(VisitPerson.objects.filter(visit=visit).values_list("user_id", "role")) == people_before
    assert not VisitPerson.objects.filter(user__in=[admin_user_client.user, cast.outsider]).exists()
    assert admin_user_client.get("/admin/visits/visit/add/").status_code == 403
    assert admin_user_client.post(f"/admin/visits/visit/{visit.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Visit.objects.filter(pk=visit.pk).exists()
    if not admin_user_client.user.is_superuser:
        # The visit, its safe word and its report stay closed in the app to the one who tried to add themself.
        assert admin_user_client.get(visit.get_absolute_url()).status_code in {403, 404}


# --- Training dates follow the training records ----------------------------------------------------------------


def test_a_lapsed_training_date_cannot_be_made_valid_in_the_admin(admin_user_client, cast):
    today = timezone.localdate()
    lapsed = make_member(
        "lapsed",
        cast.school,
        Role.STAFF,
        training_completed_on=today - datetime.timedelta(days=1200),
        training_expires_on=today - datetime.timedelta(days=5),
    ).profile
    url = f"/admin/core/staffprofile/{lapsed.pk}/change/"
    data = _form_values(admin_user_client, url)
    assert "training_expires_on" not in data  # not a field of the form
    data.update(
        training_completed_on=str(today - datetime.timedelta(days=1)),
        training_expires_on=str(today + datetime.timedelta(days=1000)),
        job_title="Attendance officer",
    )
    response = admin_user_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    lapsed.refresh_from_db()
    assert lapsed.job_title == "Attendance officer"  # the form was taken: only the dates were not
    assert lapsed.training_expires_on == today - datetime.timedelta(days=5)
    assert not lapsed.training_valid_on(today)
    assert not TrainingRecord.objects.filter(profile=lapsed).exists()
    # Only a training record, recorded by the school's DSL on the training page, makes it valid again.
    training_record_add(
        profile=lapsed, completed_on=today, expires_on=today + datetime.timedelta(days=1000), actor=cast.dsl
    )
    lapsed.refresh_from_db()
    assert lapsed.training_valid_on(today)


def test_the_training_dates_are_shown_but_not_editable_on_a_new_profile(admin_client):
    page = admin_client.get("/admin/core/staffprofile/add/").content.decode()
    assert 'name="mobile"' in page and 'name="training_expires_on"' not in page


# --- What the admin changes goes through the verbs, audited -----------------------------------------------------


def test_a_trust_admin_corrects_a_mobile_through_the_verb(client, cast, trust_admin):
    client.force_login(trust_admin)
    profile = cast.staff.profile
    url = f"/admin/core/staffprofile/{profile.pk}/change/"
    data = _form_values(client, url)
    data["mobile"] = "+442079460999"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    profile.refresh_from_db()
    assert profile.mobile.as_e164 == "+442079460999"
    entry = AuditEntry.objects.get(action="staff_profile.update", object_id=str(profile.pk))
    assert entry.actor == trust_admin and entry.details["fields"] == ["mobile"]
    # Posted again unchanged: nothing to record.
    client.post(url, _form_values(client, url))
    assert AuditEntry.objects.filter(action="staff_profile.update").count() == 1


def test_the_staff_profile_verb_checks_its_actor(cast, trust_admin):
    with pytest.raises(PermissionDenied):
        staff_profile_update(profile=cast.staff2.profile, actor=cast.staff, mobile="+442079460999")
    outside = make_member("elsewhere", SchoolFactory(trust=TrustFactory(slug="elsewhere")), Role.STAFF)
    with pytest.raises(PermissionDenied):
        staff_profile_update(profile=outside.profile, actor=trust_admin, mobile="+442079460999")
    before = cast.staff2.profile.mobile
    cast.staff2.profile.refresh_from_db()
    assert (
        cast.staff2.profile.mobile == before and not AuditEntry.objects.filter(action="staff_profile.update").exists()
    )


def test_a_staff_profile_added_in_the_admin_goes_through_the_verb(client, cast, trust_admin, django_user_model):
    client.force_login(trust_admin)
    newcomer = django_user_model.objects.create_user("newcomer", first_name="Nia", last_name="Okonjo")
    response = client.post(
        "/admin/core/staffprofile/add/",
        {
            "user": newcomer.pk,
            "job_title": "Family worker",
            "mobile": "",
            "vehicle_description": "",
            "vehicle_registration": "",
            "training_records-TOTAL_FORMS": "0",
            "training_records-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    profile = StaffProfile.objects.get(user=newcomer)
    assert profile.job_title == "Family worker" and not profile.user.memberships.exists()  # roles: the Roles page
    assert AuditEntry.objects.filter(action="staff_profile.add", object_id=str(profile.pk), actor=trust_admin).exists()


def test_staff_profiles_are_not_deleted_in_the_admin(admin_user_client, cast):
    profile = cast.staff.profile
    response = admin_user_client.post(f"/admin/core/staffprofile/{profile.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert StaffProfile.objects.filter(pk=profile.pk).exists()


def test_a_trust_admin_changes_their_schools_settings_through_the_verb(client, cast, trust_admin):
    client.force_login(trust_admin)
    url = f"/admin/core/school/{cast.school.pk}/change/"
    data = _form_values(client, url)
    data["phone"] = "020 7946 0777"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    entry = AuditEntry.objects.get(action="admin.changed", object_id=str(cast.school.pk))
    assert entry.actor == trust_admin and entry.school == cast.school and entry.details["fields"] == ["phone"]


def test_deleting_escalation_steps_from_the_list_is_checked_and_audited_one_by_one(client, cast, trust_admin):
    client.force_login(trust_admin)
    steps = list(EscalationStep.objects.filter(policy__trust=cast.trust).values_list("pk", flat=True))
    assert steps
    response = client.post(
        "/admin/core/escalationstep/", {"action": "delete_selected", "_selected_action": steps, "post": "yes"}
    )
    assert response.status_code == 302
    assert not EscalationStep.objects.filter(pk__in=steps).exists()
    deleted = AuditEntry.objects.filter(action="admin.deleted", object_type="core.escalationstep", actor=trust_admin)
    assert sorted(int(e.object_id) for e in deleted) == sorted(steps)


def test_the_settings_verbs_refuse_another_trust_and_anything_but_settings(cast, trust_admin, admin_user):
    elsewhere = SchoolFactory(trust=TrustFactory(slug="elsewhere"))
    elsewhere.phone = "020 7946 0778"
    with pytest.raises(PermissionDenied):
        setting_save(obj=elsewhere, actor=trust_admin, changed=["phone"])
    with pytest.raises(PermissionDenied):
        setting_save(obj=cast.school, actor=cast.dsl, changed=["phone"])
    # Nor may a setting of one's own be moved to another trust's school.
    policy = HomeVisitPolicy.objects.create(trust=cast.trust, school=cast.school)
    policy.school = elsewhere
    with pytest.raises(PermissionDenied):
        setting_save(obj=policy, actor=trust_admin, changed=["school"])
    visit = make_reported_visit(lead=cast.staff)
    visit.reason = "rewritten"
    with pytest.raises(PermissionDenied):
        setting_save(obj=visit, actor=admin_user, changed=["reason"])  # casework, even for the superuser
    with pytest.raises(PermissionDenied):
        setting_delete(obj=visit, actor=admin_user)
    assert Visit.objects.get(pk=visit.pk).reason != "rewritten"
    assert not AuditEntry.objects.filter(action__startswith="admin.").exists()


def test_trust_admin_sees_only_their_own_schools(client, cast, trust_admin):
    outside = make_member("elsewhere", SchoolFactory(trust=TrustFactory(slug="elsewhere")), Role.STAFF)
    client.force_login(trust_admin)
    listing = client.get("/admin/core/staffprofile/").content.decode()
    assert cast.staff.profile.__str__() in listing and str(outside.profile) not in listing
    assert client.get(f"/admin/core/staffprofile/{outside.profile.pk}/change/").status_code == 302  # "doesn't exist"
    assert not AuditEntry.objects.filter(action="staff_profile.view", object_id=str(outside.profile.pk)).exists()


def test_audit_trail_cannot_be_edited_in_the_admin(admin_client, cast):
    entry = AuditEntry.objects.create(action="x", object_type="t", object_id="1", summary="s")
    assert admin_client.get("/admin/core/auditentry/add/").status_code == 403
    page = admin_client.get(f"/admin/core/auditentry/{entry.pk}/change/")
    assert page.status_code == 200 and b'name="summary"' not in page.content


# --- Every view of people's details in the admin is audited ---------------------------------------------------


@pytest.fixture
def people_records(cast):
    visit = make_reported_visit(lead=cast.staff)
    record = training_record_add(
        profile=cast.staff.profile,
        completed_on=timezone.localdate() - datetime.timedelta(days=10),
        expires_on=timezone.localdate() + datetime.timedelta(days=700),
        actor=cast.dsl,
    )
    entry = prohibited_address_add(
        actor=cast.dsl, trust=cast.trust, school=cast.school, address_line1="9 Listed Road", postcode="EB9 9ZZ"
    )
    return {
        "visit": (visit, "visit.view", "visits", "visit"),
        "profile": (cast.staff.profile, "staff_profile.view", "core", "staffprofile"),
        "training": (record, "training.view", "safeguarding", "trainingrecord"),
        "prohibited": (entry, "prohibited.view", "safeguarding", "prohibitedaddress"),
    }


def test_admin_change_pages_and_lists_of_people_are_audited(admin_user_client, people_records, subtests):
    user = admin_user_client.user
    for name, (obj, action, app, model) in people_records.items():
        with subtests.test(name=name):
            assert admin_user_client.get(f"/admin/{app}/{model}/{obj.pk}/change/").status_code == 200
            entry = AuditEntry.objects.filter(action=action, object_id=str(obj.pk)).latest("id")
            assert entry.actor == user and entry.object_type == obj._meta.label_lower
            assert admin_user_client.get(f"/admin/{app}/{model}/").status_code == 200
            listed = AuditEntry.objects.filter(action=action.replace(".view", ".list"), actor=user).latest("id")
            assert str(obj.pk) in listed.details["ids"]


def test_a_page_that_is_not_found_is_not_recorded_as_viewed(admin_user_client):
    admin_user_client.get("/admin/visits/visit/999999/change/")
    assert not AuditEntry.objects.filter(action="visit.view").exists()


# --- The admin's lists do not grow in queries with their rows --------------------------------------------------


def _more_rows(cast, n):
    for i in range(n):
        member = make_member(f"more{n}x{i}", cast.school, Role.STAFF)
        make_reported_visit(lead=member)
        training_record_add(
            profile=member.profile,
            completed_on=timezone.localdate() - datetime.timedelta(days=10),
            expires_on=timezone.localdate() + datetime.timedelta(days=700),
            actor=cast.dsl,
        )
        prohibited_address_add(
            actor=cast.dsl,
            trust=cast.trust,
            school=cast.school,
            address_line1=f"{n}{i} Listed Road",
            postcode="EB9 9ZZ",
        )


LISTS = [
    "/admin/core/staffprofile/",
    "/admin/core/school/",
    "/admin/core/auditentry/",
    "/admin/visits/visit/",
    "/admin/safeguarding/trainingrecord/",
    "/admin/safeguarding/prohibitedaddress/",
]


def test_the_admin_lists_query_count_does_not_grow(client, cast, trust_admin, subtests):
    client.force_login(trust_admin)
    _more_rows(cast, 1)
    client.get("/admin/")  # the session's first request loads the signed-in user
    few = {}
    for url in LISTS:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        few[url] = len(queries)
    _more_rows(cast, 4)
    for url in LISTS:
        with subtests.test(url=url):
            with CaptureQueriesContext(connection) as queries:
                client.get(url)
            assert len(queries) == few[url], "\n".join(q["sql"][:200] for q in queries.captured_queries)


def test_visits_in_the_admin_list_only_the_admins_schools(client, cast, trust_admin):
    outside_school = SchoolFactory(trust=TrustFactory(slug="elsewhere"))
    trust_default_policy(outside_school.trust)
    outsider = make_member("faraway", outside_school, Role.STAFF)
    make_member("farawaydsl", outside_school, Role.DSL)
    theirs = make_reported_visit(lead=outsider)
    client.force_login(trust_admin)
    assert client.get(f"/admin/visits/visit/{theirs.pk}/change/").status_code == 302
    assert theirs.household.name not in client.get("/admin/visits/visit/").content.decode()
