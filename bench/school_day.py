"""A school day under load: 500 schools' offices polling their boards, their staff asking for visits, checking in
and writing the Home Visit Form, their DSLs on the dashboard and the approvals queue, all at once through gunicorn,
with a real Celery worker (whose sweep raises the alerts) and a real beat beside it. Locust (headless, on
127.0.0.1 only) plays the people (bench/school_day_locustfile.py). Prints requests per second, p95 per page, every
error with its page and status, and the alert latency (due time -> stored alert) of visits seeded to fall overdue
at known moments during the run.

    BENCH_SCHOOLDAY_DATABASE_URL=postgres://postgres@127.0.0.1:5432/hv_schoolday \\
    BENCH_CACHE_URL=redis://127.0.0.1:6379/12 BENCH_BROKER_URL=redis://127.0.0.1:6379/14 \\
        .venv/bin/python bench/school_day.py [--minutes 10] [--users-scale 1.0] [--workers 5] \\
            [--staff-think 15,45] [--dsl-think 15,45] [--alarm-every 5] [--ramp-seconds S] [--keep]

--users-scale 0.1 --minutes 1 is a one-minute run at a tenth of the people (50 offices, 200 staff, 50 DSLs) for
development; the database always holds the 500 schools. The first run builds the cast (schools, people,
households, risk assessments: a few minutes); each run then empties the visits and the audit trail of this bench
database, flushes its two Redis databases, and lays the day's visits afresh (one template per kind through the real
verbs, copied in bulk), so every run starts from the same morning. What the people then do goes through the real
pages, and the alerts through the real worker. The day's visits start 20 minutes after the run begins, so run it
after 00:20 (Europe/London) and not in the last half hour before midnight.
"""

import argparse
import datetime
import http.client
import json
import logging
import math
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_URL = os.environ.get("BENCH_SCHOOLDAY_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hv_schoolday")
CACHE_URL = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/12")
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14")
os.environ["DATABASE_URL"] = DB_URL
os.environ["CACHE_URL"] = CACHE_URL
os.environ["REDIS_URL"] = BROKER_URL
os.environ["CELERY_BROKER_URL"] = BROKER_URL
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
os.environ["EMAIL_URL"] = "dummymail://"  # what laying the day sends (requests decided) goes nowhere

import django

from bench.common import ensure_database, gunicorn

ensure_database(DB_URL)
django.setup()
django.conf.settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # 3,500 bench users
logging.getLogger("axes").setLevel(logging.WARNING)  # a line for each of the 3,000 sign-ins

import psutil
import redis
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Value
from django.db.models.functions import Concat
from django.test import Client
from django.utils import timezone
from django.utils.crypto import get_random_string

from core.models import School
from core.roles import Role
from families.models import Child, Household
from safeguarding.models import RiskAssessment
from safeguarding.selectors import risk_rows_to_start_from
from safeguarding.services import RiskRowInput, risk_assessment_create
from tests.factories import (
    SchoolFactory,
    TrustFactory,
    make_authorised_visit,
    make_member,
    make_visit,
    trust_default_policy,
    walk_visit,
)
from tests.helpers import mark_second_factor_passed
from visits.field.services import visit_check_in
from visits.models import CheckInKind, Visit, VisitAlert, VisitRole

User = get_user_model()
SCHOOLS, SCHOOLS_PER_TRUST, STAFF_PER_SCHOOL, HOUSEHOLDS_PER_SCHOOL = 500, 10, 4, 12
# The households the day's visits go to (each needs a current risk assessment to check out).
VISITED_HOUSEHOLDS = 4
OFFICES, STAFF, DSLS = SCHOOLS, SCHOOLS * STAFF_PER_SCHOOL, SCHOOLS
# Requests waiting for each school's DSL when the day starts.
WAITING_REQUESTS = 2
GRACE = datetime.timedelta(minutes=5)  # trust_default_policy's overdue grace
AN_ID = re.compile(r"/\d+/")  # in a path: the pages are named with [id]


