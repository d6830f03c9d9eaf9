"""Parent-copy render time and peak memory: median of 20 renders (prints figures; never passes or fails).

    .venv/bin/python bench/parent_copy.py [--renders 20] [--paragraphs 3]

Builds a throwaway SQLite database in a temporary folder with one school, one reported visit and a summary of
the given number of paragraphs, then times visits.after.pdf.parent_copy_pdf (query, template and WeasyPrint).
The first render (font loading) is reported separately and left out of the median.
"""

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from pypdf import PdfReader

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
    import django  # after the benchmark's DATABASE_URL is in the environment

    django.setup()
    from django.core.management import call_command  # Django is set up just above

    call_command("migrate", verbosity=0)

    # Django is set up above, so its modules and the project's are imported only now.
    from django.contrib.auth.hashers import make_password
    from django.test.utils import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        visit = _reported_visit(args.paragraphs, make_password)

    from visits.after.pdf import parent_copy_pdf  # the project's modules, once Django is set up

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
        import resource  # Unix only: the except below covers the rest

        print(f"process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    except ImportError:
        pass


def _reported_visit(paragraphs, make_password):
    """One school, a pair (names with accents and apostrophes, to exercise the fonts) and a visit taken through
    its life by the verbs up to a submitted Home Visit Form."""
    # Django is set up in main(), so the project's own modules are imported only now.
    from django.utils import timezone

    from core.roles import Role
    from families.models import ParentCarer
    from tests.factories import (
        ChildFactory,
        SchoolFactory,
        TrustFactory,
        make_member,
        make_visit,
        trust_default_policy,
        walk_visit,
    )
    from visits.after.services import report_submit

    trust = TrustFactory(name="Bench Trust", slug="bench")
    trust_default_policy(trust)
    school = SchoolFactory(trust=trust, name="St Brígid's Bench Primary", slug="bench")
    users = []
    for name, first, last in [("lead", "Zoë", "O'Connell"), ("second", "Tomasz", "Quillfield")]:
        user = make_member(name, school, Role.STAFF, job_title="Family Support Worker")
        user.first_name, user.last_name = first, last
        user.save()
        users.append(user)
    make_member("dsl", school, Role.DSL)
    child = ChildFactory(
        household__school=school,
        household__name="Ní Bhriain family",
        household__address_line1="5 Willow Lane",
        first_name="Seán",
        last_name="Ní Bhriain",
    )
    ParentCarer.objects.create(
        household=child.household, title="Mrs", first_name="Siobhán", last_name="D'Arcy", relationship="mother"
    )
    start = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
    visit = make_visit(lead=users[0], second=users[1], child=child, start=start, minutes=30)
    walk_visit(visit, users[0], "returned")
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
