"""The set-up checklist: shown to the Principal (dashboard) and the trust admin (Roles page) until every item is
done; each item's link opens the page that completes it; the policy page shows the seeds' defaults."""

import pytest

from core.models import AuditEntry
from safeguarding.models import SetupConfirmation
from safeguarding.setup.checklist import checklist
from safeguarding.setup.services import setup_confirm
from tests.factories import ChildFactory, HouseholdFactory


def _done(school):
    from django.utils import timezone

    return {item.key: item.done for item in checklist(school=school, today=timezone.localdate())}


def test_a_new_school_is_not_ready_and_says_what_is_missing(cast, client):
    done = _done(cast.school)
    assert done == {
        "policy": False,
        "escalation": True,  # the cast's office, DSL and Principal have mobiles
        "roles": True,
        "trained": True,
        "prohibited": False,
        "pupils": False,
        "texts": False,
    }
    client.force_login(cast.principal)
    page = client.get("/dashboard/").content.decode()
    assert "Oakfield Test Primary: ready to go live?" in page and "✗ <a" in page
    client.force_login(cast.trust_admin)
    page = client.get("/memberships/").content.decode()
    assert "Oakfield Test Primary: ready to go live?" in page and "Riverside Test Academy: ready to go live?" in page
    client.force_login(cast.dsl)
    assert "ready to go live?" not in client.get("/dashboard/").content.decode()  # the Principal's and the admin's


def test_each_item_links_to_the_page_that_completes_it(cast, client):
    from django.utils import timezone

    client.force_login(cast.principal)
    for item in checklist(school=cast.school, today=timezone.localdate()):
        url = item.link.split("#")[0]
        if url.startswith("/admin/"):
            assert url == "/admin/core/staffprofile/"  # the trust admin's admin page of staff contact details
            continue
        who = cast.trust_admin if url.startswith("/staff/") else cast.principal
        client.force_login(who)
        assert client.get(url).status_code == 200, (item.key, url)


def test_gaps_are_named(cast):
    cast.office.profile.mobile = ""
    cast.office.profile.save()
    cast.staff.profile.training_expires_on = None
    cast.staff.profile.save()
    from django.utils import timezone

    items = {i.key: i for i in checklist(school=cast.school, today=timezone.localdate())}
    assert not items["escalation"].done and "step 1 (Office rings the lead's mobile)" in items["escalation"].detail
    assert not items["trained"].done and "1 of " in items["trained"].detail


def test_once_every_item_is_done_the_checklist_goes(cast, client, settings):
    settings.SMS_BACKEND = "visits.alerts.sms.TwilioSMSBackend"
    client.force_login(cast.principal)
    page = client.get(f"/setup/{cast.school.pk}/policy/").content.decode()
    assert "Maximum visit minutes" in page or "max visit minutes" in page.lower()
    assert "the nursery school&#x27;s policy: a visit should not take longer than 30 minutes" in page
    client.post(f"/setup/{cast.school.pk}/policy/")
    client.post(f"/setup/{cast.school.pk}/no-prohibited/")
    ChildFactory(household=HouseholdFactory(school=cast.school))
    assert all(_done(cast.school).values())
    assert "Oakfield Test Primary: ready to go live?" not in client.get("/dashboard/").content.decode()
    assert AuditEntry.objects.filter(action="setup.confirm").count() == 2


def test_only_the_principal_or_a_trust_admin_confirms_the_policy(cast):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        setup_confirm(school=cast.school, item=SetupConfirmation.Item.POLICY_REVIEWED, actor=cast.dsl)
    with pytest.raises(PermissionDenied):
        setup_confirm(school=cast.school, item=SetupConfirmation.Item.NO_PROHIBITED, actor=cast.trust_admin)
    setup_confirm(school=cast.school, item=SetupConfirmation.Item.NO_PROHIBITED, actor=cast.dsl)


def test_the_setup_page_costs_the_same_queries_per_school(cast, client, django_assert_max_num_queries):
    client.force_login(cast.trust_admin)
    with django_assert_max_num_queries(60):
        assert client.get("/setup/").status_code == 200


def test_the_principal_is_told_which_items_the_trust_admin_completes(cast, client):
    """The Principal cannot open the admin or the staff import: those items say who does them, not a dead link."""
    cast.office.profile.mobile = ""
    cast.office.profile.save()
    client.force_login(cast.principal)
    page = client.get("/setup/").content.decode()
    assert "Your trust admin does this." in page
    assert 'href="/admin/core/staffprofile/"' not in page and 'href="/staff/import/"' not in page
    client.force_login(cast.trust_admin)
    page = client.get("/setup/").content.decode()
    assert 'href="/admin/core/staffprofile/"' in page and "Your trust admin does this." not in page
