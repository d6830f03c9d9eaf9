"""Timers that cannot be fooled, by time travel: due back re-based on the real check-out, the chain frozen at
check-out, duress that stays up until a DSL or the Principal confirms the pair safe, unanswered alerts that repeat
and climb, the lead's reminder, warnings about steps that would reach nobody, and messages that failed shown by
name."""

import datetime
import smtplib

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse

from core.models import AuditEntry, EscalationStep, HomeVisitPolicy
from tests.factories import make_authorised_visit
from tests.visits.alerts.clock import START, at, when
from visits.alerts import delivery, services, sms, sweep
from visits.field.services import visit_check_in, visit_extend
from visits.models import AlertKind, AlertNotification, AlertOutcome, CheckInKind, VisitAlert

LEAD_MOBILE, SECOND_MOBILE = "+442079460456", "+442079460123"


@pytest.fixture
def planned(contacts):
    cast = contacts
    with at(9, 0):
        return make_authorised_visit(lead=cast.staff, second=cast.staff2, authoriser=cast.dsl, start=START)


@pytest.fixture
def out(cast, planned):
    """Checked out on time at 10:00: due back 10:50, overdue at 10:55."""
    with at(10, 0):
        visit_check_in(visit=planned, actor=cast.staff, kind=CheckInKind.CHECKED_OUT)
    planned.refresh_from_db()
    return planned


def sweep_and_send(hour, minute, second=0):
    with at(hour, minute, second):
        raised = sweep.alerts_sweep()
        delivery.notifications_deliver()
    return raised


def inbox():
    """Who got which message, and empty the outboxes."""
    got = sorted([("email", m.to[0], m.subject) for m in mail.outbox] + [("sms", m["to"], "") for m in sms.outbox])
    mail.outbox.clear()
    sms.outbox.clear()
    return got


# --- Due back follows reality ----------------------------------------------------------------------------------


def test_a_check_out_hours_before_the_planned_start_is_refused_with_what_to_do(cast, contacts):
    with at(7, 0):
        visit = make_authorised_visit(lead=cast.staff, second=cast.staff2, authoriser=cast.dsl, start=when(13, 0))
    with at(7, 41), pytest.raises(ValidationError) as refused:
        visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.CHECKED_OUT)
    message = refused.value.messages[0]
    assert "you can check out from 12:00 (60 minutes before)" in message
    assert "change the visit's date and time first (a change goes back for a decision)" in message
    visit.refresh_from_db()
    assert visit.status == "authorised" and visit.checked_out_at is None and visit.alert_due_at is None


def test_a_check_out_on_another_day_is_refused(cast, planned):
    with at(10, 0, day=24), pytest.raises(ValidationError) as refused:
        visit_check_in(visit=planned, actor=cast.staff, kind=CheckInKind.CHECKED_OUT)
    assert "planned for Monday 23 November, not today" in refused.value.messages[0]


def test_the_field_page_shows_the_refusal_in_plain_words(client, cast, planned):
    client.force_login(cast.staff)
    with at(8, 30):
        response = client.post(reverse("visits:field", args=[planned.pk]), {"kind": CheckInKind.CHECKED_OUT})
    assert response.status_code == 400
    assert "you can check out from 09:00 (60 minutes before)" in response.content.decode()


def test_the_policy_sets_how_early_a_pair_may_check_out(cast, planned):
    HomeVisitPolicy.objects.create(trust=cast.trust, school=cast.school, earliest_checkout_minutes=90)
    with at(8, 30):
        visit_check_in(visit=planned, actor=cast.staff, kind=CheckInKind.CHECKED_OUT)
    planned.refresh_from_db()
    assert planned.due_back == when(9, 20)  # 08:30 plus the planned 50 minutes


