"""Letters by post through GOV.UK Notify: the layout Notify asks for, the address the sender confirms, the post
itself (against Notify's test double on 127.0.0.1) and Notify's receipts for the letter."""

import re
import shutil
import subprocess

import pytest
from django.core import mail

from core.models import AuditEntry
from tests.factories import ParentCarerFactory, make_reported_visit
from tests.fake_providers import letter_pdf, notify_post, providers  # noqa: F401 - the fixture
from visits.after.pdf import missed_you_pdf, parent_copy_pdf
from visits.models import PostedLetter

NO_ACCESS = dict(outcome="no_access", child_seen=False, present=[])
MM = 72 / 25.4  # points in a millimetre

# GOV.UK Notify's letter specification (precompiled letters), in mm from the top left of an A4 page.
A4 = (210, 297)
ADDRESS_BLOCK = (24.6, 39.5, 120.0, 66.3)  # left, top, right, bottom
LETTERHEAD = (15.0, 5.0, 125.0, 30.0)
DETAILS_COLUMN = (125.0, 5.0, 195.0, 95.0)
BODY_TOP = 95.0
BORDERS = (15.0, 5.0, 195.0, 292.0)


def words(data: bytes) -> list[list[tuple[float, float, float, float, str]]]:
    """Each page's words with their boxes in mm (poppler's pdftotext -bbox)."""
    assert shutil.which("pdftotext")
    html = subprocess.run(["pdftotext", "-bbox", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
    pages = []
    for page in re.split(r"<page ", html)[1:]:
        width, height = (float(v) for v in re.search(r'width="([\d.]+)" height="([\d.]+)"', page).groups())
        assert (round(width / MM), round(height / MM)) == A4
        found = re.findall(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', page)
        pages.append([(*(float(v) / MM for v in box), text) for *box, text in found])
    return pages


def inside(box, area) -> bool:
    x0, y0, x1, y1, _ = box
    return x0 >= area[0] - 0.5 and y0 >= area[1] - 0.5 and x1 <= area[2] + 0.5 and y1 <= area[3] + 0.5


@pytest.fixture
def no_access(cast):
    visit = make_reported_visit(lead=cast.staff, visit_fields={"second": cast.staff2}, **NO_ACCESS)
    ParentCarerFactory(household=visit.household, title="Ms", first_name="Rowan", last_name="Pell")
    return visit


@pytest.mark.parametrize("render", [parent_copy_pdf, missed_you_pdf])
def test_page_one_follows_notifys_letter_specification(cast, no_access, render):
    """The address in Notify's address block; above 95 mm only the letterhead, the address and the right-hand
    column; every word on every page inside the printable borders."""
    pages = words(render(no_access))
    address = [w for w in pages[0] if inside(w, ADDRESS_BLOCK)]
    assert " ".join(w[4] for w in address) == "Ms Rowan Pell " + " ".join(
        [no_access.household.address_line1, no_access.household.town, no_access.household.postcode]
    )
    for word in pages[0]:
        if word[1] < BODY_TOP:
            assert any(inside(word, area) for area in (LETTERHEAD, ADDRESS_BLOCK, DETAILS_COLUMN)), word
    for page in pages:
        for word in page:
            assert inside(word, BORDERS), word


def test_a_letter_goes_by_post_to_the_confirmed_address(client, cast, no_access, providers):  # noqa: F811
    client.force_login(cast.staff)
    page = client.get(no_access.get_absolute_url()).content.decode()
    assert "Post the letter to the family" in page
    confirm = client.post(f"/visits/{no_access.pk}/post/missed-you/")
    assert confirm.status_code == 200 and providers.calls == []
    html = confirm.content.decode()
    assert "Ms Rowan Pell<br>" in html and f"{no_access.household.postcode}<br>" in html
    address = ["Ms Rowan Pell", no_access.household.address_line1, no_access.household.town, "EB2 3CD"]
    response = client.post(f"/visits/{no_access.pk}/post/missed-you/", {"confirmed_address": address}, follow=True)
    assert "Sent to GOV.UK Notify to print and post (second class) to Ms Rowan Pell" in response.content.decode()
    (call,) = providers.sent("/v2/notifications/letter")
    letter = PostedLetter.objects.get()
    assert call.json["reference"] == f"letter-{letter.pk}" and call.json["postage"] == "second"
    posted = words(letter_pdf(call))
    assert "missed" in [w[4] for w in posted[0]] and [w[4] for w in posted[0] if inside(w, ADDRESS_BLOCK)][:3] == [
        "Ms",
        "Rowan",
        "Pell",
    ]
    assert letter.provider_id and letter.address_lines == address and letter.sent_by == cast.staff
    entry = AuditEntry.objects.get(action="visit.post_missed_you")
    assert entry.actor == cast.staff and entry.details["notify_id"] == letter.provider_id
    assert "waiting to be printed" in client.get(no_access.get_absolute_url()).content.decode()
    # Pressed again: the letter is not posted twice.
    again = client.post(f"/visits/{no_access.pk}/post/missed-you/", {"confirmed_address": address}, follow=True)
    assert "already posted on" in again.content.decode()
    assert len(providers.sent("/v2/notifications/letter")) == 1


def test_an_address_changed_after_confirming_is_not_posted_to(client, cast, no_access, providers):  # noqa: F811
    client.force_login(cast.staff)
    old = ["Ms Rowan Pell", no_access.household.address_line1, no_access.household.town, "EB2 3CD"]
    no_access.household.address_line1 = "2 New Road"
    no_access.household.save()
    response = client.post(f"/visits/{no_access.pk}/post/missed-you/", {"confirmed_address": old}, follow=True)
    assert "changed since you confirmed" in response.content.decode()
    assert providers.calls == [] and not PostedLetter.objects.exists()


def test_notify_refusing_the_letter_says_why_and_keeps_nothing(client, cast, no_access, providers):  # noqa: F811
    providers.fail_next(
        "/v2/notifications/letter",
        400,
        {
            "status_code": 400,
            "errors": [{"error": "BadRequestError", "message": "Cannot send letters with a team api key"}],
        },
    )
    client.force_login(cast.staff)
    address = ["Ms Rowan Pell", no_access.household.address_line1, no_access.household.town, "EB2 3CD"]
    response = client.post(f"/visits/{no_access.pk}/post/missed-you/", {"confirmed_address": address}, follow=True)
    assert (
        "GOV.UK Notify did not accept the letter: Cannot send letters with a team api key" in response.content.decode()
    )
    assert not PostedLetter.objects.exists() and not AuditEntry.objects.filter(action="visit.post_missed_you").exists()


def test_letters_by_post_are_not_offered_without_notify(client, cast, no_access, settings):
    settings.NOTIFY_API_KEY = ""
    client.force_login(cast.staff)
    assert "Post the letter" not in client.get(no_access.get_absolute_url()).content.decode()
    response = client.post(f"/visits/{no_access.pk}/post/missed-you/", follow=True)
    assert "GOV.UK Notify, which is not set up here" in response.content.decode()


def test_who_may_post_a_letter(client, cast, no_access, providers, subtests):  # noqa: F811
    for who, status in [("staff2", 403), ("outsider", 404), ("office", 404), ("other_dsl", 404), ("dsl", 200)]:
        with subtests.test(who=who):
            client.force_login(getattr(cast, who))
            assert client.post(f"/visits/{no_access.pk}/post/missed-you/").status_code == status
    assert providers.calls == []


def _posted(client, cast, visit):
    client.force_login(cast.staff)
    address = ["Ms Rowan Pell", visit.household.address_line1, visit.household.town, "EB2 3CD"]
    client.post(f"/visits/{visit.pk}/post/missed-you/", {"confirmed_address": address})
    return PostedLetter.objects.get()


def test_notifys_receipt_says_the_letter_was_printed_and_posted(client, cast, no_access, providers):  # noqa: F811
    letter = _posted(client, cast, no_access)
    receipt = {"id": letter.provider_id, "reference": letter.receipt_reference, "status": "received"}
    assert notify_post(client, "/webhooks/notify/status/", receipt).status_code == 204
    letter.refresh_from_db()
    assert letter.status == "delivered" and letter.status_at is not None
    assert "printed and posted" in client.get(no_access.get_absolute_url()).content.decode()


def test_a_letter_notify_could_not_post_is_shown_and_its_sender_told(
    client,
    cast,
    no_access,
    providers,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    cast.staff.email = "lead@example.org"
    cast.staff.save()
    letter = _posted(client, cast, no_access)
    mail.outbox.clear()
    receipt = {"id": letter.provider_id, "reference": letter.receipt_reference, "status": "validation-failed"}
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_post(client, "/webhooks/notify/status/", receipt).status_code == 204
    (told,) = mail.outbox
    assert told.to == ["lead@example.org"] and "did not meet Notify's layout rules" in told.body
    assert no_access.get_absolute_url() in told.body
    letter.refresh_from_db()
    assert letter.status == "failed" and "layout" in letter.status_reason
    assert (
        "not posted, because the letter did not meet Notify&#x27;s layout rules"
        in client.get(no_access.get_absolute_url()).content.decode()
    )
    assert AuditEntry.objects.get(action="letter.failed").actor is None
    # A forged receipt is refused and changes nothing; the same receipt again changes nothing either.
    forged = notify_post(client, "/webhooks/notify/status/", {**receipt, "status": "received"}, token="guess-1234567")
    assert forged.status_code == 403
    notify_post(client, "/webhooks/notify/status/", {**receipt, "status": "received"})
    letter.refresh_from_db()
    assert letter.status == "failed"