# --- The cast: built once, reused by every run -----------------------------------------------------------------


def cast_ready() -> bool:
    return School.objects.filter(slug__startswith="sd-school-").count() == SCHOOLS


@transaction.atomic
def build_cast():
    """500 schools in 50 trusts, each with an office, four staff, a DSL and a Principal (who decides the seeded
    visits that start outside visiting hours), households with a child each, and risk assessments for the
    households the day's visits go to. Through the factories and verbs, in one transaction."""
    started = time.monotonic()
    rng = random.Random(500)
    for t in range(SCHOOLS // SCHOOLS_PER_TRUST):
        trust = TrustFactory(name=f"School Day Trust {t}", slug=f"sd-trust-{t}")
        trust_default_policy(trust)
        for s in range(t * SCHOOLS_PER_TRUST, (t + 1) * SCHOOLS_PER_TRUST):
            school = SchoolFactory(trust=trust, name=f"School Day Primary {s}", slug=f"sd-school-{s}")
            make_member(f"sd{s}-office", school, Role.OFFICE)
            for k in range(STAFF_PER_SCHOOL):
                make_member(f"sd{s}-staff{k}", school, Role.STAFF, mobile=f"020 7946 {(s * 4 + k) % 10000:04d}")
            make_member(f"sd{s}-dsl", school, Role.DSL)
            make_member(f"sd{s}-principal", school, Role.PRINCIPAL)
            households = Household.objects.bulk_create(
                Household(
                    school=school,
                    name=f"Household {s}-{h}",
                    address_line1=f"{h + 1} Willow Lane",
                    town="Eastbridge",
                    postcode="EB2 3CD",
                )
                for h in range(HOUSEHOLDS_PER_SCHOOL)
            )
            Child.objects.bulk_create(
                Child(
                    school=school,
                    household=home,
                    first_name=rng.choice(["Ellis", "Noor", "Kit", "Amara", "Jonah", "Safiya"]),
                    last_name=f"Daysurname{s}x{h}",
                    date_of_birth=datetime.date(2017, 3, 14),
                    year_group="3",
                )
                for h, home in enumerate(households)
            )
        print(
            f"  cast: trust {t + 1} of {SCHOOLS // SCHOOLS_PER_TRUST} ({time.monotonic() - started:.0f}s)", flush=True
        )
    User.objects.filter(username__startswith="sd").update(email=Concat("username", Value("@example.org")))
    for school in School.objects.filter(slug__startswith="sd-school-"):
        dsl = User.objects.get(username=f"sd{school.slug.rsplit('-', 1)[1]}-dsl")
        rows = [RiskRowInput(**row) for row in risk_rows_to_start_from(school=school)]
        for home in school.households.order_by("pk")[:VISITED_HOUSEHOLDS]:
            risk_assessment_create(household=home, actor=dsl, rows=rows, assessed_on=timezone.localdate())
    print(f"  cast built in {time.monotonic() - started:.0f}s", flush=True)


def load_schools() -> list[dict]:
    """Each school's people, households and children, by position (school n is sd-school-n)."""
    users = {u.username: u for u in User.objects.filter(username__startswith="sd")}
    schools = sorted(School.objects.filter(slug__startswith="sd-school-"), key=lambda s: int(s.slug.rsplit("-", 1)[1]))
    homes = {}
    for home in Household.objects.filter(school__in=schools).order_by("pk").prefetch_related("children"):
        homes.setdefault(home.school_id, []).append(home)
    assessments = dict(RiskAssessment.objects.filter(household__school__in=schools).values_list("household_id", "pk"))
    cast = []
    for n, school in enumerate(schools):
        cast.append(
            {
                "school": school,
                "office": users[f"sd{n}-office"],
                "staff": [users[f"sd{n}-staff{k}"] for k in range(STAFF_PER_SCHOOL)],
                "dsl": users[f"sd{n}-dsl"],
                "principal": users[f"sd{n}-principal"],
                "households": homes[school.pk],
                "assessments": assessments,
            }
        )
    return cast


# --- The day: laid afresh for every run ----------------------------------------------------------------------------


def empty_the_day():
    """This bench database's visits and audit trail go (as bench/alert_latency.py does), and its Redis databases
    are flushed, so the run starts from the same morning. TRUNCATE takes every table that points at a visit."""
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE visits_alertnotification, visits_visitalert, visits_checkin, visits_visittransition, "
            "visits_visitperson, visits_visit_children, visits_visituserobjectpermission, visits_visit, "
            "core_auditentry CASCADE"
        )
    redis.Redis.from_url(CACHE_URL).flushdb()
    redis.Redis.from_url(BROKER_URL).flushdb()