@pytest.mark.parametrize(("left", "due"), [((9, 20), (10, 10)), ((10, 45), (11, 35))])
def test_due_back_is_the_check_out_plus_the_planned_length(client, cast, planned, left, due):
    with at(*left):
        visit_check_in(visit=planned, actor=cast.staff, kind=CheckInKind.CHECKED_OUT)
    planned.refresh_from_db()
    assert planned.due_back == when(*due)
    assert planned.alert_due_at == when(*due) - datetime.timedelta(minutes=10)  # the lead's reminder first
    # The board and the field page show the re-based time, with the planned one beside it on the board.
    client.force_login(cast.office)
    with at(*left):
        board = client.get("/board/").content.decode()
        on_behalf = client.get(reverse("visits:field", args=[planned.pk])).content.decode()
    client.force_login(cast.staff)
    with at(*left):
        field = client.get(reverse("visits:field", args=[planned.pk])).content.decode()
    assert f"They checked out at {left[0]:02}:{left[1]:02}" in on_behalf
    assert f"<strong>{due[0]:02}:{due[1]:02}</strong>" in board and "planned 10:50" in board
    assert f"due back <strong>{due[0]:02}:{due[1]:02}</strong>" in field
    assert f"You checked out at {left[0]:02}:{left[1]:02}: due back is that plus the planned 50 minutes" in field
    # Nothing fires at the planned time; the chain runs from the re-based one.
    overdue = when(*due) + datetime.timedelta(minutes=5)
    with at(overdue.hour, overdue.minute - 1, 59):
        sweep.alerts_sweep()
    assert not planned.alerts.exists()
    with at(overdue.hour, overdue.minute):
        assert sweep.alerts_sweep() == 1


# --- The chain is frozen at check-out --------------------------------------------------------------------------


def test_shortening_the_chain_mid_visit_still_raises_every_step_the_visit_left_with(cast, out):
    default = HomeVisitPolicy.objects.get(trust=cast.trust, school__isnull=True)
    with at(10, 56):
        assert sweep.alerts_sweep() == 1
    # An admin cuts the chain to its first step and doubles the grace while the pair are overdue.
    EscalationStep.objects.filter(policy=default, order__gt=0).delete()
    default.overdue_grace_minutes = 10
    default.save()
    with at(11, 10):
        assert sweep.alerts_sweep() == 1
    with at(11, 25):
        assert sweep.alerts_sweep() == 1
    police = VisitAlert.objects.get(visit=out, step_order=2)
    assert police.is_police_prompt and police.due_at == when(11, 25)


def test_the_extension_limit_is_the_one_the_visit_left_with(cast, out):
    HomeVisitPolicy.objects.create(trust=cast.trust, school=cast.school, max_extension_minutes=5)
    with at(10, 30):
        visit_extend(visit=out, actor=cast.staff, minutes=30)  # the trust's 30 when they checked out
    out.refresh_from_db()
    assert out.due_back == when(11, 20)


def test_an_extension_recomputes_the_stored_timer(cast, out):
    with at(10, 41):  # after the reminder time, which is past: the next thing due is the new reminder
        sweep.alerts_sweep()
        visit_extend(visit=out, actor=cast.staff, minutes=15)
    out.refresh_from_db()
    assert out.due_back == when(11, 5)
    assert out.alert_due_at == when(10, 55)  # 10 minutes before the new due back: a new reminder
    with at(10, 55):
        sweep.alerts_sweep()
    out.refresh_from_db()
    assert out.alert_due_at == when(11, 10)  # then the end of the new grace


def test_a_policy_edit_before_check_out_applies_to_that_visit(cast, planned):
    HomeVisitPolicy.objects.create(trust=cast.trust, school=cast.school, overdue_grace_minutes=20)
    with at(10, 0):
        visit_check_in(visit=planned, actor=cast.staff, kind=CheckInKind.CHECKED_OUT)
    planned.refresh_from_db()
    assert planned.safety_chain["grace_minutes"] == 20
    assert [s["action"] for s in planned.safety_chain["steps"]] == ["ring_lead", "alert_senior", "police_prompt"]
    with at(11, 9, 59):
        assert sweep.alerts_sweep() == 0
    with at(11, 10):
        assert sweep.alerts_sweep() == 1


# --- Duress stays up ---------------------------------------------------------------------------------------------


def _duress(cast, visit, hour=10, minute=20):
    with at(hour, minute):
        return services.visit_raise_duress(visit=visit, actor=cast.staff2, from_office=False)


