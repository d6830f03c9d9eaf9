"""Figures for the MIS import: a school of about 400 pupils and 700 carers (tests/families/mis_exports.py), read
into a preview and confirmed, then the same file again (a re-import that changes nothing). Prints; never asserts.

    DATABASE_URL=postgres://... .venv/bin/python bench/pupil_import.py [ROUNDS]
Each round runs in a transaction that is rolled back, so it leaves the database as it found it.
"""

import datetime
import os
import platform
import statistics
import sys
import time

import django

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "homevisits.settings")
django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction

from core.roles import Role
from families.imports.services import pupil_import_confirm, pupil_import_prepare
from tests.factories import SchoolFactory, TrustFactory, make_member, trust_default_policy
from tests.families import mis_exports

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 5


class Rollback(Exception):
    pass


roll = mis_exports.school()
content = mis_exports.as_csv(mis_exports.table(roll, "sims"))
timings = {"preview": [], "confirm": [], "re-import preview": []}
for _ in range(ROUNDS):
    try:
        with transaction.atomic():
            trust = TrustFactory(name="Bench Trust", slug="bench-trust")
            trust_default_policy(trust)
            school = SchoolFactory(trust=trust, slug="bench-school")
            dsl = make_member("bench-dsl", school, Role.DSL)
            started = time.perf_counter()
            pending = pupil_import_prepare(upload=SimpleUploadedFile("sims.csv", content), school=school, actor=dsl)
            timings["preview"].append(time.perf_counter() - started)
            started = time.perf_counter()
            counts = pupil_import_confirm(pending=pending, actor=dsl)
            timings["confirm"].append(time.perf_counter() - started)
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