def clone_visits(template: Visit, specs: list[dict]) -> list[Visit]:
    """Copies of `template` with every row that hangs off it (people, timeline, decision, family told,
    preparation, safe word, permission grants), each for its own school, pair, household and child, with the
    visit's fields in spec["fields"] changed. For a data set too large to build through the verbs one by one;
    nothing is audited (a bench loader's bulk insert)."""
    template = Visit.objects.get(pk=template.pk)
    people = {p.role: p.user_id for p in template.people.all()}
    school_users = {
        m.user_id: m.role for m in template.school.memberships.all() if m.role in (Role.PRINCIPAL, Role.DSL)
    }

    def users_of(spec) -> dict:
        mapping = {people[VisitRole.LEAD]: spec["lead"].pk, people[VisitRole.SECOND]: spec["second"].pk}
        for user_id, role in school_users.items():
            mapping[user_id] = spec["principal"].pk if role == Role.PRINCIPAL else spec["dsl"].pk
        return mapping

    def copy(obj, spec, mapping, **changes):
        clone = type(obj)(**{f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields})
        clone.pk = None
        for field in obj._meta.concrete_fields:
            if not field.is_relation:
                continue
            value = getattr(clone, field.attname)
            target = field.related_model
            if target is User and value in mapping:
                setattr(clone, field.attname, mapping[value])
            elif target is School:
                setattr(clone, field.attname, spec["school"].pk)
            elif target is Household:
                setattr(clone, field.attname, spec["household"].pk)
            elif target is Child:
                setattr(clone, field.attname, spec["child"].pk)
            elif target is RiskAssessment:
                setattr(clone, field.attname, spec["assessment"])
        for name, value in changes.items():
            setattr(clone, name, value)
        return clone

    mappings = [users_of(spec) for spec in specs]
    visits = Visit.objects.bulk_create(
        [copy(template, spec, m, **spec.get("fields", {})) for spec, m in zip(specs, mappings, strict=True)],
        batch_size=1000,
    )
    Visit.children.through.objects.bulk_create(
        [Visit.children.through(visit_id=v.pk, child_id=s["child"].pk) for v, s in zip(visits, specs, strict=True)],
        batch_size=1000,
    )
    for relation in Visit._meta.related_objects:
        if relation.many_to_many:
            continue
        model, key = relation.related_model, relation.field.attname
        rows = list(model.objects.filter(**{key: template.pk}))
        if rows:
            model.objects.bulk_create(
                [
                    copy(row, spec, m, **{key: visit.pk})
                    for visit, spec, m in zip(visits, specs, mappings, strict=True)
                    for row in rows
                ],
                batch_size=1000,
            )
    return visits