def _confirm_page(alert):
    return reverse("board-confirm-safe", args=[alert.pk])


def _card(board: str, alert) -> str:
    return board.split(f'id="alert-{alert.pk}"')[1].split("</article>")[0]


def test_police_called_stops_the_repeats_and_the_alert_waits_for_a_senior_on_every_screen(client, cast, out):
    alert = _duress(cast, out)
    with at(10, 25):
        services.alert_acknowledge(
            alert=alert, actor=cast.office, outcome=AlertOutcome.POLICE_CALLED, police_reference="CAD 4411"
        )
    alert.refresh_from_db()
    assert alert.is_open and alert.police_called_at == when(10, 25) and alert.next_repeat_at is None
    # A check-in, an extension, a return: none of them closes it; each is shown beside it.
    with at(10, 30):
        visit_extend(visit=out, actor=cast.staff, minutes=10)
    with at(10, 40):
        visit_check_in(visit=out, actor=cast.staff, kind=CheckInKind.RETURNED)
    alert.refresh_from_db()
    assert alert.is_open
    # A later visit that is fine sits below it on the board; the returned visit stays on it, in words.
    with at(11, 0):
        other = make_authorised_visit(lead=cast.outsider, second=cast.principal, authoriser=cast.dsl, start=when(11, 5))
        visit_check_in(visit=other, actor=cast.outsider, kind=CheckInKind.CHECKED_OUT)
    for who in (cast.office, cast.dsl):
        client.force_login(who)
        with at(11, 10, day=23):
            board = client.get("/board/").content.decode()
        assert board.index(f'id="visit-{out.pk}"') < board.index(f'id="visit-{other.pk}"')
        assert 'data-state="DURESS"' in board and "board-duress" in board
        assert "police called 10:25 (ref CAD 4411). Not yet confirmed safe." in board
        card = _card(board, alert)
        assert (
            "Police called at 10:25 (ref CAD 4411): waiting for a DSL or the Principal to confirm they are safe" in card
        )
        assert "10:30 Running late: extended, pressed by" in card and "10:40 Returned to school, pressed by" in card
        assert "this does not close the alert" in card
        assert f'href="{_confirm_page(alert)}"' in card
        assert "<form" not in card, "nothing is left for the board to record: the police are called"
    client.force_login(cast.dsl)
    with at(11, 10):
        dashboard = client.get(reverse("dashboard")).content.decode()
    assert "DURESS:" in dashboard and "may be in danger" in dashboard and "Police called at 10:25" in dashboard
    assert dashboard.index("DURESS:") < dashboard.index("Requests yours to decide")
    assert f'href="{_confirm_page(alert)}"' in dashboard and "Confirm they are safe" in dashboard


def test_the_board_offers_the_office_the_police_call_only(client, cast, out):
    alert = _duress(cast, out)
    client.force_login(cast.office)
    with at(10, 21):
        card = _card(client.get("/board/").content.decode(), alert)
    assert 'value="police_called"' in card and "Police reference" in card
    for other in ("rang_all_fine", "rang_no_answer", "checked_fine", "safe_spoke", "safe_saw", "safe_police"):
        assert f'value="{other}"' not in card
    assert "Only a DSL or the Principal can close this alert" in card
    # Neither "all fine" nor a forged "confirmed safe" gets through the office's form.
    for outcome in ("rang_all_fine", "safe_spoke"):
        with at(10, 22):
            response = client.post(
                reverse("board-acknowledge", args=[alert.pk]),
                {f"ack-{alert.pk}-outcome": outcome, f"ack-{alert.pk}-new_return": "11:30"},
            )
        assert response.status_code == 400
        assert "Select a valid choice" in _card(response.content.decode(), alert)
    with at(10, 22):
        missing = client.post(
            reverse("board-acknowledge", args=[alert.pk]), {f"ack-{alert.pk}-outcome": "police_called"}
        )
    assert "Give the police reference number." in _card(missing.content.decode(), alert)
    with at(10, 23):
        response = client.post(
            reverse("board-acknowledge", args=[alert.pk]),
            {f"ack-{alert.pk}-outcome": "police_called", f"ack-{alert.pk}-police_reference": "CAD 9"},
        )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.is_open and alert.police_reference == "CAD 9"
    assert AuditEntry.objects.filter(action="alert.police_called", actor=cast.office).count() == 1
    # A second call is not recorded over the first.
    with at(10, 24), pytest.raises(ValidationError, match="already recorded"):
        services.alert_acknowledge(
            alert=alert, actor=cast.dsl, outcome=AlertOutcome.POLICE_CALLED, police_reference="X"
        )


