"""A national deployment's data in one PostgreSQL database, loaded once and reused: 500 schools in 60 trusts,
25,000 staff, 150,000 children, 2,000,000 visits over five years with their decisions, timelines, check-ins, Home
Visit Forms, actions, concerns and alerts, and 2,500 visits out at once (about 11:00 on a busy day: five at
each school).

Proportions, per school: 50 people (a Principal, 2 DSLs, 2 office, 45 visiting staff), 200 households, 300
children, 4,000 visits. Of the visits, 3% cancelled, 1% declined by the school, 1% by the family, the rest took
place: each has its decision, 2 timeline steps, 4 check-ins (out, arrived, left, back) and its form; one in four
has a follow-up action (open ones only in the last two months), one in twenty a concern, one in a hundred an
overdue alert the office answered. The last fortnight's are still moving (forms to write and to review), and
each school has 3 requests waiting and 6 visits authorised for the rest of today. The people and visits are
INSERT ... SELECT generate_series, in one transaction per table, so the load takes minutes rather than hours;
trusts, schools and policies go through the factories.

Today's visits are stamped relative to now, every run (`place_today`): the 2,500 left school half an hour ago
and are due back within the next 90 minutes, whatever the time the bench runs.

Usernames, for the benchmarks that sign people in: n<school>-principal, n<school>-dsl<1-2>, n<school>-office<1-2>,
n<school>-staff<1-45> (school 0 to 499) and trust<0-59>-admin.
"""

import datetime

from django.db import connection, transaction
from django.utils import timezone

SCHOOLS, TRUSTS = 500, 60
PEOPLE_PER_SCHOOL, STAFF_PER_SCHOOL = 50, 45
HOUSEHOLDS_PER_SCHOOL, CHILDREN_PER_SCHOOL = 200, 300
VISITS = 2_000_000
# Today's visits per school, in slots: 5 out (at 11:00), then 3 waiting for a decision, then 6 authorised.
OUT_SLOTS, WAITING_SLOTS, LATER_SLOTS = 5, 3, 6
TODAY_SLOTS = OUT_SLOTS + WAITING_SLOTS + LATER_SLOTS
MARK = "National bench"  # in each loaded visit's reason: today's are found by it and moved to now each run


def loaded() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM core_school WHERE slug LIKE 'national-%%'")
        schools = cursor.fetchone()[0]
        cursor.execute("SELECT EXISTS (SELECT 1 FROM visits_visit WHERE reason = %s)", [f"{MARK}: loaded"])
        return schools == SCHOOLS and cursor.fetchone()[0]


def load(*, echo=print) -> None:
    """Load everything unless a finished load is there (its last step marks it), then stamp today's visits."""
    if loaded():
        echo("National data: already loaded, reused.")
        place_today()
        return
    from django.contrib.auth.models import Permission

    from tests.factories import SchoolFactory, TrustFactory, trust_default_policy

    began = timezone.now()
    with transaction.atomic():
        trusts = []
        for t in range(TRUSTS):
            trust = TrustFactory(name=f"National Trust {t}", slug=f"national-trust-{t}")
            trust_default_policy(trust)
            trusts.append(trust)
        school_ids = [
            SchoolFactory(trust=trusts[s % TRUSTS], name=f"National School {s:03d}", slug=f"national-{s:03d}").pk
            for s in range(SCHOOLS)
        ]
    values = {
        "mark": MARK,
        "now": timezone.now(),
        "today": timezone.localdate(),
        "school_ids": school_ids,
        "schools": SCHOOLS,
        "trusts": TRUSTS,
        "people": PEOPLE_PER_SCHOOL,
        "staff": STAFF_PER_SCHOOL,
        "households": HOUSEHOLDS_PER_SCHOOL,
        "children": CHILDREN_PER_SCHOOL,
        "visits": VISITS,
        "past": VISITS - TODAY_SLOTS * SCHOOLS,
        "out_slots": OUT_SLOTS,
        "waiting_slots": WAITING_SLOTS,
        "view_details": Permission.objects.get(codename="view_visit_details").pk,
        # An unusable password: the benchmarks sign people in with sessions they make.
        "password": "!national-bench",
    }
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        for table in ID_BASES:
            cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")  # noqa: S608 - our own table names
            values[ID_BASES[table]] = cursor.fetchone()[0]
        for step, sql in STEPS:
            at = timezone.now()
            with transaction.atomic():
                cursor.execute(sql, values)
            echo(f"  {step:<28} {cursor.rowcount:>11,} rows {(timezone.now() - at).total_seconds():7.1f} s")
        for table in ID_BASES:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        cursor.execute("UPDATE visits_visit SET reason = %s WHERE id = %s", [f"{MARK}: loaded", values["v0"]])
        cursor.execute("ANALYZE")
    echo(f"National data loaded in {(timezone.now() - began).total_seconds() / 60:.1f} minutes.")
    place_today()


