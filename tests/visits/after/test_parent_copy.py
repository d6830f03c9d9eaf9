"""The parent copy and the "sorry we missed you" letter: what the family reads, and what they must never read."""

import datetime
import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image
from pypdf import PdfReader

from core.roles import Role
from families.models import ParentCarer
from tests.factories import (
    ChildFactory,
    ParentCarerFactory,
    make_member,
    make_reported_visit,
    make_visit,
    walk_visit,
)
from tests.helpers import fresh_case
from visits.after.pdf import missed_you_pdf, parent_copy_context, parent_copy_pdf
from visits.after.services import visit_concern_raise
from visits.models import Visit, VisitStatus

INTERNAL = "Internal: father's temper is worse since the court hearing"
SAFE_WORD = "pineapple-umbrella"
CONCERN = "Bruise on the left forearm, explained as a fall"


def pdf_text(data: bytes) -> str:
    """The text a reader sees, via poppler's pdftotext (layout off so words are not split by columns)."""
    if os.environ.get("PDF_DUMP_DIR"):  # to look at the PDFs as a person would: pdftoppm -png -r 70
        Path(os.environ["PDF_DUMP_DIR"], f"{len(data)}.pdf").write_bytes(data)
    assert shutil.which("pdftotext")
    result = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True)
    return " ".join(result.stdout.decode("utf-8").split())