def test_the_office_cannot_confirm_safe_and_is_told_who_can(client, cast, out):
    alert = _duress(cast, out)
    for outcome in (AlertOutcome.RANG_ALL_FINE, AlertOutcome.SAFE_SPOKE):
        with at(10, 22), pytest.raises(ValidationError):
            services.alert_acknowledge(alert=alert, actor=cast.office, outcome=outcome, new_return=when(11, 0))
    with at(10, 22), pytest.raises(PermissionDenied):
        services.alert_confirm_safe(alert=alert, actor=cast.office, how=AlertOutcome.SAFE_SPOKE, note="Rang them.")
    client.force_login(cast.office)
    with at(10, 23):
        page = client.get(_confirm_page(alert)).content.decode()
    assert "Only a DSL or the Principal of Oakfield Test Primary can confirm the pair are safe" in page
    assert "+442079460510" in page and "+442079460520" in page  # the DSL's and the Principal's mobiles
    assert 'name="how"' not in page
    with at(10, 23):
        refused = client.post(_confirm_page(alert), {"how": "safe_spoke", "note": "Rang them."})
    assert refused.status_code == 403
    assert "Only a DSL or the Principal of Oakfield Test Primary can confirm" in refused.content.decode()
    alert.refresh_from_db()
    assert alert.is_open


def test_a_dsl_confirms_safe_saying_how_they_know(client, cast, out):
    alert = _duress(cast, out)
    client.force_login(cast.dsl)
    with at(10, 30):
        page = client.get(_confirm_page(alert)).content.decode()
    assert "Confirm they are safe" in page and "Spoke to them" in page and "Saw them" in page
    assert "The police confirmed it" in page
    # Both parts are needed; what was typed stays.
    with at(10, 31):
        response = client.post(_confirm_page(alert), {"how": "", "note": "Rang Sam at 10:30"})
    body = response.content.decode()
    assert response.status_code == 400
    assert "Choose how you know they are safe." in body and "Rang Sam at 10:30" in body
    with at(10, 31):
        response = client.post(_confirm_page(alert), {"how": "safe_spoke", "note": "  "})
    assert "Say how you know they are safe" in response.content.decode()
    alert.refresh_from_db()
    assert alert.is_open
    with at(10, 32):
        response = client.post(_confirm_page(alert), {"how": "safe_spoke", "note": "Rang Sam at 10:30: both fine."})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert not alert.is_open and alert.acknowledged_by == cast.dsl and alert.outcome == AlertOutcome.SAFE_SPOKE
    assert "Rang Sam at 10:30: both fine." in alert.note
    entry = AuditEntry.objects.get(action="alert.confirmed_safe")
    assert entry.actor == cast.dsl and entry.details["note"] == "Rang Sam at 10:30: both fine."
    with at(10, 33):
        page = client.get(_confirm_page(alert)).content.decode()
    assert "Confirmed safe: spoke to them</strong>, by" in page and 'name="how"' not in page
    client.force_login(cast.office)
    with at(10, 34):
        board = client.get("/board/").content.decode()
    assert 'data-state="DURESS"' not in board and "Not yet confirmed safe" not in board


