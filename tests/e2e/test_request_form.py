"""The request form on a 360 px phone with its script: fields that apply only to another answer appear when it is
chosen, "back by" follows the start and duration, colleagues whose training lapses before the visit's day are
marked, the family's needs appear once the child is ticked, and the summary of problems takes focus and leads to
each field. Prints the form's height on the phone (the figure the report quotes)."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.roles import Role
from tests.factories import ChildFactory, make_member, make_visit, tomorrow_at
from visits.models import Visit

pytestmark = pytest.mark.e2e


def test_the_request_form_on_a_phone(browser, live_server, cast, log_in):
    child = ChildFactory(
        household__school=cast.school,
        household__interpreter_needed=True,
        household__home_languages="Tigrinya",
        household__access_notes="Large dog: ask for it to be shut in the kitchen.",
        first_name="Juniper",
        last_name="Wrenfield",
    )
    make_visit(lead=cast.staff, second=cast.staff2, child=child, start=tomorrow_at(9))  # their draft opens the family
    day = timezone.localdate() + datetime.timedelta(days=7)
    lapsing = make_member("lapsing", cast.school, Role.STAFF, training_expires_on=day - datetime.timedelta(days=1))
    cast.staff.profile.vehicle_description = "Blue Ford Fiesta"
    cast.staff.profile.save()

    phone = browser.new_context(viewport={"width": 360, "height": 780})
    page = phone.new_page()
    log_in(page, cast.staff)
    page.goto(f"{live_server.url}/visits/new/")
    height = page.evaluate("document.documentElement.scrollHeight")
    print(f"The request form on a 360x780 phone: {height} px, {height / 780:.1f} screens")

    # Fields for another answer stay out of the way until it is chosen.
    assert not page.get_by_label("Why unannounced?").is_visible()
    page.get_by_role("radio", name="Unannounced").check()
    assert page.get_by_label("Why unannounced?").is_visible()
    page.get_by_role("radio", name="Announced: the family will be told").check()
    assert not page.get_by_label("Why unannounced?").is_visible()
    assert page.get_by_label("The car").is_visible()  # the lead's insured car is the usual way
    page.get_by_label("On foot or by public transport").check()
    assert not page.get_by_label("The car").is_visible()
    assert not page.get_by_label("External practitioner's name").is_visible()
    page.get_by_text("An external practitioner comes").click()
    assert page.get_by_label("External practitioner's name").is_visible()

    # The Principal's exception is offered when the times need it; "back by" follows the start and the duration.
    exception = page.get_by_label("Ask for the Principal's exception")
    page.get_by_label("Visit date").fill(day.isoformat())
    page.get_by_label("Start time").fill("10:00")
    page.get_by_label("How long (minutes)").fill("30")
    assert not exception.is_visible()
    assert page.get_by_label("Back at school by").input_value() == "10:30"
    page.get_by_label("Start time").fill("19:00")
    assert exception.is_visible() and page.get_by_label("Back at school by").input_value() == "19:30"
    assert page.get_by_text("Visits start between 08:30 and 16:30 and last at most 30 minutes").is_visible()

    # A colleague whose training lapses before the chosen day is marked in the list.
    option = page.locator(f'#id_second_visitor option[value="{lapsing.pk}"]')
    expect(option).to_contain_text("before the visit")

    # The family's needs appear once the child is ticked.
    page.get_by_label("Child or children").fill("junip")
    page.get_by_label("Juniper Wrenfield").check()
    expect(page.locator("#household-needs")).to_contain_text("Interpreter needed: Tigrinya")
    expect(page.locator("#household-needs")).to_contain_text("Large dog")

    # Submit with problems: one summary, with focus, naming the policy's problem beside the form's own.
    page.get_by_label("Your mobile").fill("12")
    page.get_by_role("button", name="Submit for authorisation").click()
    page.wait_for_load_state()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.title().startswith("Error:")
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("Start time: Starts at 19:00, outside 08:30–16:30")
    expect(summary).to_contain_text("Your mobile:")
    assert Visit.objects.count() == 1  # only the earlier draft: nothing saved
    page.get_by_role("link", name=re.compile("^Start time:")).click()
    assert page.evaluate("document.activeElement.id") == "id_start_time"
    # What was typed is still there, and the exception is offered beside it.
    assert page.get_by_label("Start time").input_value() == "19:00"
    assert exception.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    phone.close()
