"""The safe word: encrypted at rest with the key from the environment, shown only to the pair, the DSLs/Principal
and (for a visit out today) the office, and never written to logs, emails, exports or the audit trail."""

import io
import logging

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection

from core.models import AuditEntry
from safeguarding.services import RiskRowInput, risk_assessment_create
from tests.factories import ChildFactory, make_visit
from tests.helpers import as_database_owner, fresh_case
from tests.homevisits.test_settings import GOOD_KEY, manage
from visits.departure.services import safe_word_set
from visits.models import SafeWord

WORD = "Periwinkle lighthouse"


@pytest.fixture
def visit(cast):
    child = ChildFactory(household__school=cast.school, household__postcode="EB1 4QT")
    visit = make_visit(lead=cast.staff, second=cast.staff2, child=child)
    risk_assessment_create(
        household=child.household,
        actor=cast.staff,
        rows=[RiskRowInput(hazard="Driving", people="Staff", severity="major", likelihood="remote", controls="Care.")],
    )
    return visit


def test_round_trip_and_ciphertext_at_rest(cast, visit):
    safe_word_set(visit=visit, word=WORD, actor=cast.staff)
    assert SafeWord.objects.get(visit=visit).word == WORD
    with connection.cursor() as cursor:
        cursor.execute("SELECT word FROM visits_safeword")
        [(stored,)] = cursor.fetchall()
    assert WORD not in stored and "Periwinkle" not in stored

    assert Fernet(settings.SAFE_WORD_KEYS[0]).decrypt(stored.encode()).decode() == WORD


def test_a_different_key_cannot_read_it_and_rotation_keeps_old_words(cast, visit, settings):
    safe_word_set(visit=visit, word=WORD, actor=cast.staff)
    old_key = settings.SAFE_WORD_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.SAFE_WORD_KEYS = [new_key]
    with pytest.raises(InvalidToken):
        SafeWord.objects.get(visit=visit)
    settings.SAFE_WORD_KEYS = [new_key, old_key]  # new key first, old key still decrypts
    assert SafeWord.objects.get(visit=visit).word == WORD


def test_the_word_is_recorded_with_the_risk_assessment(cast, visit):
    safe_word = safe_word_set(visit=visit, word=WORD, actor=cast.staff)
    assert safe_word.risk_assessment.household == visit.household


def test_no_risk_assessment_no_safe_word(cast):
    visit = make_visit(lead=cast.staff, second=cast.staff2)
    with pytest.raises(ValidationError, match="risk assessment first"):
        safe_word_set(visit=visit, word=WORD, actor=cast.staff)


def test_bad_words_are_refused(cast, visit, subtests):
    for word in ["ab", "x" * 61, "   "]:
        with subtests.test(word=word), fresh_case(None):
            with pytest.raises(ValidationError):
                safe_word_set(visit=visit, word=word, actor=cast.staff)
            assert not SafeWord.objects.exists()


SEES = {
    "staff": 200,
    "staff2": 200,
    "dsl": 200,
    "principal": 200,
    "office": 404,  # a visit being planned: the office sees the word only while the pair are out today
    "outsider": 404,
    "trust_admin": 404,
    "other_dsl": 404,
    "other_staff": 404,
}


def test_who_sees_the_word(client, cast, visit, subtests):
    for who, status in SEES.items():
        with subtests.test(who=who, status=status), fresh_case(client):
            safe_word_set(visit=visit, word=WORD, actor=cast.staff)
            client.force_login(getattr(cast, who))
            response = client.get(f"/safeguarding/visits/{visit.pk}/safe-word/")
            assert response.status_code == status
            assert (WORD.encode() in response.content) == (status == 200)
            if status == 200:
                assert response["Cache-Control"] == "no-store"
                assert AuditEntry.objects.filter(action="safe_word.view", actor=getattr(cast, who)).exists()


SETS = {
    "staff": 302,
    "staff2": 302,
    "dsl": 302,
    "principal": 302,
    "office": 404,
    "outsider": 404,
    "trust_admin": 404,
    "other_dsl": 404,
    "other_staff": 404,
}