def place_today() -> None:
    """Move today's visits (and their check-ins, decisions and timelines) to now: the pair checked out half an
    hour ago, however long ago the data was loaded."""
    with connection.cursor() as cursor, transaction.atomic():
        cursor.execute(
            "SELECT %s - min(checked_out_at) FROM visits_visit WHERE reason = %s AND checked_out_at IS NOT NULL",
            [timezone.now() - datetime.timedelta(minutes=30), f"{MARK}: today"],
        )
        shift = cursor.fetchone()[0]
        if not shift or abs(shift) < datetime.timedelta(minutes=1):
            return
        today = "(SELECT id FROM visits_visit WHERE reason = %(mark)s)"
        for sql in [
            "UPDATE visits_visit SET scheduled_start = scheduled_start + %(shift)s, expected_return = "
            "expected_return + %(shift)s, submitted_at = submitted_at + %(shift)s, checked_out_at = checked_out_at "
            "+ %(shift)s, arrived_at = arrived_at + %(shift)s, alert_due_at = alert_due_at + %(shift)s, "
            "created_at = created_at + %(shift)s WHERE reason = %(mark)s",
            f"UPDATE visits_checkin SET at = at + %(shift)s WHERE visit_id IN {today}",
            f"UPDATE visits_authorisationdecision SET decided_at = decided_at + %(shift)s WHERE visit_id IN {today}",
            f"UPDATE visits_visittransition SET at = at + %(shift)s WHERE visit_id IN {today}",
        ]:
            cursor.execute(sql, {"shift": shift, "mark": f"{MARK}: today"})


ID_BASES = {
    "auth_user": "u0",
    "families_household": "h0",
    "families_child": "c0",
    "visits_visit": "v0",
    "safeguarding_concern": "k0",
}

# Arithmetic that names rows: school s's k-th person is user u0 + s * people + k (0 the Principal, 1-2 the DSLs,
# 3-4 the office, 5-49 visiting staff); household h is h0 + h, at school h % schools; child k is c0 + k, in
# household k % (schools * households), so household h's first child is c0 + h. Visit v (v0 + v) is at school
# v % schools; the first `past` are history, oldest first, the rest today's, in slots of one per school.
SCHOOL = "(%(school_ids)s::bigint[])[{n} %% %(schools)s + 1]"
VISIT_SCHOOL = SCHOOL.format(n="v")
HOUSEHOLD = "(v %% %(schools)s + %(schools)s * ((v / %(schools)s * 7) %% %(households)s))"
LEAD = "(%(u0)s + (v %% %(schools)s) * %(people)s + 5 + (v / %(schools)s) %% %(staff)s)"
SECOND = "(%(u0)s + (v %% %(schools)s) * %(people)s + 5 + (v / %(schools)s + 1) %% %(staff)s)"
DSL = "(%(u0)s + (v %% %(schools)s) * %(people)s + 1)"
# History: one visit a day or so per school over five years, between 09:00 and 15:00.
PAST_START = (
    "(date_trunc('day', %(now)s::timestamptz) - make_interval(days => 1 + ((%(past)s - 1 - v)::bigint * 1826 / "
    "%(past)s)::int) + make_interval(mins => 540 + ((v / %(schools)s) %% 13) * 25))"
)
# A visit's number at its school: what its status, purpose and extras follow (v itself would give every visit at a
# school the same, as the schools are a multiple of 100).
NTH = "(v / %(schools)s)"
TOOK_PLACE = f"v < %(past)s AND {NTH} %% 100 >= 5"
RECENT = "v >= %(past)s - 14 * %(schools)s * 2"  # about the last fortnight: forms still to write or review
SLOT = "((v - %(past)s) / %(schools)s)"