def lay_the_day(cast: list[dict], *, visits_per_staff: int) -> dict:
    """Today's authorised visits (ready to check out, each member of staff leading `visits_per_staff`) and the
    requests waiting for each DSL. Returns the visits each member of staff leads, and the template the alarms
    are copied from."""
    began = time.monotonic()
    now = timezone.now()
    today = timezone.localdate(now)
    first = cast[0]
    lead, second = first["staff"][0], first["staff"][1]
    child = first["households"][0].children.all()[0]
    # Soon today: ready to check out at once (from an hour before the start), and back well after the run.
    start = now + datetime.timedelta(minutes=20)
    if timezone.localdate(start) != today:
        raise SystemExit("Too close to midnight (Europe/London) to lay a day of visits: run it after 00:20.")
    authorised = make_authorised_visit(
        lead=lead, second=second, authoriser=first["principal"], start=start, child=child, minutes=30
    )
    waiting = make_visit(
        lead=lead,
        second=second,
        child=child,
        start=timezone.make_aware(datetime.datetime.combine(today + datetime.timedelta(days=60), datetime.time(14))),
    )
    walk_visit(waiting, lead, "requested")

    specs, owners = [], []
    for school in cast:
        visited = school["households"][:VISITED_HOUSEHOLDS]
        for k, member in enumerate(school["staff"]):
            colleague = school["staff"][(k + 1) % STAFF_PER_SCHOOL]
            for j in range(visits_per_staff):
                specs.append(spec_for(school, member, colleague, visited[(k + j) % len(visited)]))
                owners.append(member.pk)
    by_staff = {lead.pk: [authorised.pk]}
    for visit, owner in zip(clone_visits(authorised, specs), owners, strict=True):
        by_staff.setdefault(owner, []).append(visit.pk)

    # Each on a later day than the last, so that no pair is booked twice.
    specs = []
    for school in cast:
        for i in range(WAITING_REQUESTS):
            k = i % STAFF_PER_SCHOOL
            begins = waiting.scheduled_start + datetime.timedelta(days=i + 1)
            fields = {"scheduled_start": begins, "expected_return": begins + datetime.timedelta(minutes=50)}
            colleague = school["staff"][(k + 1) % STAFF_PER_SCHOOL]
            specs.append(
                spec_for(school, school["staff"][k], colleague, school["households"][VISITED_HOUSEHOLDS + i], fields)
            )
    clone_visits(waiting, specs)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"Day laid in {time.monotonic() - began:.0f}s: {sum(map(len, by_staff.values()))} visits ready to check "
        f"out, {len(specs) + 1} requests waiting for a decision",
        flush=True,
    )
    return {"by_staff": by_staff, "template": authorised}


def lay_alarms(cast: list[dict], template: Visit, alarm_times: list[datetime.datetime]) -> list[int]:
    """One visit out per moment in `alarm_times`, checked out through the real verb at a time chosen so that its
    first overdue alert falls due at that moment: at most 15 minutes before (on its planned day), with the planned
    length making up the rest. One per school, round the schools, led by each school's third and fourth staff."""
    now = timezone.now()
    specs = []
    for n, due in enumerate(alarm_times):
        school = cast[n % len(cast)]
        out_at = min(due - datetime.timedelta(minutes=15), now)
        if timezone.localdate(out_at) != timezone.localdate(due):
            raise SystemExit("Too close to midnight (Europe/London) for the alarms: run it after 00:20.")
        fields = {"scheduled_start": out_at, "expected_duration_minutes": 5, "expected_return": due - GRACE}
        home = school["households"][n % VISITED_HOUSEHOLDS]
        specs.append(spec_for(school, school["staff"][2], school["staff"][3], home, fields))
    visits = clone_visits(template, specs)
    for visit, spec in zip(visits, specs, strict=True):
        out_at = spec["fields"]["scheduled_start"]
        visit_check_in(visit=visit, actor=spec["lead"], kind=CheckInKind.CHECKED_OUT, now=out_at)
    return [v.pk for v in visits]


def spec_for(school, lead, second, home, fields=None) -> dict:
    return {
        "school": school["school"],
        "lead": lead,
        "second": second,
        "principal": school["principal"],
        "dsl": school["dsl"],
        "household": home,
        "child": home.children.all()[0],
        "assessment": school["assessments"].get(home.pk),
        "fields": fields or {},
    }


# --- Signing everybody in --------------------------------------------------------------------------------------


def cookies_for(user) -> dict:
    """A signed-in browser's cookies: a server-side session that has passed its second factor, and a CSRF cookie
    (the pages hand out tokens made from it)."""
    client = Client()
    client.force_login(user)
    mark_second_factor_passed(client, user)
    return {"sessionid": client.cookies["sessionid"].value, "csrftoken": get_random_string(32)}


