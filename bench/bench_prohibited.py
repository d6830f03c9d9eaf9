"""Figures for the prohibited-addresses list: CSV import and matching with a large list. Prints; never asserts.

    DJANGO_SETTINGS_MODULE=homevisits.settings .venv/bin/python bench/bench_prohibited.py [ROWS]
Runs inside a transaction that is rolled back, so it leaves the database as it found it.
"""

import os
import sys
import time

import django

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "homevisits.settings")
django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from core.roles import Role
from safeguarding.prohibited_csv import prohibited_import_prepare
from safeguarding.selectors import prohibited_address_matches
from safeguarding.services import prohibited_import_confirm
from tests.factories import HouseholdFactory, SchoolFactory, TrustFactory, make_member, trust_default_policy

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
OUTCODES = ["LU1", "LU2", "LU3", "EB1", "EB2", "EB4", "EB5", "EB6"]


class Rollback(Exception):
    pass


try:
    with transaction.atomic():
        trust = TrustFactory(name="Bench Trust", slug="bench-trust")
        trust_default_policy(trust)
        school = SchoolFactory(trust=trust, slug="bench-school")
        dsl = make_member("bench-dsl", school, Role.DSL)
        lines = ["address_line1,town,postcode"] + [
            f"{n + 1} Bench Street,Luton,{OUTCODES[n % 8]} {n % 9 + 1}AB" for n in range(ROWS)
        ]
        upload = SimpleUploadedFile("bench.csv", "\n".join(lines).encode())
        start = time.perf_counter()
        batch = prohibited_import_prepare(upload=upload, trust=trust, school=None, actor=dsl)
        parse_s = time.perf_counter() - start
        start = time.perf_counter()
        created = prohibited_import_confirm(batch=batch, actor=dsl)
        confirm_s = time.perf_counter() - start
        household = HouseholdFactory(school=school, address_line1="7 Bench St", postcode="LU1 8AB")
        start = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            for _ in range(100):
                matches = prohibited_address_matches(household_or_address=household)
        match_ms = (time.perf_counter() - start) * 10
        print(f"database: {connection.vendor}; list of {len(created)} addresses ({batch.rejected_count} rejected)")
        print(f"CSV check of {ROWS} rows: {parse_s:.2f} s; confirm (import): {confirm_s:.2f} s")
        print(f"match one household: {match_ms:.2f} ms, {len(queries) // 100} queries, {len(matches)} match(es)")
        raise Rollback
except Rollback:
    pass