def test_who_agrees_the_word(client, cast, visit, subtests):
    for who, status in SETS.items():
        with subtests.test(who=who, status=status), fresh_case(client):
            client.force_login(getattr(cast, who))
            response = client.post(f"/safeguarding/visits/{visit.pk}/safe-word/", {"word": WORD})
            assert response.status_code == status
            assert SafeWord.objects.filter(visit=visit).exists() == (status == 302)


def test_htmx_reveal_returns_just_the_fragment(client, cast, visit):
    safe_word_set(visit=visit, word=WORD, actor=cast.staff)
    client.force_login(cast.staff2)
    response = client.get(f"/safeguarding/visits/{visit.pk}/safe-word/", HTTP_HX_REQUEST="true")
    assert WORD.encode() in response.content and b"<nav" not in response.content


def test_never_in_logs_emails_audit_exports_or_the_visit_page(
    client, cast, visit, caplog, django_capture_on_commit_callbacks
):
    cast.principal.email = "head@example.org"
    cast.principal.save()
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    connection.force_debug_cursor = True  # log every SQL statement with its parameters
    try:
        client.force_login(cast.staff)
        client.post(f"/safeguarding/visits/{visit.pk}/safe-word/", {"word": WORD})
        client.get(f"/safeguarding/visits/{visit.pk}/safe-word/")
        page = client.get(f"/visits/{visit.pk}/")
        visit.announced = False
        visit.unannounced_reason = "Welfare check: no contact for a week."
        visit.save()
        with django_capture_on_commit_callbacks(execute=True):
            with_email = client.post(f"/safeguarding/visits/{visit.pk}/checklist/headteacher/")
    finally:
        connection.force_debug_cursor = False
    assert with_email.status_code == 302
    assert SafeWord.objects.get().word == WORD  # it really was stored
    assert "visits_safeword" in caplog.text  # the SQL was logged...
    assert "Periwinkle" not in caplog.text  # ...but never the word
    assert b"Periwinkle" not in page.content and b"Show the safe word" in page.content
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "Periwinkle" not in message.subject + message.body
    assert visit.household.address in message.body  # it is the right email
    for entry in AuditEntry.objects.all():
        assert "Periwinkle" not in entry.summary + str(entry.details)
    export = io.StringIO()
    call_command("dumpdata", "visits", stdout=export)
    assert "Periwinkle" not in export.getvalue()
    assert "visits.safeword" in export.getvalue()
    assert "Periwinkle" not in str(SafeWord.objects.get()) + repr(SafeWord.objects.get())


def test_dumpdata_round_trips_through_loaddata(cast, visit, tmp_path):
    safe_word_set(visit=visit, word=WORD, actor=cast.staff)
    path = tmp_path / "safe.json"
    call_command("dumpdata", "visits.safeword", output=str(path))
    SafeWord.objects.all().delete()
    with as_database_owner():  # a restore is the owner's job: loaddata also moves the tables' sequences on
        call_command("loaddata", str(path), verbosity=0)
    assert SafeWord.objects.get().word == WORD


def test_admin_has_no_safe_word_page(client, cast):
    root = get_user_model().objects.create_superuser("root", "root@example.org", "test-password")
    client.force_login(root)
    assert client.get("/admin/visits/safeword/").status_code == 404


def test_production_refuses_to_start_without_its_own_key():
    missing = manage("check", DJANGO_SECRET_KEY=GOOD_KEY, SAFE_WORD_KEY=None)
    assert missing.returncode != 0 and "SAFE_WORD_KEY" in missing.stderr

    dev = manage("check", DJANGO_SECRET_KEY=GOOD_KEY, SAFE_WORD_KEY=settings.DEV_SAFE_WORD_KEY)
    assert dev.returncode != 0 and "SAFE_WORD_KEY" in dev.stderr
    bad = manage("check", DJANGO_SECRET_KEY=GOOD_KEY, SAFE_WORD_KEY="not-a-fernet-key")
    assert bad.returncode != 0 and "Fernet" in bad.stderr
    good = manage("check", DJANGO_SECRET_KEY=GOOD_KEY)
    assert good.returncode == 0, good.stderr