def people_file(cast, day, *, scale: float, path: Path) -> dict:
    counts = {
        "office": max(1, round(OFFICES * scale)),
        "staff": max(1, round(STAFF * scale)),
        "dsl": max(1, round(DSLS * scale)),
    }
    schools_needed = max(counts["office"], counts["dsl"], math.ceil(counts["staff"] / STAFF_PER_SCHOOL))
    began = time.monotonic()
    people = {"office": [], "staff": [], "dsl": []}
    for n, school in enumerate(cast[:schools_needed]):
        if n < counts["office"]:
            people["office"].append({"cookies": cookies_for(school["office"]), "school": school["school"].pk})
        if n < counts["dsl"]:
            people["dsl"].append({"cookies": cookies_for(school["dsl"]), "school": school["school"].pk})
        for k, member in enumerate(school["staff"]):
            if len(people["staff"]) >= counts["staff"]:
                break
            # A child of a household nobody is visiting today, found through the request form's picker.
            child = school["households"][VISITED_HOUSEHOLDS + WAITING_REQUESTS + k].children.all()[0]
            people["staff"].append(
                {
                    "cookies": cookies_for(member),
                    "user": member.pk,
                    "slot": k,  # the hour of their requests: colleagues' never overlap
                    "colleague": school["staff"][(k + 1) % STAFF_PER_SCHOOL].pk,
                    "child": child.pk,
                    "child_surname": child.last_name,
                    "visits": day["by_staff"].get(member.pk, []),
                }
            )
    path.write_text(json.dumps(people))
    print(
        f"Signed in {sum(len(v) for v in people.values())} people ({counts}) in {time.monotonic() - began:.0f}s",
        flush=True,
    )
    return counts


# --- The processes -------------------------------------------------------------------------------------------------


class Processes:
    """The Celery worker and beat and locust, each in its own process group, stopped however the run ends."""

    def __init__(self, tmp: Path, env: dict):
        self.tmp, self.env, self.running = tmp, env, {}

    def start(self, name, command):
        log = open(self.tmp / f"{name}.log", "a")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.running[name] = (process, log)
        return process

    def stop(self, name):
        process, log = self.running.pop(name)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()

    def stop_all(self):
        for name in list(self.running):
            self.stop(name)


class CpuLedger:
    """The CPU time each group of processes used during the run, from a sample every few seconds (a process that
    ends keeps what it had used at the last sample), less what each had used before it. Everything else on the
    machine is named too: other people's work shares these cores."""

    def __init__(self):
        self.before = {p.pid: self._used(p) for p in psutil.process_iter()}
        self.seen = {}

    @staticmethod
    def _used(process) -> float:
        try:
            times = process.cpu_times()
            return times.user + times.system
        except psutil.Error:
            return 0.0

    def sample(self, groups: dict[str, set[int]]):
        group_of = {pid: name for name, pids in groups.items() for pid in pids}
        for process in psutil.process_iter():
            try:
                name = group_of.get(process.pid) or self._other(process)
            except psutil.Error:
                continue
            self.seen[process.pid] = (name, self._used(process) - self.before.get(process.pid, 0.0))

    @staticmethod
    def _other(process) -> str:
        command = " ".join(process.cmdline()) or process.name()
        if process.name() == "postgres" or command.startswith("postgres"):
            return "other: PostgreSQL (other databases, its own processes)"
        return "other: " + command[:70]

    def spent(self) -> dict[str, float]:
        totals = {}
        for name, used in self.seen.values():
            totals[name] = totals.get(name, 0.0) + used
        return totals


def warm_up(port: int):
    """Each gunicorn worker's first requests load the templates and open its connections: a deployment's workers
    are past that, so every worker answers a few before the load begins."""

    def fetch(_):
        for path in ("/accounts/login/", "/"):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("GET", path)
            conn.getresponse().read()
            conn.close()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(fetch, range(40)))