def test_only_the_visits_own_school_and_its_seniors_reach_the_confirm_page(client, cast, out):
    alert = _duress(cast, out)
    client.force_login(cast.other_dsl)  # a DSL, of the other school
    with at(10, 25):
        assert client.get(_confirm_page(alert)).status_code == 404
        assert client.post(_confirm_page(alert), {"how": "safe_saw", "note": "x"}).status_code == 404
    client.force_login(cast.staff)  # one of the pair: their own "I'm fine" cannot close it either
    with at(10, 25):
        assert client.post(_confirm_page(alert), {"how": "safe_saw", "note": "I am fine"}).status_code == 403
    with at(10, 26):
        services.alert_confirm_safe(alert=alert, actor=cast.principal, how=AlertOutcome.SAFE_SAW, note="Saw them.")
    alert.refresh_from_db()
    assert alert.get_outcome_display() == "Confirmed safe: saw them"


@pytest.mark.parametrize(
    "presses",
    [
        [CheckInKind.ARRIVED, CheckInKind.LEFT, CheckInKind.RETURNED],
        [CheckInKind.ARRIVED, CheckInKind.NOT_RETURNING],
        ["extended"],
    ],
)
def test_no_check_in_by_the_pair_closes_a_duress_alert(client, cast, out, presses):
    alert = _duress(cast, out)
    for minute, kind in enumerate(presses, start=21):
        with at(10, minute):
            if kind == "extended":
                visit_extend(visit=out, actor=cast.staff, minutes=10)
            else:
                visit_check_in(visit=out, actor=cast.staff, kind=kind)
        alert.refresh_from_db()
        assert alert.is_open, f"{kind} closed the duress alert"
    client.force_login(cast.principal)
    with at(10, 30):
        page = client.get(_confirm_page(alert)).content.decode()
    listed = page.split("duress-checkins")[1].split("</ul>")[0]
    assert listed.count("<li>") == len(presses)
    assert "never closes a duress alert" in page


def test_the_duress_message_links_the_seniors_to_the_confirm_page(cast, out):
    alert = _duress(cast, out)
    with at(10, 20):
        delivery.notifications_deliver()
    to_dsl = next(m for m in mail.outbox if m.to == ["dsl@example.org"])
    assert f"{_confirm_page(alert)}" in to_dsl.body and "Only a DSL or the Principal closes it" in to_dsl.body


def test_duress_repeats_until_the_police_are_called(cast, out):
    _duress(cast, out)
    inbox()
    sweep_and_send(10, 25)  # five minutes unanswered: sent again to the same people
    assert {who for _, who, _ in inbox()} == {
        "office@example.org",
        "dsl@example.org",
        "head@example.org",
        "+442079460500",
        "+442079460510",
        "+442079460520",
    }
    alert = VisitAlert.objects.get(visit=out, kind=AlertKind.DURESS)
    with at(10, 26):
        services.alert_acknowledge(
            alert=alert, actor=cast.office, outcome=AlertOutcome.POLICE_CALLED, police_reference="CAD 1"
        )
    sweep_and_send(10, 40)
    assert [m for m in inbox() if m[0] == "email"] == []


def test_duress_keeps_repeating_after_the_pair_press_returned(cast, out):
    """A coerced visitor can be made to press "Returned": the duress alert is sent again until a DSL or the
    Principal confirms the pair safe, and being back raises nothing else."""
    alert = _duress(cast, out)
    with at(10, 22):
        visit_check_in(visit=out, actor=cast.staff, kind=CheckInKind.RETURNED)
    sweep_and_send(10, 23)  # the first round goes out
    inbox()

    def to_the_dsl():
        return [subject for channel, who, subject in inbox() if channel == "email" and who == "dsl@example.org"]

    sweep_and_send(10, 25)  # five minutes unanswered
    assert ["still unanswered, round 2" in subject for subject in to_the_dsl()] == [True]
    sweep_and_send(10, 27)
    assert to_the_dsl() == [], "not before the next round is due"
    sweep_and_send(10, 31)
    assert len(to_the_dsl()) == 1
    # Long past due back (10:50): still only the duress alert, no overdue one.
    sweep_and_send(11, 30)
    assert list(out.alerts.values_list("kind", flat=True)) == [AlertKind.DURESS]
    with at(11, 31):
        services.alert_confirm_safe(alert=alert, actor=cast.dsl, how=AlertOutcome.SAFE_SAW, note="Seen them.")
    out.refresh_from_db()
    assert out.alert_due_at is None
    inbox()
    sweep_and_send(12, 0)
    assert inbox() == []


