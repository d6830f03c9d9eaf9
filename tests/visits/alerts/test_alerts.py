"""Overdue timers, the escalation chain, on-site-too-long, duress and delivery: time travel for every step and race."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from core.models import EscalationAction, EscalationStep, HomeVisitPolicy
from tests.factories import make_authorised_visit
from tests.visits.alerts.clock import START, UTC, at
from visits.alerts import delivery, services, sms, sweep
from visits.field.services import visit_check_in, visit_extend
from visits.models import AlertKind, AlertNotification, AlertOutcome, CheckInKind, Visit, VisitAlert, VisitStatus

# make_visit: 30 minutes plus 20 travelling -> due back 10:50; the trust default grace is 5 minutes, its steps
# 0, 15 and 30 minutes after that.
OVERDUE = datetime.datetime(2026, 11, 23, 10, 55, tzinfo=UTC)
# The trust default reminds the lead 10 minutes before due back, and repeats an unanswered alert after 5.
REMINDER = datetime.datetime(2026, 11, 23, 10, 40, tzinfo=UTC)
LEAD_MOBILE, SECOND_MOBILE = "+442079460456", "+442079460123"


@pytest.fixture
def out_visit(contacts):
    """The pair checked out at 10:00, due back 10:50."""
    cast = contacts
    with at(9, 0):
        visit = make_authorised_visit(lead=cast.staff, second=cast.staff2, authoriser=cast.dsl, start=START)
    with at(10, 0):
        visit_check_in(visit=visit, actor=cast.staff, kind=CheckInKind.CHECKED_OUT)
    visit.refresh_from_db()
    return visit


def alert_keys(visit):
    return list(VisitAlert.objects.filter(visit=visit).order_by("raised_at", "id").values_list("key", flat=True))


def test_checking_out_sets_the_timer_to_the_reminder_then_the_end_of_the_grace(out_visit):
    assert out_visit.status == VisitStatus.OUT
    assert out_visit.alert_due_at == REMINDER
    with at(10, 40):
        assert sweep.alerts_sweep() == 0
    out_visit.refresh_from_db()
    assert out_visit.alert_due_at == OVERDUE


def test_nothing_is_raised_before_the_grace_ends(out_visit):
    with at(10, 54, 59):
        assert sweep.alerts_sweep() == 0
    assert alert_keys(out_visit) == []


def test_each_step_of_the_chain_fires_at_its_own_delay(cast, out_visit):
    with at(10, 55):
        assert sweep.alerts_sweep() == 1
        delivery.notifications_deliver()
    first = VisitAlert.objects.get(visit=out_visit)
    assert first.action == EscalationAction.RING_LEAD and first.due_at == OVERDUE
    # Step one goes to the office by email (and the board); the pair themselves are texted, nobody else.
    assert [m.to for m in mail.outbox] == [["office@example.org"]]
    assert sorted(m["to"] for m in sms.outbox) == [SECOND_MOBILE, LEAD_MOBILE]
    assert all("You were due back at 10:50" in m["body"] for m in sms.outbox)
    assert "Willow Lane" in mail.outbox[0].body and "EB12 ABC" in mail.outbox[0].body
    assert out_visit.reason not in mail.outbox[0].body

    with at(11, 9, 59):
        assert sweep.alerts_sweep() == 0
        delivery.notifications_deliver()
    mail.outbox.clear()
    sms.outbox.clear()
    with at(11, 10):
        assert sweep.alerts_sweep() == 1
        delivery.notifications_deliver()
    senior = VisitAlert.objects.get(visit=out_visit, step_order=1)
    assert senior.action == EscalationAction.ALERT_SENIOR
    assert sorted(m.to[0] for m in mail.outbox) == ["dsl@example.org", "head@example.org"]
    assert len(sms.outbox) == 2

    with at(11, 25):
        assert sweep.alerts_sweep() == 1
        delivery.notifications_deliver()
    police = VisitAlert.objects.get(visit=out_visit, step_order=2)
    assert police.action == EscalationAction.POLICE_PROMPT and police.is_police_prompt
    out_visit.refresh_from_db()
    # The chain has run out of steps; the last one repeats until someone answers it.
    assert out_visit.alert_due_at == datetime.datetime(2026, 11, 23, 11, 30, tzinfo=UTC)
    with at(12, 0):
        assert sweep.alerts_sweep() == 0


def test_a_sweep_that_runs_twice_raises_nothing_twice(out_visit):
    with at(10, 55):
        sweep.alerts_sweep()
        sweep.alerts_sweep()
        delivery.notifications_deliver()
        delivery.notifications_deliver()
    assert alert_keys(out_visit) == ["overdue:0:0"]
    assert len(mail.outbox) == 1


def test_after_beat_was_down_the_sweep_catches_up_with_every_step_at_once(out_visit):
    with at(12, 0):
        assert sweep.alerts_sweep() == 3
    due = list(VisitAlert.objects.filter(visit=out_visit).order_by("step_order").values_list("due_at", flat=True))
    assert due == [OVERDUE, OVERDUE + datetime.timedelta(minutes=15), OVERDUE + datetime.timedelta(minutes=30)]


def test_two_workers_claiming_the_same_visit_raise_one_alert(out_visit):
    """The second worker read the row before the first one's update: its compare-and-swap changes nothing."""
    with at(10, 55):
        stale = Visit.objects.select_related("school").get(pk=out_visit.pk)
        assert sweep.alerts_sweep() == 1
        assert sweep._sweep_visits([stale], sweep._SweepReads(), stale.alert_due_at) == 0
    assert alert_keys(out_visit) == ["overdue:0:0"]


