"""Parent-copy render time and peak memory: median of 20 renders (prints figures; never passes or fails).

    .venv/bin/python bench/parent_copy.py [--renders 20] [--paragraphs 3]

Builds a throwaway SQLite database in a temporary folder with one school, one reported visit and a summary of
the given number of paragraphs, then times visits.pdf.parent_copy_pdf (query, template and WeasyPrint).
The first render (font loading) is reported separately and left out of the median.
"""

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--renders", type=int, default=20)
    parser.add_argument("--paragraphs", type=int, default=3)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="bench-parent-copy-")
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "homevisits.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from django.contrib.auth.hashers import make_password
    from django.test.utils import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        visit = _reported_visit(args.paragraphs, make_password)

    from visits.after.pdf import parent_copy_pdf

    start = time.perf_counter()
    first = parent_copy_pdf(visit)
    first_ms = (time.perf_counter() - start) * 1000

    times, peaks = [], []
    for _ in range(args.renders):
        tracemalloc.start()
        start = time.perf_counter()
        data = parent_copy_pdf(visit)
        times.append((time.perf_counter() - start) * 1000)
        peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
        tracemalloc.stop()
    # tracemalloc slows Python code down; time a second run without it for the headline figure.
    plain = []
    for _ in range(args.renders):
        start = time.perf_counter()
        parent_copy_pdf(visit)
        plain.append((time.perf_counter() - start) * 1000)

    import io

    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(data)).pages)
    print(f"parent copy: {args.renders} renders, {pages} page(s), {len(first) / 1024:.0f} KiB")
    print(f"first render (fonts cold): {first_ms:.0f} ms")
    print(
        f"median render time: {statistics.median(plain):.0f} ms "
        f"(min {min(plain):.0f}, max {max(plain):.0f}; target < 300 ms)"
    )
    print(f"median under tracemalloc: {statistics.median(times):.0f} ms")
    print(
        f"peak Python memory per render (tracemalloc): median {statistics.median(peaks):.1f} MiB, "
        f"max {max(peaks):.1f} MiB"
    )
    try:
        import resource

        print(f"process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    except ImportError:
        pass


def _reported_visit(paragraphs, make_password):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from core.models import Authorisers, HomeVisitPolicy, School, StaffProfile, Trust
    from families.models import Child, Household, ParentCarer
    from visits.after.services import report_submit
    from visits.models import Purpose, VisitRole, VisitStatus
    from visits.requests.services import Visitor, visit_create
    from visits.services import visit_transition

    trust = Trust.objects.create(name="Bench Trust", slug="bench")
    HomeVisitPolicy.objects.create(
        trust=trust,
        max_visit_minutes=30,
        wait_if_late_minutes=10,
        overdue_grace_minutes=5,
        max_extension_minutes=30,
        earliest_start=datetime.time(8, 30),
        latest_start=datetime.time(16, 30),
        unannounced_needs_principal=True,
        authorisers=Authorisers.DSL_OR_PRINCIPAL,
        report_due_hours=24,
        review_date=datetime.date(2027, 7, 1),
    )
    school = School.objects.create(
        trust=trust,
        name="St Brígid's Bench Primary",
        slug="bench",
        address_line1="1 Elm Row",
        town="Eastbridge",
        postcode="EB1 2AB",
        phone="020 7946 0001",
    )
    users = []
    for name, first, last in [("lead", "Zoë", "O'Connell"), ("second", "Tomasz", "Quillfield")]:
        user = get_user_model().objects.create(
            username=name, first_name=first, last_name=last, password=make_password("bench")
        )
        profile = StaffProfile.objects.create(user=user, job_title="Family Support Worker")
        profile.schools.set([school])
        users.append(user)
    household = Household.objects.create(
        school=school, name="Ní Bhriain family", address_line1="5 Willow Lane", town="Eastbridge", postcode="EB2 3CD"
    )
    ParentCarer.objects.create(
        household=household, title="Mrs", first_name="Siobhán", last_name="D'Arcy", relationship="mother"
    )
    child = Child.objects.create(
        school=school,
        household=household,
        first_name="Seán",
        last_name="Ní Bhriain",
        date_of_birth=datetime.date(2017, 3, 14),
        year_group="3",
    )
    start = timezone.now() - datetime.timedelta(hours=3)
    visit = visit_create(
        requested_by=users[0],
        school=school,
        household=household,
        children=[child],
        people=[Visitor(role=VisitRole.LEAD, user=users[0]), Visitor(role=VisitRole.SECOND, user=users[1])],
        purpose=Purpose.ATTENDANCE,
        reason="Bench",
        outcome_wanted="Bench",
        scheduled_start=start,
        expected_duration_minutes=30,
        expected_return=start + datetime.timedelta(minutes=60),
    )
    for status in [
        VisitStatus.REQUESTED,
        VisitStatus.AUTHORISED,
        VisitStatus.OUT,
        VisitStatus.ON_SITE,
        VisitStatus.LEFT,
        VisitStatus.RETURNED,
    ]:
        visit_transition(visit=visit, to_status=status, actor=users[0])
    paragraph = "We talked about the morning routine, homework and the bus to school, and agreed a plan. " * 6
    report_submit(
        visit=visit,
        actor=users[0],
        fields={
            "outcome": "seen",
            "child_seen": True,
            "staff_went_in": False,
            "parent_summary": "\n\n".join([paragraph] * paragraphs),
            "next_visit_on": timezone.localdate(),
        },
        present=[{"name": "Siobhán D'Arcy", "relationship": "mother", "parental_responsibility": True}],
        actions=[
            {
                "owner": users[0],
                "description": "Send the routine chart home",
                "agreed_with_family": True,
                "due_on": timezone.localdate(),
            }
        ],
    )
    return visit


if __name__ == "__main__":
    main()
