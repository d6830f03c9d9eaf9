"""Opening a concern or incident, revealing a safe word and exporting ask for the password again after 15 minutes."""

import datetime

from django.urls import reverse

from safeguarding.services import RiskRowInput, risk_assessment_create
from tests.factories import make_visit, walk_visit
from tests.helpers import give_totp, totp_code
from visits.after.services import visit_concern_raise
from visits.departure.services import safe_word_set
from visits.models import VisitStatus

START = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.UTC)


def test_a_concern_opens_straight_after_signing_in_and_asks_again_after_15_minutes(client, cast, time_machine):
    time_machine.move_to(START, tick=False)
    visit = make_visit(lead=cast.staff, second=cast.staff2)
    concern = visit_concern_raise(visit=visit, child=visit.children.get(), raised_by=cast.staff, details="Bruise")
    url = f"/safeguarding/concerns/{concern.pk}/"
    client.force_login(cast.dsl)
    assert client.get(url).status_code == 200
    time_machine.move_to(START + datetime.timedelta(minutes=14), tick=False)
    assert client.get(url).status_code == 200
    time_machine.move_to(START + datetime.timedelta(minutes=28), tick=False)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"{reverse('account_reauthenticate')}?next={url.replace('/', '%2F')}"
    assert client.get("/dashboard/").status_code == 200  # other pages still open
    response = client.post(response.url, {"password": "wrong"})
    assert response.status_code == 200 and client.get(url).status_code == 302
    response = client.post(f"{reverse('account_reauthenticate')}?next={url}", {"password": "test-password"})
    assert response.status_code == 302 and response.url == url
    assert client.get(url).status_code == 200


def test_someone_with_an_authenticator_app_can_use_its_code_instead(client, cast, time_machine):
    time_machine.move_to(START, tick=False)
    secret = give_totp(cast.dsl)
    visit = make_visit(lead=cast.staff, second=cast.staff2)
    concern = visit_concern_raise(visit=visit, child=visit.children.get(), raised_by=cast.staff, details="Bruise")
    client.force_login(cast.dsl)
    time_machine.move_to(START + datetime.timedelta(minutes=20), tick=False)
    url = f"/safeguarding/concerns/{concern.pk}/"
    assert client.get(url).status_code == 302
    response = client.post(f"{reverse('mfa_reauthenticate')}?next={url}", {"code": totp_code(secret)})
    assert response.status_code == 302 and response.url == url
    assert client.get(url).status_code == 200


def test_the_safe_word_and_the_export_ask_again_after_15_minutes(client, cast, time_machine):
    time_machine.move_to(START, tick=False)
    visit = make_visit(lead=cast.staff, second=cast.staff2)
    walk_visit(visit, cast.staff, VisitStatus.AUTHORISED)
    risk_assessment_create(
        household=visit.household,
        actor=cast.staff,
        rows=[RiskRowInput(hazard="Driving", people="Staff", severity="major", likelihood="remote", controls="Care.")],
    )
    safe_word_set(visit=visit, word="Marigold", actor=cast.staff)
    client.force_login(cast.staff)
    reveal = f"/safeguarding/visits/{visit.pk}/safe-word/"
    assert "Marigold" in client.get(reveal).content.decode()
    time_machine.move_to(START + datetime.timedelta(minutes=20), tick=False)
    response = client.get(reveal)
    assert response.status_code == 302 and response.url.startswith(reverse("account_reauthenticate"))
    response = client.get(reveal, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=f"http://testserver/visits/{visit.pk}/")
    assert response.status_code == 204
    assert response["HX-Redirect"] == f"{reverse('account_reauthenticate')}?next=%2Fvisits%2F{visit.pk}%2F"
    export = "/visits/search/?format=csv"
    client.force_login(cast.dsl)
    time_machine.move_to(START + datetime.timedelta(minutes=40), tick=False)
    assert client.get("/visits/search/").status_code == 200  # the list itself is not an export
    response = client.get(export)
    assert response.status_code == 302 and response.url.startswith(reverse("account_reauthenticate"))