def test_the_unique_key_refuses_a_second_copy_of_an_alert(out_visit):
    with at(10, 55):
        sweep.alerts_sweep()
        again = sweep.store_alert(
            visit=out_visit,
            key="overdue:0:0",
            kind=AlertKind.OVERDUE,
            due_at=OVERDUE,
            now=OVERDUE,
            action=EscalationAction.RING_LEAD,
            step_order=0,
        )
    assert again is None
    assert VisitAlert.objects.filter(visit=out_visit).count() == 1


def test_a_return_that_lands_before_the_sweep_means_no_alert(cast, out_visit):
    with at(10, 55):
        visit_check_in(visit=out_visit, actor=cast.staff, kind=CheckInKind.RETURNED)
        assert sweep.alerts_sweep() == 0
    assert alert_keys(out_visit) == []


def test_a_return_that_lands_between_the_sweeps_read_and_its_update_means_no_alert(cast, out_visit):
    with at(10, 55):
        stale = Visit.objects.select_related("school").get(pk=out_visit.pk)
        visit_check_in(visit=out_visit, actor=cast.staff, kind=CheckInKind.RETURNED)
        assert sweep._sweep_visits([stale], sweep._SweepReads(), stale.alert_due_at) == 0
    assert alert_keys(out_visit) == []


def test_a_return_after_the_alert_answers_it(cast, out_visit):
    with at(10, 55):
        sweep.alerts_sweep()
    with at(10, 57):
        visit_check_in(visit=out_visit, actor=cast.staff, kind=CheckInKind.RETURNED)
    alert = VisitAlert.objects.get(visit=out_visit)
    assert alert.outcome == AlertOutcome.RESOLVED_BY_CHECKIN and alert.acknowledged_by == cast.staff
    with at(12, 0):
        assert sweep.alerts_sweep() == 0


def test_a_worker_that_dies_mid_sweep_loses_nothing(out_visit, monkeypatch):
    """Claim, alert and outbox rows share a transaction: a crash rolls all back and the next sweep redoes it."""

    def crash(alert, now, reads, writes, round_number=0):
        raise SystemExit("worker killed")

    monkeypatch.setattr(sweep, "_notify", crash)
    with at(10, 55), pytest.raises(SystemExit):
        sweep.alerts_sweep()
    assert alert_keys(out_visit) == []
    monkeypatch.undo()
    with at(10, 55, 1):
        assert sweep.alerts_sweep() == 1
        delivery.notifications_deliver()
    assert len(mail.outbox) == 1


def test_a_failed_send_is_retried_and_a_sent_one_never_repeated(out_visit, monkeypatch):
    calls = []

    def flaky(notification):
        calls.append(notification.pk)
        if len(calls) == 1:
            raise ConnectionError("mail server down")

        return f"provider:{len(calls)}"

    monkeypatch.setattr(delivery, "_send", flaky)
    with at(10, 55):
        sweep.alerts_sweep()
        AlertNotification.objects.exclude(channel="email").delete()  # the pair's texts: not this test's business
        assert delivery.notifications_deliver() == 0
    row = AlertNotification.objects.get()
    assert row.sent_at is None and "mail server down" in row.last_error
    with at(10, 55, 1):
        assert delivery.notifications_deliver() == 0  # waits before trying again
    with at(10, 55, 2):
        assert delivery.notifications_deliver() == 1
        assert delivery.notifications_deliver() == 0
    assert len(calls) == 2
    row.refresh_from_db()
    assert row.provider_id == "provider:2"