def gunicorn_processes() -> set[int]:
    found = set()
    for process in psutil.Process().children(recursive=True):
        try:
            if "gunicorn" in " ".join(process.cmdline()):
                found.add(process.pid)
        except psutil.Error:  # ended meanwhile
            pass
    return found


def tree(pid) -> set[int]:
    try:
        return {pid, *(c.pid for c in psutil.Process(pid).children(recursive=True))}
    except psutil.Error:
        return set()


def database_backends() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return {row[0] for row in cursor.fetchall()}


# --- The figures ---------------------------------------------------------------------------------------------------


def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def print_requests(timings: dict):
    """Requests per second, and per page: p50 / p95 / p99 / max over the whole load and p95 once everybody had
    arrived, the statuses seen, and every failure with its page, status and what it said."""
    rows = timings["requests"]
    if not rows:
        print("\n== No requests were made: see locust.log")
        return
    first, last = min(r[0] for r in rows), max(r[0] for r in rows)
    arrived = timings["all_started_at"] or first
    seconds = max(1.0, last - first)
    steady = [r for r in rows if r[0] >= arrived]
    failed = [r for r in rows if r[4]]
    print(f"\n== Requests: {len(rows):,} in {seconds:.0f} s = {len(rows) / seconds:.1f} req/s")
    print(
        f"  everybody had arrived {arrived - first:.0f} s in; after that {len(steady):,} requests in "
        f"{max(1.0, last - arrived):.0f} s = {len(steady) / max(1.0, last - arrived):.1f} req/s"
    )
    print(
        "  times in ms as locust saw them (waiting for a free gunicorn worker included; a request with no answer "
        "counts with the 60 s after which locust gave up); answered: any status came back"
    )
    header = (
        f"  {'page':44} {'requests':>8} {'answered':>8} {'req/s':>6} {'p50':>6} {'p95':>6} {'p99':>6} {'max':>6} "
        f"{'p95 after':>9}"
    )
    print(header + "  statuses")
    pages = {}
    for row in rows:
        pages.setdefault(row[1], []).append(row)
    for page, found in sorted(pages.items(), key=lambda item: item[0].split(" ", 1)[1]):
        times = [r[2] for r in found]
        after = [r[2] for r in found if r[0] >= arrived]
        statuses = {}
        for r in found:
            statuses[r[3]] = statuses.get(r[3], 0) + 1
        shown = " ".join(f"{code}:{n}" for code, n in sorted(statuses.items()))
        print(
            f"  {page:44.44} {len(found):8,} {sum(1 for r in found if r[3]):8,} {len(found) / seconds:6.1f} "
            f"{pct(times, 50):6.0f} {pct(times, 95):6.0f} "
            f"{pct(times, 99):6.0f} {max(times):6.0f} {pct(after, 95) if after else float('nan'):9.0f}  {shown}"
        )
    print(f"\n== Errors: {len(failed)} (target 0)")
    kinds = {}
    for row in failed:
        key = (row[1], row[3], AN_ID.sub("/[id]/", row[4]).removeprefix("CatchResponseError: "))
        kinds[key] = kinds.get(key, 0) + 1
    for (page, status, error), n in sorted(kinds.items(), key=lambda item: -item[1])[:30]:
        print(f"  {n:6}  {page} -> {status or 'no answer'}: {error}")
    if len(kinds) > 30:
        print(f"  ... and {len(kinds) - 30} more kinds, {sum(sorted(kinds.values())[:-30])} errors")


