"""Sessions end after 30 minutes without a request and 12 hours after signing in, whatever happens."""

from django.urls import reverse

from core.models import AuditEntry


def sign_in(client, user):
    response = client.post(reverse("login"), {"login": user.username, "password": "test-password"})
    assert response.status_code == 302


def test_thirty_idle_minutes_sign_you_out_with_a_message(client, cast, time_machine):
    time_machine.move_to("2026-12-01 09:00Z", tick=False)
    sign_in(client, cast.staff)
    time_machine.move_to("2026-12-01 09:29Z", tick=False)
    assert client.get("/visits/").status_code == 200
    time_machine.move_to("2026-12-01 09:58Z", tick=False)  # 29 minutes after the last request: still in
    assert client.get("/visits/").status_code == 200
    time_machine.move_to("2026-12-01 10:29Z", tick=False)  # 31 minutes idle
    response = client.get("/visits/")
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    page = client.get(response.url).content.decode()
    assert "signed out after 30 minutes without activity" in page
    assert client.get("/visits/").status_code == 302
    entry = AuditEntry.objects.filter(action="signin.signed_out", object_id=str(cast.staff.pk)).get()
    assert entry.details["reason"] == "idle"


def test_twelve_hours_after_signing_in_you_are_signed_out_however_busy(client, cast, time_machine):
    time_machine.move_to("2026-12-01 07:00Z", tick=False)
    sign_in(client, cast.staff)
    for hour in range(7, 19):
        for minute in (0, 20, 40):
            time_machine.move_to(f"2026-12-01 {hour:02}:{minute:02}Z", tick=False)
            assert client.get("/visits/").status_code == 200, (hour, minute)
    time_machine.move_to("2026-12-01 19:00:01Z", tick=False)
    response = client.get("/visits/")
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert "12 hours after signing in" in client.get(response.url).content.decode()
    entry = AuditEntry.objects.filter(action="signin.signed_out", object_id=str(cast.staff.pk)).get()
    assert entry.details["reason"] == "absolute"


def test_a_polling_board_is_sent_to_the_log_in_page_whole(client, cast, time_machine):
    time_machine.move_to("2026-12-01 09:00Z", tick=False)
    client.force_login(cast.office)
    assert client.get("/board/").status_code == 200
    time_machine.move_to("2026-12-01 09:31Z", tick=False)
    response = client.get("/board/live/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("login")


def test_requests_refresh_the_session_at_most_once_a_minute(client, cast, time_machine):
    time_machine.move_to("2026-12-01 09:00Z", tick=False)
    client.force_login(cast.staff)
    client.get("/visits/")
    seen = client.session["signin:seen"]
    time_machine.move_to("2026-12-01 09:00:30Z", tick=False)
    client.get("/visits/")
    assert client.session["signin:seen"] == seen
    time_machine.move_to("2026-12-01 09:01:30Z", tick=False)
    client.get("/visits/")
    assert client.session["signin:seen"] > seen
