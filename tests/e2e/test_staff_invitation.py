"""A new DSL's first day in chromium: the trust admin imports the staff list, the invitation arrives in the test
outbox, the link sets a password, and the first sign-in asks for a second factor before anything else."""

import re

import pytest
from django.core import mail

from tests.helpers import totp_code

pytestmark = pytest.mark.e2e

LIST = (
    "first_name,last_name,email,mobile,job_title,role,training_date,training_expires\n"
    "Asha,Fennimore,asha@example.org,020 7946 0456,Deputy head,DSL,2026-09-01,2029-08-31\n"
)


def test_a_new_dsl_is_invited_sets_a_password_and_sets_up_a_second_factor(page, browser, live_server, cast, log_in):
    for user in (cast.staff, cast.staff2, cast.outsider, cast.dsl, cast.principal, cast.office):
        user.email = f"{user.username}@example.org"
        user.save()
    rows = "".join(
        f"{u.first_name},{u.last_name},{u.email},,,{role},,\n"
        for u, role in [
            (cast.staff, "Staff"),
            (cast.staff2, "Staff"),
            (cast.outsider, "Staff"),
            (cast.dsl, "DSL"),
            (cast.principal, "Principal"),
            (cast.office, "Office"),
        ]
    )
    log_in(page, cast.trust_admin)
    page.goto(f"{live_server.url}/staff/import/")
    page.get_by_label("School").select_option(label=cast.school.name)
    page.get_by_label("Staff list (CSV or Excel)").set_input_files(
        files=[{"name": "staff.csv", "mimeType": "text/csv", "buffer": (LIST + rows).encode()}]
    )
    page.get_by_role("button", name="Check the list").click()
    assert page.get_by_text("New: an account and an invitation by email").is_visible()
    assert not mail.outbox
    page.get_by_role("button", name=re.compile("^Import: invite 1")).click()
    page.wait_for_load_state()
    assert page.get_by_text("Staff list imported: 1 invited").is_visible()

    [invitation] = mail.outbox
    assert invitation.to == ["asha@example.org"]
    link = re.search(r"/accounts/invitation/\S+/", invitation.body).group(0)

    newcomer = browser.new_page()
    newcomer.goto(live_server.url + link)
    assert newcomer.get_by_text("Welcome, Asha").is_visible()
    newcomer.locator("input[name=new_password1]").fill("heron kiln sedge orchard")
    newcomer.locator("input[name=new_password2]").fill("heron kiln sedge orchard")
    newcomer.get_by_role("button", name="Set my password").click()
    newcomer.wait_for_load_state()
    assert "/accounts/login/" in newcomer.url
    assert newcomer.get_by_text("Your password is set").is_visible()

    newcomer.get_by_label("Username").fill("asha@example.org")
    newcomer.get_by_label("Password").fill("heron kiln sedge orchard")
    newcomer.get_by_role("button", name="Log in", exact=True).click()
    newcomer.wait_for_load_state()
    newcomer.goto(f"{live_server.url}/dashboard/")
    assert "/accounts/2fa/" in newcomer.url
    assert newcomer.get_by_text("Your role needs a second factor").is_visible()
    newcomer.get_by_role("link", name="Activate").click()
    secret = newcomer.get_by_label("Authenticator secret").input_value()
    newcomer.get_by_label("Authenticator code").fill(totp_code(secret))
    newcomer.get_by_role("button", name="Activate").click()
    newcomer.wait_for_load_state()
    newcomer.goto(f"{live_server.url}/dashboard/")
    assert newcomer.url == f"{live_server.url}/dashboard/"
    # The link is spent.
    newcomer.goto(live_server.url + link)
    assert newcomer.get_by_text("This link does not work").is_visible()