def print_server_time(access_log: Path, seconds: float, workers: int):
    """From gunicorn's access log: the time each page kept a worker busy (what the queue in front of the workers
    waited for), and its p50 / p95 inside the worker."""
    pages = {}
    for line in access_log.read_text().splitlines():
        parts = line.split()
        if len(parts) != 4 or not parts[3].isdigit():
            continue
        method, path, status, micros = parts
        page = f"{method} {AN_ID.sub('/[id]/', path)}"
        pages.setdefault(page, []).append(int(micros) / 1000)
    total = sum(sum(times) for times in pages.values()) / 1000
    print(
        f"\n== Inside gunicorn: its {workers} workers were busy {total:.0f} worker-s of {seconds * workers:.0f} "
        f"({total / seconds / workers:.0%}), on these pages (ms in the worker, without the wait before it)"
    )
    print(f"  {'page':44} {'requests':>8} {'worker-s':>8} {'share':>6} {'p50':>6} {'p95':>6} {'max':>6}")
    for page, times in sorted(pages.items(), key=lambda item: -sum(item[1])):
        busy = sum(times) / 1000
        print(
            f"  {page:44.44} {len(times):8,} {busy:8.1f} {busy / total:6.1%} {pct(times, 50):6.0f} "
            f"{pct(times, 95):6.0f} {max(times):6.0f}"
        )