def test_rang_all_fine_resolves_and_restarts_the_chain_from_the_new_time(cast, out_visit):
    with at(11, 10):
        sweep.alerts_sweep()
    first = VisitAlert.objects.get(visit=out_visit, step_order=0)
    new_return = datetime.datetime(2026, 11, 23, 11, 30, tzinfo=UTC)
    with at(11, 12):
        services.alert_acknowledge(
            alert=first, actor=cast.office, outcome=AlertOutcome.RANG_ALL_FINE, new_return=new_return
        )
    assert not VisitAlert.objects.filter(visit=out_visit, acknowledged_at__isnull=True).exists()
    out_visit.refresh_from_db()
    assert out_visit.due_back == new_return
    # The lead is reminded again before the new time, then the chain starts again after it.
    assert out_visit.alert_due_at == new_return - datetime.timedelta(minutes=10)
    with at(11, 20):
        assert sweep.alerts_sweep() == 0
    out_visit.refresh_from_db()
    assert out_visit.alert_due_at == new_return + datetime.timedelta(minutes=5)
    with at(11, 34):
        assert sweep.alerts_sweep() == 0
    with at(11, 35):
        assert sweep.alerts_sweep() == 1
    assert alert_keys(out_visit)[-1] == "overdue:1:0"


def test_no_answer_leaves_the_chain_running(cast, out_visit):
    with at(10, 55):
        sweep.alerts_sweep()
    with at(10, 58):
        services.alert_acknowledge(
            alert=VisitAlert.objects.get(visit=out_visit),
            actor=cast.office,
            outcome=AlertOutcome.RANG_NO_ANSWER,
            note="Straight to voicemail",
        )
    with at(11, 10):
        assert sweep.alerts_sweep() == 1


def test_police_called_needs_the_reference_and_an_alert_is_acknowledged_once(cast, out_visit):
    with at(12, 0):
        sweep.alerts_sweep()
    police = VisitAlert.objects.get(visit=out_visit, step_order=2)
    with pytest.raises(ValidationError) as error:
        services.alert_acknowledge(alert=police, actor=cast.office, outcome=AlertOutcome.POLICE_CALLED)
    assert "police_reference" in error.value.message_dict
    services.alert_acknowledge(
        alert=police, actor=cast.office, outcome=AlertOutcome.POLICE_CALLED, police_reference="CAD 1234"
    )
    with pytest.raises(ValidationError):
        services.alert_acknowledge(alert=police, actor=cast.dsl, outcome=AlertOutcome.RANG_NO_ANSWER)
    police.refresh_from_db()
    assert police.police_reference == "CAD 1234" and police.acknowledged_by == cast.office


def test_all_fine_needs_a_future_return_time(cast, out_visit):
    with at(10, 55):
        sweep.alerts_sweep()
        with pytest.raises(ValidationError) as error:
            services.alert_acknowledge(
                alert=VisitAlert.objects.get(),
                actor=cast.office,
                outcome=AlertOutcome.RANG_ALL_FINE,
                new_return=datetime.datetime(2026, 11, 23, 10, 50, tzinfo=UTC),
            )
    assert "new_return" in error.value.message_dict
    assert VisitAlert.objects.get().is_open


def test_on_site_past_the_policy_maximum_raises_a_softer_check_on_them_alert(cast, out_visit):
    with at(10, 10):
        visit_check_in(visit=out_visit, actor=cast.staff, kind=CheckInKind.ARRIVED)
    with at(10, 39, 59):
        assert sweep.alerts_sweep() == 0
    with at(10, 40):  # arrived 10:10 + the policy's 30-minute maximum
        assert sweep.alerts_sweep() == 1
        delivery.notifications_deliver()
    alert = VisitAlert.objects.get(visit=out_visit)
    assert alert.kind == AlertKind.ON_SITE_TOO_LONG and not alert.is_police_prompt
    assert [m.to for m in mail.outbox] == [["office@example.org"]]
    # The only text is the lead's own reminder (due back 10:50), which fell due at the same moment.
    assert [(m["to"], m["body"]) for m in sms.outbox] == [
        (LEAD_MOBILE, f"Home visit\nDue back 10:50: extend or check in: {sweep.field_link(out_visit)}")
    ]
    with at(10, 45):
        visit_check_in(visit=out_visit, actor=cast.staff, kind=CheckInKind.LEFT)
    alert.refresh_from_db()
    assert alert.outcome == AlertOutcome.RESOLVED_BY_CHECKIN


