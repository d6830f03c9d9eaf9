"""Log-in, log-out and each role's starting page."""

import re

from django.urls import reverse

from tests.helpers import fresh_case


def test_login_page_renders_with_labels(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert re.search(rb'<label\s+class="form-label"\s+for="id_login">Username', response.content)
    assert b'<main id="main"' in response.content


def test_wrong_password_is_told_plainly(client, cast):
    response = client.post(reverse("login"), {"login": "staff", "password": "nope"})
    assert response.status_code == 200
    assert b"username and/or password you specified are not correct" in response.content


def test_pages_need_a_login(client, db):
    for url in ["/", "/visits/", "/visits/new/", "/approvals/", "/board/", "/dashboard/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith("/accounts/login/"), url


def test_each_role_lands_on_its_own_start_page(client, cast, subtests):
    # Signed in with a password and, for the roles that need one, a second factor (tests/core/signin/).
    for who, landing in [
        ("staff", "/visits/"),
        ("dsl", "/dashboard/"),
        ("principal", "/dashboard/"),
        ("office", "/board/"),
        ("trust_admin", "/memberships/"),
    ]:
        with subtests.test(who=who, landing=landing), fresh_case(client):
            client.force_login(getattr(cast, who))
            response = client.get(reverse("home"))
            assert response.status_code == 302
            assert response.url == landing


def test_log_out_ends_the_session(client, cast):
    client.force_login(cast.staff)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get("/visits/").status_code == 302


def test_senior_pages_refuse_other_roles(client, cast, subtests):
    for url in ["/approvals/", "/dashboard/"]:
        with subtests.test(url=url), fresh_case(client):
            for user in [cast.staff, cast.office]:
                client.force_login(user)
                assert client.get(url).status_code == 403
            client.force_login(cast.dsl)
            response = client.get(url)
            assert response.status_code == 200
            assert b"Not built yet" not in response.content  # both are real pages


def test_navigation_shows_each_role_its_own_links(client, cast):
    client.force_login(cast.office)
    page = client.get("/board/").content.decode()
    assert 'href="/board/"' in page
    assert 'href="/approvals/"' not in page
    client.force_login(cast.dsl)
    page = client.get("/dashboard/").content.decode()
    assert 'href="/approvals/"' in page