def pages(data: bytes) -> int:
    return len(PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def family(cast):
    lead = make_member("zoe", cast.school, Role.STAFF, job_title="Family Support Worker")
    lead.first_name, lead.last_name = "Zoë", "O'Connell-Brontë"
    lead.save()
    child = ChildFactory(
        household__school=cast.school, household__name="Ní Bhriain family", first_name="Seán", last_name="Ní Bhriain"
    )
    sibling = ChildFactory(household=child.household, first_name="Aoife", last_name="Ní Bhriain")
    ParentCarerFactory(
        household=child.household, title="Mrs", first_name="Siobhán", last_name="D'Arcy", email="siobhan@example.org"
    )
    return lead, child, sibling


def _reported(
    lead, child, cast, summary="We talked about getting to school by 8:45 and agreed a morning routine.", **fields
):

    visit = make_reported_visit(
        lead=lead,
        summary=summary,
        internal_notes=INTERNAL,
        visit_fields={"child": child, "second": cast.staff2},
        actions=[
            {
                "owner": lead,
                "description": "Send the morning routine chart home",
                "agreed_with_family": True,
                "due_on": timezone.localdate() + datetime.timedelta(days=3),
            },
            {
                "owner": cast.dsl,
                "description": "Check with the health visitor about the bruise",
                "due_on": timezone.localdate() + datetime.timedelta(days=1),
            },
        ],
        next_visit_on=timezone.localdate() + datetime.timedelta(days=14),
        **fields,
    )
    return Visit.objects.get(pk=visit.pk)


def test_parent_copy_has_what_the_family_needs(cast, family):
    lead, child, _ = family
    visit = _reported(lead, child, cast)
    text = pdf_text(parent_copy_pdf(visit))
    for expected in [
        cast.school.name,
        "1 Chestnut Row",
        "Home Visit Form: parent/carer copy",
        "Seán Ní Bhriain",
        "Mrs Siobhán D'Arcy",
        "Zoë O'Connell-Brontë",
        "Family Support Worker",
        cast.staff2.get_full_name(),
        "to talk about your child's attendance at school",
        "agreed a morning routine",
        "Send the morning routine chart home",
        "Next visit",
        "Who to contact",
        "020 7946 0001",
        "Signature",
    ]:
        assert expected in text, expected


def test_parent_copy_never_shows_internal_or_restricted_records(cast, family):
    lead, child, sibling = family
    child.household.access_notes = f"Safe word {SAFE_WORD}. Dog in the yard."
    child.household.save()
    visit = _reported(lead, child, cast)
    visit_concern_raise(visit=visit, child=child, raised_by=lead, details=CONCERN)
    text = pdf_text(parent_copy_pdf(visit))
    assert SAFE_WORD not in text and "Dog in the yard" not in text
    assert INTERNAL not in text and "court hearing" not in text
    assert "bruise" not in text.lower()  # neither the concern nor the internal action about it
    assert "health visitor" not in text
    assert sibling.first_name not in text  # another child in the household, not on this visit
    assert visit.reason not in text  # the school's internal reason for visiting


def test_parent_copy_context_is_an_allow_list(cast, family):
    """The template sees only these keys: a new one must be a deliberate, reviewed choice of what parents read."""
    lead, child, _ = family
    visit = _reported(lead, child, cast)
    context = parent_copy_context(visit)
    assert set(context) == {
        "school",
        "date",
        "children",
        "carers",
        "address_lines",
        "address_block",  # the envelope window's: the carers' names and the household's address
        "purpose",
        "visitors",
        "contact_name",
        # What the letter's translated and plain-words parts need (visits/after/letter_language.py).
        "time",
        "children_names",
        "dear",
        "contact",
        "contact_phone",
        "family_language",
        "plain",
        "arrived",
        "departed",
        "outcome",
        "summary",
        "present",
        "actions",
        "next_visit_on",
    }
    assert set(context["school"]) == {"name", "address", "phone", "email", "logo"}
    assert all(set(v) == {"name", "role", "visit_role"} for v in context["visitors"])
    assert context["children"] == ["Seán Ní Bhriain"]


def test_a_long_summary_flows_onto_further_pages_with_the_header_repeated(cast, family):
    lead, child, _ = family
    paragraph = "We talked about the morning routine, homework and the bus to school. " * 12
    visit = _reported(lead, child, cast, summary="\n\n".join([paragraph] * 14))
    data = parent_copy_pdf(visit)
    pdf_text(data)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 3
    for number, page in enumerate(reader.pages, start=1):
        page_text = " ".join(page.extract_text().split())
        assert cast.school.name in page_text and "parent/carer copy" in page_text, number
        assert f"Page {number} of {len(reader.pages)}" in page_text


def test_a_short_form_fits_on_one_page(cast, family):
    lead, child, _ = family
    data = parent_copy_pdf(_reported(lead, child, cast))
    pdf_text(data)
    assert pages(data) == 1


def test_missed_you_letter(cast, family):
    lead, child, sibling = family
    visit = make_visit(lead=lead, child=child, reason=INTERNAL)
    text = pdf_text(missed_you_pdf(visit))
    assert "Sorry we missed you" in text and "nobody answered" in text
    assert "Dear Mrs Siobhán D'Arcy" in text and "Seán Ní Bhriain" in text
    assert "020 7946 0001" in text and "Zoë O'Connell-Brontë" in text
    assert INTERNAL not in text and sibling.first_name not in text
    assert pages(missed_you_pdf(visit)) == 1


def test_carer_without_parental_responsibility_is_not_addressed(cast, family):
    lead, child, _ = family
    ParentCarer.objects.create(
        household=child.household,
        first_name="Dermot",
        last_name="Quayle",
        relationship="lodger",
        parental_responsibility=False,
    )
    text = pdf_text(missed_you_pdf(make_visit(lead=lead, child=child)))
    assert "Dermot" not in text


# --- Downloading and emailing -----------------------------------------------------------------------------------

PDF_MATRIX = [
    ("staff", 200),
    ("staff2", 200),
    ("outsider", 404),
    ("dsl", 200),
    ("principal", 200),
    ("office", 404),
    ("trust_admin", 404),
    ("other_dsl", 404),
    ("other_staff", 404),
]


NO_ACCESS = dict(outcome="no_access", child_seen=False, present=[])


def test_pdf_download_permission_matrix(client, cast, subtests):
    for who, status in PDF_MATRIX:
        for document in ["parent-copy.pdf", "missed-you.pdf"]:
            with subtests.test(who=who, status=status, document=document), fresh_case(client):
                visit = make_reported_visit(lead=cast.staff, visit_fields={"second": cast.staff2}, **NO_ACCESS)
                client.force_login(getattr(cast, who))
                response = client.get(f"/visits/{visit.pk}/{document}")
                assert response.status_code == status
                if status == 200:
                    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
                    assert "Home Visit Form" in pdf_text(response.content) or "Sorry we missed you" in pdf_text(
                        response.content
                    )


def test_no_letter_before_the_visit_has_happened(client, cast):
    visit = make_visit(lead=cast.staff)
    walk_visit(visit, cast.staff, VisitStatus.REQUESTED)
    client.force_login(cast.staff)
    page = client.get(f"/visits/{visit.pk}/").content.decode()
    assert "Sorry we missed you" not in page and "Email the" not in page
    assert client.get(f"/visits/{visit.pk}/parent-copy.pdf").status_code == 404
    response = client.get(f"/visits/{visit.pk}/missed-you.pdf")
    assert response.status_code == 404 and "nobody answered" in response.content.decode()
    assert client.post(f"/visits/{visit.pk}/email/missed-you/").status_code == 404


def test_the_missed_you_letter_is_not_offered_when_the_family_was_seen(client, cast, mailoutbox):
    visit = make_reported_visit(lead=cast.staff)
    ParentCarerFactory(household=visit.household, email="carer@example.org")
    client.force_login(cast.staff)
    page = client.get(f"/visits/{visit.pk}/").content.decode()
    assert "Sorry we missed you" not in page and "Email the parent copy" in page
    assert client.get(f"/visits/{visit.pk}/missed-you.pdf").status_code == 404
    response = client.post(f"/visits/{visit.pk}/email/missed-you/", {"confirmed_to": "carer@example.org"})
    assert response.status_code == 404 and "nobody answered" in response.content.decode()
    assert mailoutbox == []


def test_the_missed_you_letter_is_offered_when_nobody_answered(client, cast, mailoutbox):
    visit = make_reported_visit(lead=cast.staff, **NO_ACCESS)
    ParentCarerFactory(household=visit.household, first_name="Rowan", last_name="Pell", email="rowan@example.org")
    client.force_login(cast.staff)
    page = client.get(f"/visits/{visit.pk}/").content.decode()
    assert "Sorry we missed you" in page and "Email the letter to the family" in page
    assert "Sorry we missed you" in pdf_text(client.get(f"/visits/{visit.pk}/missed-you.pdf").content)
    # The first press shows where it goes and sends nothing; the confirmation sends it.
    confirm = client.post(f"/visits/{visit.pk}/email/missed-you/")
    assert confirm.status_code == 200 and mailoutbox == []
    assert "Rowan Pell: <strong>rowan@example.org</strong>" in confirm.content.decode()
    response = client.post(f"/visits/{visit.pk}/email/missed-you/", {"confirmed_to": "rowan@example.org"}, follow=True)
    assert "Sent to rowan@example.org" in response.content.decode()
    (message,) = mailoutbox
    assert message.to == ["rowan@example.org"] and message.subject.startswith("Sorry we missed you")


def test_the_letter_is_offered_while_the_form_says_no_access_before_it_is_submitted(client, cast):
    visit = make_visit(lead=cast.staff)
    walk_visit(visit, cast.staff, VisitStatus.RETURNED)
    client.force_login(cast.staff)
    assert "Sorry we missed you" not in client.get(f"/visits/{visit.pk}/").content.decode()
    assert client.post(f"/visits/{visit.pk}/report/autosave/", {"outcome": "no_access"}).status_code == 200
    assert "Sorry we missed you" in client.get(f"/visits/{visit.pk}/").content.decode()
    assert client.get(f"/visits/{visit.pk}/missed-you.pdf").status_code == 200


def test_an_address_changed_after_confirming_is_not_sent_to(client, cast, mailoutbox):
    visit = make_reported_visit(lead=cast.staff)
    carer = ParentCarerFactory(household=visit.household, email="old@example.org")
    client.force_login(cast.staff)
    assert "old@example.org" in client.post(f"/visits/{visit.pk}/email/parent-copy/").content.decode()
    carer.email = "new@example.org"
    carer.save()
    response = client.post(f"/visits/{visit.pk}/email/parent-copy/", {"confirmed_to": "old@example.org"}, follow=True)
    assert "changed since you confirmed" in response.content.decode()
    assert mailoutbox == []


def test_email_the_parent_copy_to_carers_on_file(client, cast, family, mailoutbox):
    lead, child, _ = family
    visit = _reported(lead, child, cast)
    client.force_login(lead)
    confirm = client.post(f"/visits/{visit.pk}/email/parent-copy/")
    assert "siobhan@example.org" in confirm.content.decode() and mailoutbox == []
    response = client.post(f"/visits/{visit.pk}/email/parent-copy/", {"confirmed_to": "siobhan@example.org"})
    assert response.status_code == 302
    (message,) = mailoutbox
    assert message.to == ["siobhan@example.org"]
    name, data, mimetype = message.attachments[0]
    assert mimetype == "application/pdf" and "agreed a morning routine" in pdf_text(data)
    assert INTERNAL not in message.body


def test_email_without_an_address_says_so(client, cast, mailoutbox):
    visit = make_reported_visit(lead=cast.staff, **NO_ACCESS)
    client.force_login(cast.staff)
    response = client.post(f"/visits/{visit.pk}/email/missed-you/", follow=True)
    assert "No parent or carer at this household has an email address" in response.content.decode()
    assert mailoutbox == []


def test_email_permission_matrix(client, cast, mailoutbox, subtests):
    for who, status in [
        ("staff", 302),
        ("staff2", 403),
        ("outsider", 404),
        ("dsl", 302),
        ("principal", 302),
        ("office", 404),
        ("trust_admin", 404),
        ("other_dsl", 404),
        ("other_staff", 404),
    ]:
        with subtests.test(who=who, status=status), fresh_case(client):
            visit = make_reported_visit(lead=cast.staff, visit_fields={"second": cast.staff2}, **NO_ACCESS)
            ParentCarerFactory(household=visit.household, email="carer@example.org")
            client.force_login(getattr(cast, who))
            response = client.post(f"/visits/{visit.pk}/email/missed-you/", {"confirmed_to": "carer@example.org"})
            assert response.status_code == status
            assert len(mailoutbox) == (1 if status == 302 else 0)


def test_the_school_logo_is_on_every_page(cast, family, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (60, 60), (31, 59, 99)).save(buffer, "PNG")
    cast.school.logo.save("oak.png", ContentFile(buffer.getvalue()))
    lead, child, _ = family
    visit = _reported(lead, child, cast, summary="Long enough to need a second page. " * 400)
    reader = PdfReader(io.BytesIO(parent_copy_pdf(visit)))
    assert len(reader.pages) >= 2
    assert all(len(page.images) == 1 for page in reader.pages)