def print_alarms(alarm_visits, alarm_times, run_end):
    alerts = {a.visit_id: a for a in VisitAlert.objects.filter(visit_id__in=alarm_visits, key="overdue:0:0")}
    delays = [(a.raised_at - a.due_at).total_seconds() for a in alerts.values()]
    due_in_run = [t for t in alarm_times if t <= run_end]
    missed = sum(1 for pk, due in zip(alarm_visits, alarm_times, strict=True) if due <= run_end and pk not in alerts)
    print(f"\n== Alerts raised during the load by the real worker: {len(alerts)} of {len(due_in_run)} due in the run")
    if delays:
        print(
            f"  due -> alert stored: p50 {statistics.median(delays):.3f}s  p99 {pct(delays, 99):.3f}s  "
            f"max {max(delays):.3f}s  (n={len(delays)}; target p99 under 2 s)"
        )
    print(f"  missed {missed}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--users-scale", type=float, default=1.0, help="share of the people (0.1: a tenth)")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn sync workers")
    parser.add_argument("--staff-think", default="15,45", help="seconds between a member of staff's actions")
    parser.add_argument("--dsl-think", default="15,45", help="seconds between a DSL's actions")
    parser.add_argument("--alarm-every", type=float, default=5, help="seconds between alarms falling due")
    parser.add_argument("--ramp-seconds", type=float, help="to start every user (default: 60, or a quarter of the run)")
    parser.add_argument("--keep", action="store_true", help="keep the logs and the timings of every request")
    args = parser.parse_args()
    if args.ramp_seconds is None:
        args.ramp_seconds = min(60.0, args.minutes * 60 / 4)

    if not cast_ready():
        print("Building the cast (once for this database)...", flush=True)
        build_cast()
    cast = load_schools()
    seconds = args.minutes * 60
    tmp = Path(tempfile.mkdtemp(prefix="hv-school-day-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_LOG_LEVEL": "WARNING",
        "EMAIL_URL": f"filemail:///{tmp / 'mail'}",
        "SMS_BACKEND": "visits.alerts.sms.FileSMSBackend",
        "SMS_FILE_PATH": str(tmp / "sms.jsonl"),
        # Each request's path, status and time inside the worker (microseconds), for the figures.
        "GUNICORN_CMD_ARGS": f"--access-logfile {tmp / 'access.log'} --access-logformat '%(m)s %(U)s %(s)s %(D)s'",
    }
    (tmp / "mail").mkdir()
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    processes = Processes(tmp, env)
    try:
        empty_the_day()
        day = lay_the_day(cast, visits_per_staff=max(1, math.ceil(args.minutes / 4)))
        people, timings = tmp / "people.json", tmp / "timings.json"
        counts = people_file(cast, day, scale=args.users_scale, path=people)
        users = sum(counts.values())
        celery = [sys.executable, "-m", "celery", "-A", "homevisits"]
        processes.start("worker", [*celery, "worker", "-l", "warning", "-n", "school-day@%h"])
        processes.start("beat", [*celery, "beat", "-l", "warning", "-s", str(tmp / "beat-schedule")])
        with gunicorn("bench.wsgi", workers=args.workers, env=env) as port:
            warm_up(port)
            (tmp / "access.log").write_text("")  # the load's requests only
            # The alarms fall due from half a minute into the load (while the users are still arriving) until
            # ten seconds before its end, one every --alarm-every seconds.
            load_start = timezone.now() + datetime.timedelta(seconds=5)
            alarm_times, due = [], load_start + datetime.timedelta(seconds=min(30, seconds / 4))
            while due < load_start + datetime.timedelta(seconds=seconds - 10):
                alarm_times.append(due)
                due += datetime.timedelta(seconds=args.alarm_every)
            alarm_visits = lay_alarms(cast, day["template"], alarm_times)
            print(
                f"{len(alarm_visits)} visits out whose first overdue alert falls due during the load, one every "
                f"{args.alarm_every:g} s",
                flush=True,
            )
            print(
                f"Load: {counts['office']} offices polling /board/live/ every 3 s, {counts['staff']} staff "
                f"(think {args.staff_think} s), {counts['dsl']} DSLs (think {args.dsl_think} s) for "
                f"{args.minutes:g} min, started over {args.ramp_seconds:g} s; gunicorn {args.workers} sync "
                f"workers; one Celery worker (prefork, {os.cpu_count()} processes, each sweeping every second) and "
                f"beat; all on {os.cpu_count()} shared cores; {timezone.localtime():%Y-%m-%d %H:%M} Europe/London",
                flush=True,
            )
            processes.env = {
                **env,
                "SCHOOL_DAY_PEOPLE": str(people),
                "SCHOOL_DAY_STAFF_THINK": args.staff_think,
                "SCHOOL_DAY_DSL_THINK": args.dsl_think,
                "SCHOOL_DAY_TIMINGS": str(timings),
            }
            ledger = CpuLedger()
            machine_before = psutil.cpu_times()
            locust = processes.start(
                "locust",
                [
                    *(sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "school_day_locustfile.py")),
                    *("--headless", "--only-summary", "--host", f"http://127.0.0.1:{port}"),
                    *("-u", str(users), "-r", str(max(1, math.ceil(users / args.ramp_seconds)))),
                    *("-t", f"{int(seconds)}s", "--stop-timeout", "10", "--exit-code-on-error", "0"),
                ],
            )
            began = time.monotonic()
            backends = set()
            while locust.poll() is None:
                backends |= database_backends()
                ledger.sample(
                    {
                        "web: gunicorn": gunicorn_processes(),
                        "Celery worker (sweep, delivery)": tree(processes.running["worker"][0].pid),
                        "Celery beat": tree(processes.running["beat"][0].pid),
                        "locust": tree(locust.pid),
                        "PostgreSQL: this database's connections": backends,
                        "this script": {os.getpid()},
                    }
                )
                time.sleep(5)
            elapsed = time.monotonic() - began
            run_end = timezone.now()
            machine_after = psutil.cpu_times()
            time.sleep(3)  # the last alarm's sweep
        print_requests(json.loads(timings.read_text()) if timings.exists() else {"requests": []})
        print_server_time(tmp / "access.log", elapsed, args.workers)
        print_alarms(alarm_visits, alarm_times, run_end)
        busy = sum(
            getattr(machine_after, f) - getattr(machine_before, f)
            for f in ("user", "system", "nice", "irq", "softirq", "steal")
        )
        cores = os.cpu_count() or 1
        print(f"\n== Where the CPU went: {elapsed:.0f} s x {cores} cores = {elapsed * cores:.0f} core-s")
        print(f"  the machine was busy {busy:.0f} core-s ({busy / elapsed / cores:.0%})")
        spent = sorted(ledger.spent().items(), key=lambda item: -item[1])
        for name, used in spent:
            if used >= 0.5 and (not name.startswith("other") or used >= 0.02 * busy):
                print(f"  {used:7.0f} core-s  {name}")
        if args.keep:
            print(f"\nLogs (locust, worker, beat) and timings.json kept in {tmp}")
    finally:
        processes.stop_all()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
