"""The duress word is a policy value: off unless set, one word nobody texts by accident, shown in the admin to the
policy's trust admins only, and never written into the audit trail."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError

from core.models import AuditEntry, HomeVisitPolicy
from core.roles import Role
from tests.core.test_admin import _form_values, trust_admin  # noqa: F401 - the fixture
from tests.factories import make_member


def test_there_is_no_duress_word_unless_the_trust_or_school_sets_one(cast):
    assert cast.school.policy().duress_word == ""
    HomeVisitPolicy.objects.filter(trust=cast.trust, school=None).update(duress_word="Bluebell")
    HomeVisitPolicy.objects.create(trust=cast.trust, school=cast.other_school, duress_word="Kingfisher")
    assert (cast.school.policy().duress_word, cast.other_school.policy().duress_word) == ("Bluebell", "Kingfisher")
    assert "Bluebell" not in repr(cast.school.policy())  # a log line that prints the policy does not print it


@pytest.mark.parametrize(
    ("word", "why"),
    [
        ("blue bell", "single word"),
        ("bell5", "single word"),
        ("bell", "at least 5 letters"),
        ("Arrived", "check-in word"),
        ("LEFT", "at least 5 letters"),
        ("Minutes", "check-in word"),
        ("Cancel", "check-in word"),
    ],
)
def test_a_duress_word_that_could_be_texted_by_accident_is_refused(cast, word, why):
    policy = HomeVisitPolicy.objects.get(trust=cast.trust, school=None)
    policy.duress_word = word
    with pytest.raises(ValidationError, match=why):
        policy.full_clean()


def test_only_the_policys_trust_admins_see_the_duress_word_in_the_admin(client, cast, trust_admin):  # noqa: F811
    policy = HomeVisitPolicy.objects.get(trust=cast.trust, school=None)
    url = f"/admin/core/homevisitpolicy/{policy.pk}/change/"
    client.force_login(trust_admin)
    data = _form_values(client, url)
    assert "duress_word" in data
    data["duress_word"] = "Bluebell"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    policy.refresh_from_db()
    assert policy.duress_word == "Bluebell"
    entry = AuditEntry.objects.get(action="admin.changed", object_id=str(policy.pk))
    assert entry.details["fields"] == ["duress_word"] and "Bluebell" not in f"{entry.summary} {entry.details}"
    # Someone the admin lets in with the model's permissions but no trust admin role sees no such field.
    clerk = make_member("clerk", cast.school, Role.OFFICE)
    clerk.is_staff = True
    clerk.save()
    clerk.user_permissions.set(Permission.objects.filter(codename__endswith="homevisitpolicy"))
    client.force_login(clerk)
    page = client.get(url)
    assert page.status_code == 200
    assert "Bluebell" not in page.content.decode() and "duress_word" not in page.content.decode()