# --- Escalation until someone answers ----------------------------------------------------------------------------


def test_an_unanswered_alert_is_sent_again_then_to_the_next_steps_people(cast, out):
    sweep_and_send(10, 55)
    assert [(c, who) for c, who, _ in inbox()] == [
        ("email", "office@example.org"),
        ("sms", SECOND_MOBILE),
        ("sms", LEAD_MOBILE),
    ]
    sweep_and_send(10, 59, 59)
    assert inbox() == []
    sweep_and_send(11, 0)  # five minutes unanswered: again, to the office
    assert [(c, who) for c, who, _ in inbox()] == [("email", "office@example.org")]
    sweep_and_send(11, 5)  # still unanswered: the senior team hears of it too, by text as well
    got = inbox()
    assert {who for _, who, _ in got} == {
        "office@example.org",
        "dsl@example.org",
        "head@example.org",
        "+442079460500",
        "+442079460510",
        "+442079460520",
    }
    assert all("still unanswered, round 3" in subject for channel, _, subject in got if channel == "email")
    # A second sweep at the same moment sends nothing twice.
    sweep_and_send(11, 5)
    assert inbox() == []
    first = VisitAlert.objects.get(visit=out, step_order=0)
    assert first.rounds_sent == 3
    with at(11, 7):
        services.alert_acknowledge(alert=first, actor=cast.office, outcome=AlertOutcome.RANG_NO_ANSWER)
    sweep_and_send(11, 9)
    assert inbox() == []


def test_the_last_step_repeats_until_acknowledged(cast, out):
    with at(11, 25):
        assert sweep.alerts_sweep() == 3
    police = VisitAlert.objects.get(visit=out, step_order=2)
    earlier = VisitAlert.objects.filter(visit=out, step_order__lt=2)
    assert all(a.next_repeat_at is None for a in earlier)  # the last step carries on for them
    for minute in (30, 35, 40):
        sweep_and_send(11, minute)
        assert {who for _, who, _ in inbox()} >= {"office@example.org", "dsl@example.org", "head@example.org"}
    police.refresh_from_db()
    assert police.rounds_sent == 4
    with at(11, 41):
        services.alert_acknowledge(
            alert=police, actor=cast.dsl, outcome=AlertOutcome.POLICE_CALLED, police_reference="CAD 77"
        )
    out.refresh_from_db()
    assert out.alert_due_at is None
    sweep_and_send(12, 0)
    assert inbox() == []


def test_an_unanswered_check_on_them_alert_climbs_to_the_senior_team(cast, out):
    with at(10, 5):
        visit_check_in(visit=out, actor=cast.staff, kind=CheckInKind.ARRIVED)
    sweep_and_send(10, 35)  # on site for the policy's 30 minutes
    assert [who for _, who, _ in inbox()] == ["office@example.org"]
    sweep_and_send(10, 40)  # unanswered: the office again (and the lead's reminder, due at 10:40)
    assert [who for _, who, _ in inbox()] == ["office@example.org", LEAD_MOBILE]
    sweep_and_send(10, 45)
    assert {who for _, who, _ in inbox()} == {
        "office@example.org",
        "dsl@example.org",
        "head@example.org",
        "+442079460500",
        "+442079460510",
        "+442079460520",
    }


def test_the_senior_teams_unanswered_alert_climbs_to_the_police_prompts_people(cast, planned):
    """The second step climbs too: from its third round the office (the police prompt's people) is texted."""
    default = HomeVisitPolicy.objects.get(trust=cast.trust, school__isnull=True)
    EscalationStep.objects.filter(policy=default, order=2).update(delay_minutes=120)  # far off: only the climb
    with at(10, 0):
        visit_check_in(visit=planned, actor=cast.staff, kind=CheckInKind.CHECKED_OUT)
    sweep_and_send(10, 55)
    sweep_and_send(11, 10)  # the senior team's step; the first step stops repeating
    inbox()
    sweep_and_send(11, 15)  # its second round: the senior team again
    assert {who for _, who, _ in inbox()} == {"dsl@example.org", "head@example.org", "+442079460510", "+442079460520"}
    sweep_and_send(11, 20)  # its third round: the office too, by text as well
    assert {who for _, who, _ in inbox()} == {
        "office@example.org",
        "dsl@example.org",
        "head@example.org",
        "+442079460500",
        "+442079460510",
        "+442079460520",
    }
    assert not planned.alerts.filter(step_order=2).exists()


