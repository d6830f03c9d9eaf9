"""Figures for the MIS import: a school of 2,000 pupils and 3,500 carers (tests/families/mis_exports.py; the
size is PUPILS and CARERS in the environment), read into a preview and confirmed, then the same file again (a
re-import that changes nothing). Prints seconds and the peak memory the import allocated (tracemalloc) and the
process's peak resident size; never asserts.

    DATABASE_URL=postgres://... .venv/bin/python bench/pupil_import.py [ROUNDS]
Each round runs in a transaction that is rolled back, so it leaves the database as it found it.
"""

import datetime
import os
import platform
import resource
import statistics
import sys
import time
import tracemalloc

import django

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "homevisits.settings")
django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction

from core.roles import Role
from families.imports.records import phone_or_problem
from families.imports.services import pupil_import_confirm, pupil_import_prepare
from tests.factories import SchoolFactory, TrustFactory, make_member, trust_default_policy
from tests.families import mis_exports

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 5


class Rollback(Exception):
    pass


PUPILS, CARERS = int(os.environ.get("PUPILS", 2000)), int(os.environ.get("CARERS", 3500))
roll = mis_exports.school(pupils=PUPILS, carers=CARERS)
content = mis_exports.as_csv(mis_exports.table(roll, "sims"))
resident_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Django, the factory and the file
timings = {"preview": [], "confirm": [], "preview + confirm": [], "re-import preview": []}
peaks = []
# The last round traces allocations for the memory figure (tracing slows Python down: it is left out of the times).
for round_ in range(ROUNDS + 1):
    tracing = round_ == ROUNDS
    try:
        with transaction.atomic():
            trust = TrustFactory(name="Bench Trust", slug="bench-trust")
            trust_default_policy(trust)
            school = SchoolFactory(trust=trust, slug="bench-school")
            dsl = make_member("bench-dsl", school, Role.DSL)
            phone_or_problem.cache_clear()  # each upload and each confirm is a request, maybe in a fresh process
            if tracing:
                tracemalloc.start()
            started = time.perf_counter()
            pending = pupil_import_prepare(upload=SimpleUploadedFile("sims.csv", content), school=school, actor=dsl)
            previewed = time.perf_counter()
            phone_or_problem.cache_clear()
            counts = pupil_import_confirm(pending=pending, actor=dsl)
            confirmed = time.perf_counter()
            if tracing:
                peaks.append(tracemalloc.get_traced_memory()[1])
                tracemalloc.stop()
                raise Rollback
            timings["preview"].append(previewed - started)
            timings["confirm"].append(confirmed - previewed)
            timings["preview + confirm"].append(confirmed - started)
            started = time.perf_counter()
            pupil_import_prepare(upload=SimpleUploadedFile("sims.csv", content), school=school, actor=dsl)
            timings["re-import preview"].append(time.perf_counter() - started)
            raise Rollback
    except Rollback:
        pass

carers = len({id(c) for p in roll for c in p.home.carers})
print(
    f"{datetime.date.today():%-d %B %Y}, {platform.node()} ({os.cpu_count()} cores, "
    f"{platform.processor() or platform.machine()}), {connection.vendor}"
)
print(f"MIS import, SIMS layout: {counts['new']} pupils, {carers} carers, {len(content) // 1024} KB, {ROUNDS} rounds")
for name, values in timings.items():
    print(f"  {name:18} median {statistics.median(values):.2f} s, max {max(values):.2f} s")
print(f"  peak memory allocated by preview + confirm: {max(peaks) / 2**20:.0f} MB (tracemalloc)")
resident = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"  peak resident size of the process: {resident:.0f} MB ({resident_before:.0f} MB before the first import)")
print(f"  load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
