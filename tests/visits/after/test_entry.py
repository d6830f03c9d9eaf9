"""The Home Visit Form and going into the home: at a child's invitation with no adult there, or with nobody present
who has parental responsibility, the form refuses it as an ordinary visit, says why beside the field, and offers a
concern for the DSL that starts from what was recorded; once that concern is raised the form records what
happened. Nothing typed is lost on the way."""

import pytest

from safeguarding.models import Concern
from tests.visits.after import test_reports as reports
from visits.models import VisitConcern, VisitReport, VisitStatus

returned_visit = reports.returned_visit  # the same fixture: back at school on a Monday, the form not yet written
_form = reports._form

CHILD_ALONE = {
    "invited_in_by": "child_alone",
    "present-0-name": "Kai Pellingham",
    "present-0-relationship": "the child, aged 9",
    "present-0-parental_responsibility": "",
}


def _url(visit):
    return f"/visits/{visit.pk}/report/"


def _concern_url(visit):
    return f"/safeguarding/concerns/new/?visit={visit.pk}&about=entry"


def _errors(response, field="invited_in_by"):
    return " ".join(response.context["form"].errors.get(field, []))


def test_going_in_at_a_childs_invitation_is_refused_beside_the_field_and_offers_a_concern(client, cast, returned_visit):
    client.force_login(cast.staff)
    response = client.post(_url(returned_visit), _form(cast, **CHILD_ALONE))
    assert response.status_code == 200
    assert "never go into a home at the invitation of a child with no adult there" in _errors(response)
    page = response.content.decode()
    assert 'id="error_1_id_invited_in_by"' in page
    assert "Raise a concern for the DSL about this" in page
    assert f'href="/safeguarding/concerns/new/?visit={returned_visit.pk}&amp;about=entry"' in page
    returned_visit.refresh_from_db()
    assert returned_visit.status == VisitStatus.RETURNED
    draft = VisitReport.objects.get().draft
    assert draft["invited_in_by"] == ["child_alone"] and draft["present-0-name"] == ["Kai Pellingham"]
    assert draft["parent_summary"] == ["We agreed a new bedtime so mornings are calmer."]


def test_the_refusal_comes_with_the_forms_other_errors_in_one_round(client, cast, returned_visit):
    client.force_login(cast.staff)
    response = client.post(_url(returned_visit), _form(cast, parent_summary="", **CHILD_ALONE))
    assert "invitation of a child" in _errors(response)
    assert _errors(response, "parent_summary")


@pytest.mark.parametrize("invited", ["parent", "other_with_parent"])
def test_nobody_with_parental_responsibility_present_is_refused_until_one_is_recorded(
    client, cast, returned_visit, invited
):
    client.force_login(cast.staff)
    unticked = _form(cast, invited_in_by=invited, **{"present-0-parental_responsibility": ""})
    response = client.post(_url(returned_visit), unticked)
    assert response.status_code == 200
    assert "Nobody you recorded as present has parental responsibility" in _errors(response)
    assert "add them under “Who was present” and tick the box" in _errors(response)
    # The mother was there after all: ticked, it goes in as an ordinary visit.
    response = client.post(_url(returned_visit), _form(cast, invited_in_by=invited))
    assert response.status_code == 302
    returned_visit.refresh_from_db()
    assert returned_visit.status == VisitStatus.REPORTED and not Concern.objects.exists()


def test_an_adult_the_parent_asked_to_be_there_may_let_staff_in(client, cast, returned_visit):
    client.force_login(cast.staff)
    delegated = {
        "invited_in_by": "delegated",
        "present-0-name": "Morgan Tilly",
        "present-0-relationship": "grandmother, looking after him today",
        "present-0-parental_responsibility": "",
    }
    assert client.post(_url(returned_visit), _form(cast, **delegated)).status_code == 302
    returned_visit.refresh_from_db()
    assert returned_visit.status == VisitStatus.REPORTED


def test_the_offer_raises_a_concern_for_the_dsl_from_what_was_recorded_then_the_form_submits(
    client, cast, returned_visit, mailoutbox, django_capture_on_commit_callbacks
):
    cast.dsl.email = "dsl@example.org"
    cast.dsl.save()
    client.force_login(cast.staff)
    client.post(_url(returned_visit), _form(cast, **CHILD_ALONE))
    page = client.get(_concern_url(returned_visit)).content.decode()
    assert "About how staff went into the home on this visit" in page
    assert "Who let us in: a child, with no adult at home." in page
    assert "Present: Kai Pellingham (the child, aged 9)." in page
    details = "Kai opened the door; nobody else was home. We went in to check he was safe."
    child = returned_visit.children.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_concern_url(returned_visit), {"child": child.pk, "kind": "concern", "details": details})
    assert response.status_code == 302 and response.url == _url(returned_visit)
    link = VisitConcern.objects.get(visit=returned_visit)
    assert link.about_entry and link.concern.details == details and link.concern.raised_by == cast.staff
    assert [m.to for m in mailoutbox] == [["dsl@example.org"]]
    assert "New safeguarding concern" in mailoutbox[0].subject
    # Back on the form: everything typed is still there, and it now records what happened.
    form = client.get(_url(returned_visit)).content.decode()
    assert "A concern about how you went in went to the DSLs" in form
    assert 'value="Kai Pellingham"' in form and "We agreed a new bedtime so mornings are calmer." in form
    assert client.post(_url(returned_visit), _form(cast, **CHILD_ALONE)).status_code == 302
    returned_visit.refresh_from_db()
    assert returned_visit.status == VisitStatus.REPORTED
    assert returned_visit.report.get_invited_in_by_display() == "A child, with no adult at home"


def test_only_the_lead_sees_the_concern_started_from_their_form(client, cast, returned_visit):
    client.force_login(cast.staff)
    client.post(_url(returned_visit), _form(cast, **CHILD_ALONE))
    client.force_login(cast.staff2)  # the second visitor may raise a concern too, but not read the lead's draft
    page = client.get(_concern_url(returned_visit)).content.decode()
    assert "Who let us in" not in page and "Kai Pellingham" not in page