def test_a_check_in_stops_the_repeats(cast, out):
    sweep_and_send(10, 55)
    with at(10, 57):
        visit_check_in(visit=out, actor=cast.staff, kind=CheckInKind.RETURNED)
    inbox()
    sweep_and_send(11, 10)
    assert inbox() == []


# --- The pair are reminded ---------------------------------------------------------------------------------------


def test_the_lead_is_reminded_before_due_back_once(cast, out):
    sweep_and_send(10, 39, 59)
    assert inbox() == []
    sweep_and_send(10, 40)
    assert sms.outbox == [
        {
            "to": LEAD_MOBILE,
            "body": f"Home visit\nDue back 10:50: extend or check in: http://localhost:8000/visits/{out.pk}/field/",
            "id": sms.outbox[0]["id"],
        }
    ]
    row = AlertNotification.objects.get(key="reminder:0")
    assert row.alert is None and row.provider_id == sms.outbox[0]["id"]
    assert AuditEntry.objects.filter(action="visit.reminder", summary="Lead reminded: due back 10:50").count() == 1
    inbox()
    sweep_and_send(10, 41)
    assert inbox() == []
    # Extended: a new reminder before the new time.
    with at(10, 45):
        visit_extend(visit=out, actor=cast.staff, minutes=20)
    sweep_and_send(11, 0)
    assert [m[1] for m in inbox()] == [LEAD_MOBILE]


def test_no_reminder_when_the_policy_says_none(cast, planned):
    HomeVisitPolicy.objects.create(trust=cast.trust, school=cast.school, remind_before_minutes=0)
    with at(10, 0):
        visit_check_in(visit=planned, actor=cast.staff, kind=CheckInKind.CHECKED_OUT)
    planned.refresh_from_db()
    assert planned.alert_due_at == when(10, 55)
    sweep_and_send(10, 50)
    assert inbox() == []


# --- Steps that would reach nobody, messages that failed ---------------------------------------------------------


def test_a_step_whose_people_have_no_mobile_is_warned_of_before_it_matters(client, cast, contacts, admin_client):
    for user in (cast.dsl, cast.principal):
        user.profile.mobile = ""
        user.profile.save()
    cast.office.email = ""
    cast.office.save()
    client.force_login(cast.dsl)
    page = client.get(reverse("dashboard")).content.decode()
    assert "Escalation alerts that would reach nobody" in page
    assert "step 1 (Office rings the lead&#x27;s mobile): no active Office / reception has an email address" in page
    assert "step 2 (Alert the DSL and Principal): no active Designated Safeguarding Lead (or deputy) or " in page
    assert "Principal / Headteacher has a mobile for texts." in page
    policy = HomeVisitPolicy.objects.get(trust=cast.trust, school__isnull=True)
    admin_page = admin_client.get(f"/admin/core/homevisitpolicy/{policy.pk}/change/").content.decode()
    assert "Oakfield Test Primary, step 2 (Alert the DSL and Principal)" in admin_page
    cast.dsl.profile.mobile = "020 7946 0999"
    cast.dsl.profile.save()
    cast.office.email = "office@example.org"
    cast.office.save()
    page = client.get(reverse("dashboard")).content.decode()
    assert "would reach nobody" not in page


