"""The demo's day follows the clock: laid out around the moment `seed_demo` runs, whatever the hour, and laid out
again (by `seed_demo --new-day`, which run.sh calls) once the day it was laid out for has passed."""

import datetime
import io
import zoneinfo

import time_machine
from django.core.management import call_command
from django.test.utils import override_settings
from django.utils import timezone

from tests.helpers import as_database_owner
from visits.demo.seed import live_anchor
from visits.lifecycle import AWAY
from visits.models import CheckIn, Visit, VisitStatus, VisitTransition

LONDON = zoneinfo.ZoneInfo("Europe/London")
TODAY_STATES = {VisitStatus.AUTHORISED, VisitStatus.OUT, VisitStatus.ON_SITE, VisitStatus.LEFT, VisitStatus.RETURNED}


def seed(*args) -> str:
    out = io.StringIO()
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def assert_the_board_matches_the_clock():
    now, today = timezone.now(), timezone.localdate()
    # Nothing is recorded as done before it happened.
    assert not VisitTransition.objects.filter(at__gt=now).exists()
    assert not CheckIn.objects.filter(at__gt=now).exists()
    for school in ("oakfield", "riverside"):
        visits = [v for v in Visit.objects.filter(school__slug=school) if v.local_start.date() == today]
        assert {v.status for v in visits} >= TODAY_STATES, school
        for visit in visits:
            if visit.status in AWAY:
                # Out since a few minutes ago, and back (or late) in minutes, not hours.
                assert now - datetime.timedelta(hours=2) < visit.checked_out_at <= now, visit
                assert abs(visit.due_back - now) < datetime.timedelta(hours=1), visit
            if visit.status == VisitStatus.AUTHORISED:
                assert visit.scheduled_start > now, visit
            policy = visit.school.policy()
            if not policy.earliest_start <= visit.local_start.time() <= policy.latest_start:
                # Outside the school's hours: the exception the policy keeps for the Principal, with its reason.
                assert visit.principal_exception_reason, visit
                if visit.status != VisitStatus.REQUESTED:
                    assert {d.decided_by.username for d in visit.decisions.all()} == {f"{school}-principal"}, visit


def test_before_and_after_the_school_day_the_board_matches_the_clock_and_a_new_day_lays_it_out_again(
    transactional_db,
):
    """Loaded one evening (after visiting hours), then run.sh started again the next morning before school."""
    with time_machine.travel(datetime.datetime(2026, 11, 30, 18, 20, tzinfo=LONDON), tick=True):
        seed()
        assert_the_board_matches_the_clock()
    # Starting afresh empties the database, audit trail included: the owner's right (the run command's SQLite file),
    # which the app's own database role, as CI runs the suite, does not have.
    with time_machine.travel(datetime.datetime(2026, 12, 1, 7, 43, tzinfo=LONDON), tick=True), as_database_owner():
        assert "laying it out again" in seed("--new-day")
        assert_the_board_matches_the_clock()
        assert not Visit.objects.filter(status__in=AWAY, scheduled_start__date=datetime.date(2026, 11, 30)).exists()
        assert "already present" in seed("--new-day")  # the same day: kept as it is, with what was done in it


def test_in_the_small_hours_the_demo_day_is_last_night():
    """A check-out and its visit share a day: just after midnight the visits under way are yesterday evening's."""
    assert live_anchor(datetime.datetime(2026, 12, 1, 0, 20, tzinfo=LONDON)) == datetime.datetime(
        2026, 11, 30, 23, 0, tzinfo=LONDON
    )
    assert live_anchor(datetime.datetime(2026, 12, 1, 7, 43, 30, tzinfo=LONDON)) == datetime.datetime(
        2026, 12, 1, 7, 40, tzinfo=LONDON
    )