def test_field_duress_goes_straight_to_the_top(cast, out_visit):
    with at(10, 20):
        alert = services.visit_raise_duress(visit=out_visit, actor=cast.staff2, from_office=False)
        again = services.visit_raise_duress(visit=out_visit, actor=cast.staff2, from_office=False)
        delivery.notifications_deliver()
    assert again.pk == alert.pk
    assert alert.kind == AlertKind.DURESS and alert.is_police_prompt
    assert sorted(m.to[0] for m in mail.outbox) == ["dsl@example.org", "head@example.org", "office@example.org"]
    assert len(sms.outbox) == 3


def test_the_office_code_word_button_raises_duress_recorded_as_on_behalf(cast, out_visit):
    with at(10, 20):
        services.visit_raise_duress(visit=out_visit, actor=cast.office, from_office=True)
    checkin = out_visit.checkins.get(kind=CheckInKind.OFFICE_CODE_WORD)
    assert checkin.on_behalf and checkin.recorded_by == cast.office
    assert VisitAlert.objects.get(visit=out_visit).kind == AlertKind.DURESS


def test_running_late_moves_the_timer_within_the_policy_limit(cast, out_visit):
    with at(10, 40):
        visit_extend(visit=out_visit, actor=cast.staff, minutes=20)
        with pytest.raises(ValidationError) as error:
            visit_extend(visit=out_visit, actor=cast.staff, minutes=11)
    assert "at most 10 more minutes" in error.value.messages[0]
    out_visit.refresh_from_db()
    assert out_visit.due_back == datetime.datetime(2026, 11, 23, 11, 10, tzinfo=UTC)
    with at(11, 14):
        assert sweep.alerts_sweep() == 0
    with at(11, 15):
        assert sweep.alerts_sweep() == 1


def test_the_schools_own_policy_sets_the_grace_and_the_chain_from_the_next_check_out(cast, out_visit):
    override = HomeVisitPolicy.objects.create(trust=cast.trust, school=cast.school, overdue_grace_minutes=10)
    EscalationStep.objects.create(policy=override, order=0, action=EscalationAction.POLICE_PROMPT, delay_minutes=0)
    with at(9, 0):
        later = make_authorised_visit(lead=cast.outsider, second=cast.principal, authoriser=cast.dsl, start=START)
    with at(10, 1):
        visit_check_in(visit=later, actor=cast.outsider, kind=CheckInKind.CHECKED_OUT)  # due back 10:51
    with at(10, 45):
        visit_extend(visit=out_visit, actor=cast.staff, minutes=1)  # due back 10:51 too
    with at(10, 56):  # the visit already out keeps the trust's 5 minutes and its ring-the-lead first step
        assert sweep.alerts_sweep() == 1
    assert VisitAlert.objects.get().visit == out_visit
    assert VisitAlert.objects.get().action == EscalationAction.RING_LEAD
    with at(11, 0, 59):
        sweep.alerts_sweep()
    assert not later.alerts.exists()
    with at(11, 1):  # the one that left after the edit: 10 minutes' grace, straight to the police prompt
        sweep.alerts_sweep()
    later.refresh_from_db()
    assert VisitAlert.objects.get(visit=later).action == EscalationAction.POLICE_PROMPT


def test_the_heartbeat_says_when_the_sweep_has_stopped(db, settings):
    settings.ALERT_SWEEP_INTERVAL_SECONDS = 1
    settings.ALERT_SWEEP_STALE_FLOOR_SECONDS = 5
    with at(10, 0):
        assert sweep.sweep_status()["ok"] is False
        sweep.alerts_sweep()
        assert sweep.sweep_status()["ok"] is True
    with at(10, 0, 5):
        assert sweep.sweep_status()["ok"] is True
    with at(10, 0, 6):
        status = sweep.sweep_status()
    assert status["ok"] is False and "6s ago" in status["message"]