def test_a_text_that_fails_after_its_retries_is_named_on_the_board_and_sent_by_email(client, cast, out, settings):
    settings.SMS_BACKEND = "tests.visits.alerts.test_timers.DeadSMSBackend"
    with at(11, 10):
        sweep.alerts_sweep()  # step 2 texts the DSL and the Principal
    for second in (0, 2, 6, 14, 30):  # 2, 4, 8 and 16 seconds apart
        with at(11, 10, second):
            delivery.notifications_deliver()
    failed = AlertNotification.objects.filter(failed_at__isnull=False, channel="sms", alert__step_order=1)
    assert {n.user for n in failed} == {cast.dsl, cast.principal}
    assert all(n.attempts == 5 and n.sent_at is None for n in failed)
    fallback = AlertNotification.objects.get(user=cast.dsl, key__endswith=":other")
    assert fallback.channel == "email" and fallback.recipient == "dsl@example.org"
    client.force_login(cast.office)
    with at(11, 10, 31):
        board = client.get("/board/").content.decode()
        delivery.notifications_deliver()
    assert f"Text to {cast.dsl.get_full_name()} failed" in board
    assert f"Text to {cast.principal.get_full_name()} failed: sending it by email instead" in board
    fallback.refresh_from_db()
    assert fallback.sent_at is not None and fallback.provider_id.startswith("smtp:")
    # Once the alerts are answered there is nothing left to chase: the failures leave the board.
    with at(11, 12):
        for alert in VisitAlert.objects.filter(visit=out, acknowledged_at__isnull=True):
            services.alert_acknowledge(alert=alert, actor=cast.dsl, outcome=AlertOutcome.RANG_NO_ANSWER)
        board = client.get("/board/").content.decode()
    assert "Text to" not in board and f'id="visit-{out.pk}"' in board


def test_an_email_that_fails_after_its_retries_is_sent_by_text_with_the_same_words_once(cast, out, settings):
    settings.EMAIL_BACKEND = "tests.visits.alerts.test_timers.DeadEmailBackend"
    with at(10, 55):
        sweep.alerts_sweep()  # the first step emails the office
    for second in (0, 2, 6, 14, 30):
        with at(10, 55, second):
            delivery.notifications_deliver()
    with at(10, 55, 31):
        delivery.notifications_deliver()  # the fallback, queued at the fifth failure
    email = AlertNotification.objects.get(user=cast.office, channel="email")
    assert email.attempts == 5 and email.failed_at is not None and email.sent_at is None
    fallback = AlertNotification.objects.get(user=cast.office, key__endswith=":other")
    assert (fallback.channel, fallback.recipient) == ("sms", "+442079460500")
    assert (fallback.subject, fallback.body) == (email.subject, email.body) and email.body
    assert fallback.sent_at is not None and sms.outbox[-1]["to"] == "+442079460500"
    assert email.body in sms.outbox[-1]["body"]
    # A fallback that fails too is not bounced back again: one message, two channels, then the board.
    settings.SMS_BACKEND = "tests.visits.alerts.test_timers.DeadSMSBackend"
    AlertNotification.objects.filter(pk=fallback.pk).update(sent_at=None, provider_id="", attempts=0)
    for minute, second in ((55, 40), (55, 42), (55, 46), (55, 54), (56, 10), (56, 50)):
        with at(10, minute, second):
            delivery.notifications_deliver()
    fallback.refresh_from_db()
    assert fallback.failed_at is not None
    assert AlertNotification.objects.filter(user=cast.office).count() == 2


class DeadEmailBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("mail server unreachable")


def test_a_message_counts_as_sent_only_when_the_provider_accepted_it(cast, out, settings):
    settings.SMS_BACKEND = "tests.visits.alerts.test_timers.SilentSMSBackend"
    with at(10, 55):
        sweep.alerts_sweep()
        delivery.notifications_deliver()
    texts = AlertNotification.objects.filter(channel="sms")
    assert texts.count() == 2 and all(t.sent_at is None and "did not accept" in t.last_error for t in texts)
    email = AlertNotification.objects.get(channel="email")
    assert email.sent_at is not None and email.provider_id


class DeadSMSBackend:
    def send(self, to, body, reference=""):
        raise ConnectionError("provider unreachable")


class SilentSMSBackend:
    """Answers without an id: nothing says the provider took the message."""

    def send(self, to, body, reference=""):
        return ""