STEPS = [
    (
        "people",
        """
        INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, email, is_staff,
                               is_active, date_joined)
        SELECT %(u0)s + n, %(password)s, false,
               'n' || (n / %(people)s) || '-' || CASE
                   WHEN n %% %(people)s = 0 THEN 'principal'
                   WHEN n %% %(people)s <= 2 THEN 'dsl' || (n %% %(people)s)
                   WHEN n %% %(people)s <= 4 THEN 'office' || (n %% %(people)s - 2)
                   ELSE 'staff' || (n %% %(people)s - 4) END,
               'Person', 'No' || n, 'n' || n || '@national.example.org', false, true, %(now)s
        FROM generate_series(0, %(schools)s * %(people)s - 1) AS n
        """,
    ),
    (
        "memberships",
        f"""
        INSERT INTO core_membership (role, starts_on, school_id, user_id)
        SELECT CASE WHEN n %% %(people)s = 0 THEN 'Principal' WHEN n %% %(people)s <= 2 THEN 'DSL'
                    WHEN n %% %(people)s <= 4 THEN 'Office' ELSE 'Staff' END,
               %(today)s::date - 2000, {SCHOOL.format(n="(n / %(people)s)")}, %(u0)s + n
        FROM generate_series(0, %(schools)s * %(people)s - 1) AS n
        """,
    ),
    (
        "trust admins",
        """
        INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, email, is_staff,
                               is_active, date_joined)
        SELECT %(u0)s + %(schools)s * %(people)s + t, %(password)s, false, 'trust' || t || '-admin', 'Trust',
               'Admin ' || t, 'trust' || t || '@national.example.org', false, true, %(now)s
        FROM generate_series(0, %(trusts)s - 1) AS t
        """,
    ),
    (
        "trust admin memberships",
        """
        INSERT INTO core_membership (role, starts_on, school_id, user_id)
        SELECT 'Trust admin', %(today)s::date - 2000, sc.id, u.id
        FROM core_trust t JOIN core_school sc ON sc.trust_id = t.id
        JOIN auth_user u ON u.username = replace(t.slug, 'national-trust-', 'trust') || '-admin'
        WHERE t.slug LIKE 'national-trust-%%'
        """,
    ),
    (
        "staff profiles",
        """
        INSERT INTO core_staffprofile (job_title, mobile, training_completed_on, training_expires_on,
                                       vehicle_description, vehicle_registration, business_insurance_confirmed,
                                       user_id)
        SELECT 'Family support worker', '+447700' || lpad((n %% 1000000)::text, 6, '0'), %(today)s::date - 200,
               %(today)s::date + 900, 'Grey hatchback', 'NB21 ' || (n %% 1000), true, %(u0)s + n
        FROM generate_series(0, %(schools)s * %(people)s - 1) AS n
        """,
    ),
    (
        "households",
        f"""
        INSERT INTO families_household (id, name, address_line1, address_line2, town, postcode, phone,
                                        home_languages, interpreter_needed, access_notes, school_id)
        SELECT %(h0)s + h, 'Household ' || h, h || ' Example Road', '', 'Exampletown', 'ZZ99 ' || (h %% 9) || 'ZZ',
               '', 'English', false, '', {SCHOOL.format(n="h")}
        FROM generate_series(0, %(schools)s * %(households)s - 1) AS h
        """,
    ),
    (
        "carers",
        """
        INSERT INTO families_parentcarer (title, first_name, last_name, relationship, parental_responsibility, phone,
                                          email, language, literacy_support_needed, household_id)
        SELECT '', 'Carer', 'Of household ' || h, 'mother', true, '', '', 'English', false, %(h0)s + h
        FROM generate_series(0, %(schools)s * %(households)s - 1) AS h
        """,
    ),
    (
        "children",
        f"""
        INSERT INTO families_child (id, first_name, last_name, date_of_birth, year_group, social_worker_name,
                                    social_worker_agency, social_worker_phone, school_id, household_id, mis_id, upn)
        SELECT %(c0)s + k, 'Child', 'No' || k, %(today)s::date - 2200 - (k %% 1500), ((k %% 6) + 1)::text, '', '',
               '', {SCHOOL.format(n="k")}, %(h0)s + k %% (%(schools)s * %(households)s), 'MIS' || k, ''
        FROM generate_series(0, %(schools)s * %(children)s - 1) AS k
        """,
    ),
    (
        "visits",
        f"""
        INSERT INTO visits_visit (id, purpose, reason, outcome_wanted, announced, unannounced_reason,
            invite_to_school_instead, scheduled_start, expected_duration_minutes, expected_return, vehicle,
            lead_mobile, principal_exception_reason, status, submitted_at, checked_out_at, arrived_at,
            extended_minutes, alert_due_at, escalation_level, overdue_round, on_site_alert_raised, created_at,
            updated_at, household_id, requested_by_id, school_id, reminder_queued, alerting_error)
        SELECT %(v0)s + v,
               (ARRAY['attendance', 'attendance', 'attendance', 'welfare_check', 'welfare_check', 'send_support',
                      'family_support', 'transition', 'medical_absence', 'refusing_to_attend'])[{NTH} %% 10 + 1],
               CASE WHEN v < %(past)s THEN %(mark)s ELSE %(mark)s || ': today' END,
               'Agree a plan for attendance.', true, '', false,
               start, 30, start + interval '50 minutes', '', '', '',
               CASE
                   WHEN v >= %(past)s THEN CASE
                       WHEN {SLOT} < %(out_slots)s THEN (ARRAY['out', 'on_site', 'left'])[{SLOT} %% 3 + 1]
                       WHEN {SLOT} < %(out_slots)s + %(waiting_slots)s THEN 'requested'
                       ELSE 'authorised' END
                   WHEN {NTH} %% 100 < 3 THEN 'cancelled'
                   WHEN {NTH} %% 100 = 3 THEN 'declined'
                   WHEN {NTH} %% 100 = 4 THEN 'family_declined'
                   WHEN {RECENT} THEN (ARRAY['returned', 'reported', 'reviewed'])[{NTH} %% 3 + 1]
                   ELSE 'reviewed' END,
               start - interval '3 days',
               CASE WHEN {TOOK_PLACE} OR (v >= %(past)s AND {SLOT} < %(out_slots)s) THEN start END,
               CASE WHEN {TOOK_PLACE} OR (v >= %(past)s AND {SLOT} < %(out_slots)s AND {SLOT} %% 3 > 0)
                    THEN start + interval '10 minutes' END,
               0,
               CASE WHEN v >= %(past)s AND {SLOT} < %(out_slots)s THEN start + interval '55 minutes' END,
               0, 0, false, start - interval '4 days', start, %(h0)s + {HOUSEHOLD}, {LEAD}, {VISIT_SCHOOL}, false, ''
        FROM (
            SELECT v, CASE
                WHEN v < %(past)s THEN {PAST_START}
                -- Today's: the pair out left 30 to 10 minutes ago; the rest start later today.
                WHEN {SLOT} < %(out_slots)s THEN %(now)s::timestamptz - make_interval(mins => 30 - {SLOT} * 4)
                ELSE %(now)s::timestamptz + make_interval(mins => 60 + {SLOT} * 10) END AS start
            FROM generate_series(0, %(visits)s - 1) AS v
        ) AS numbered
        """,
    ),
    (
        "visit children",
        "INSERT INTO visits_visit_children (visit_id, child_id) "
        f"SELECT %(v0)s + v, %(c0)s + {HOUSEHOLD} FROM generate_series(0, %(visits)s - 1) AS v",
    ),
    (
        "visitors",
        f"""
        INSERT INTO visits_visitperson (role, external_name, external_organisation, external_phone, user_id,
                                        visit_id)
        SELECT 'lead', '', '', '', {LEAD}, %(v0)s + v FROM generate_series(0, %(visits)s - 1) AS v
        UNION ALL
        SELECT 'second', '', '', '', {SECOND}, %(v0)s + v FROM generate_series(0, %(visits)s - 1) AS v
        """,
    ),
    (
        "need-to-know grants",
        f"""
        INSERT INTO visits_visituserobjectpermission (content_object_id, permission_id, user_id)
        SELECT %(v0)s + v, %(view_details)s, {LEAD} FROM generate_series(0, %(visits)s - 1) AS v
        UNION ALL
        SELECT %(v0)s + v, %(view_details)s, {SECOND} FROM generate_series(0, %(visits)s - 1) AS v
        """,
    ),
    (
        "decisions",
        f"""
        INSERT INTO visits_authorisationdecision (decided_as, decided_at, decision, reason, conditions, exceptions,
                                                  decided_by_id, visit_id, unfamiliar_pair_reason)
        SELECT 'DSL', vi.submitted_at + interval '2 hours',
               CASE WHEN vi.status = 'declined' THEN 'declined' ELSE 'approved' END,
               CASE WHEN vi.status = 'declined' THEN 'Invite the family into school first.' ELSE '' END,
               '', '[]', {DSL}, vi.id, ''
        FROM generate_series(0, %(visits)s - 1) AS v JOIN visits_visit vi ON vi.id = %(v0)s + v
        WHERE vi.status NOT IN ('cancelled', 'requested')
        """,
    ),
    (
        "timelines",
        """
        INSERT INTO visits_visittransition (from_status, to_status, at, note, actor_id, visit_id)
        SELECT 'requested', 'authorised', vi.submitted_at + interval '2 hours', '', vi.requested_by_id, vi.id
        FROM visits_visit vi WHERE vi.id >= %(v0)s AND vi.status NOT IN ('cancelled', 'requested', 'declined')
        UNION ALL
        SELECT 'authorised', vi.status, vi.scheduled_start, '', vi.requested_by_id, vi.id
        FROM visits_visit vi WHERE vi.id >= %(v0)s AND vi.checked_out_at IS NOT NULL
        """,
    ),
    (
        "check-ins",
        """
        INSERT INTO visits_checkin (kind, at, on_behalf, recorded_by_id, visit_id)
        SELECT kind, vi.checked_out_at + step, false, vi.requested_by_id, vi.id
        FROM visits_visit vi
        CROSS JOIN (VALUES ('checked_out', interval '0 minutes'), ('arrived', interval '10 minutes'),
                           ('left', interval '40 minutes'), ('returned', interval '55 minutes')) AS steps(kind, step)
        WHERE vi.id >= %(v0)s AND vi.checked_out_at IS NOT NULL
          AND (vi.status IN ('returned', 'reported', 'reviewed')
               OR (kind = 'checked_out') OR (kind = 'arrived' AND vi.status IN ('on_site', 'left'))
               OR (kind = 'left' AND vi.status = 'left'))
          AND vi.checked_out_at + step < %(now)s
        """,
    ),
    (
        "home visit forms",
        f"""
        INSERT INTO visits_visitreport (draft, due_at, arrived_at, departed_at, staff_went_in, invited_in_by,
            outcome, abandoned_reason, child_seen, parent_summary, internal_notes, referrals, submitted_at,
            reviewed_at, review_comment, reviewed_by_id, submitted_by_id, visit_id)
        SELECT '{{}}', vi.scheduled_start + interval '1 day', vi.arrived_at, vi.arrived_at + interval '30 minutes',
               true, '', CASE WHEN vi.status = 'returned' THEN '' WHEN {NTH} %% 10 = 0 THEN 'no_access' ELSE 'seen' END,
               '', {NTH} %% 10 <> 0, 'We talked about getting to school on time.', '', '',
               CASE WHEN vi.status <> 'returned' THEN vi.scheduled_start + interval '3 hours' END,
               CASE WHEN vi.status = 'reviewed' THEN vi.scheduled_start + interval '1 day' END, '',
               CASE WHEN vi.status = 'reviewed' THEN {DSL} END,
               CASE WHEN vi.status <> 'returned' THEN vi.requested_by_id END, vi.id
        FROM generate_series(0, %(past)s - 1) AS v JOIN visits_visit vi ON vi.id = %(v0)s + v
        WHERE vi.status IN ('returned', 'reported', 'reviewed')
        """,
    ),
    (
        "concerns",
        f"""
        INSERT INTO safeguarding_concern (id, kind, details, action_taken, raised_at, outcome, closed_at, child_id,
                                          closed_by_id, raised_by_id, school_id)
        SELECT %(k0)s + v, 'concern', 'The child said there was no food at home.', 'Spoke to the DSL.',
               {PAST_START} + interval '2 hours',
               CASE WHEN {RECENT} THEN '' ELSE 'Early help offered and accepted.' END,
               CASE WHEN {RECENT} THEN NULL ELSE {PAST_START} + interval '30 days' END,
               %(c0)s + {HOUSEHOLD}, CASE WHEN {RECENT} THEN NULL ELSE {DSL} END, {LEAD}, {VISIT_SCHOOL}
        FROM generate_series(0, %(past)s - 1) AS v WHERE {NTH} %% 20 = 5
        """,
    ),
    (
        "concerns on visits",
        "INSERT INTO visits_visitconcern (concern_id, visit_id, about_entry) "
        f"SELECT %(k0)s + v, %(v0)s + v, false FROM generate_series(0, %(past)s - 1) AS v WHERE {NTH} %% 20 = 5",
    ),
    (
        "follow-up actions",
        f"""
        INSERT INTO visits_followupaction (description, due_on, agreed_with_family, created_at, completed_at,
            completion_outcome, child_id, completed_by_id, concern_id, created_by_id, owner_id, school_id, visit_id)
        SELECT 'Ring the family about the morning routine.', (start + interval '14 days')::date, true,
               start + interval '3 hours',
               CASE WHEN start < %(now)s::timestamptz - interval '60 days' THEN start + interval '7 days' END,
               CASE WHEN start < %(now)s::timestamptz - interval '60 days' THEN 'Rang: mornings are better.'
                    ELSE '' END,
               %(c0)s + {HOUSEHOLD},
               CASE WHEN start < %(now)s::timestamptz - interval '60 days' THEN {LEAD} END,
               NULL, {LEAD}, {LEAD}, {VISIT_SCHOOL}, %(v0)s + v
        FROM (SELECT v, {PAST_START} AS start FROM generate_series(0, %(past)s - 1) AS v
              WHERE {NTH} %% 4 = 1 AND {NTH} %% 100 >= 5) AS numbered
        """,
    ),
    (
        "answered alerts",
        f"""
        INSERT INTO visits_visitalert (key, kind, action, step_order, due_at, raised_at, acknowledged_at, outcome,
            police_reference, note, acknowledged_by_id, visit_id, rounds_sent)
        SELECT 'overdue:0:1', 'overdue', 'office', 1, start + interval '55 minutes', start + interval '55 minutes',
               start + interval '58 minutes', 'rang_all_fine', '', 'Running late, all fine.',
               %(u0)s + (v %% %(schools)s) * %(people)s + 3, %(v0)s + v, 1
        FROM (SELECT v, {PAST_START} AS start FROM generate_series(0, %(past)s - 1) AS v
              WHERE {NTH} %% 100 = 50) AS numbered
        """,
    ),
]
