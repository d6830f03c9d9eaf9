"""How long a prohibited-address CSV whose header has 100,000 distinct column names takes to be refused, through
the whole upload path (size check, decoding, the header). Prints; never asserts.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<your db> .venv/bin/python bench/wide_csv_header.py [COLUMNS]
Runs inside a transaction that is rolled back, so it leaves the database as it found it.
"""

import os
import statistics
import sys
import time

import django

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "homevisits.settings")
django.setup()

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from core.roles import Role
from safeguarding.prohibited_csv import prohibited_import_prepare
from tests.factories import SchoolFactory, TrustFactory, make_member, trust_default_policy

COLUMNS = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000


class Rollback(Exception):
    pass


header = ",".join(f"column_{i}" for i in range(COLUMNS)).encode()
body = header + b"\n1 High Street,,Town,LU1 1AA,,\n"
try:
    with transaction.atomic():
        trust = TrustFactory(name="Bench Trust", slug="bench-trust")
        trust_default_policy(trust)
        school = SchoolFactory(trust=trust, slug="bench-school")
        dsl = make_member("bench-dsl", school, Role.DSL)
        times, message = [], ""
        for _ in range(5):
            upload = SimpleUploadedFile("wide.csv", body, content_type="text/csv")
            start = time.perf_counter()
            try:
                prohibited_import_prepare(upload=upload, trust=trust, school=school, actor=dsl)
            except ValidationError as error:
                message = " ".join(error.messages)
            times.append(time.perf_counter() - start)
        raise Rollback
except Rollback:
    pass
print(f"header of {COLUMNS:,} distinct names, {len(body) / 1_048_576:.2f} MB")
print(f"refused with: {message[:120]}")
print(f"time to refuse: median {statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms (5 runs)")
