"""The test cast (after healthchecks' hc/test.py): two schools of one trust, each role, and an outsider."""

import os
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection, connections
from django.test.client import ClientMixin

from core.roles import Role
from tests.factories import SchoolFactory, TrustFactory, make_member, trust_default_policy
from tests.helpers import forget_cached, mark_second_factor_passed, service_unavailable


def pytest_configure(config):
    _own_cache_per_worker()
    # In CI (and whenever scripts/test.sh started services) the real PostgreSQL must be in use: a suite that
    # quietly fell back to SQLite would pass without testing what production runs.
    if os.environ.get("CI") == "true" or os.environ.get("TEST_REQUIRE_SERVICES") == "1":
        engine = django_settings.DATABASES["default"]["ENGINE"]
        if engine != "django.db.backends.postgresql":
            pytest.exit(f"PostgreSQL is required here (DATABASE_URL), but the database engine is {engine}.", 3)
        if not django_settings.REDIS_URL:
            pytest.exit("Redis is required here (REDIS_URL), but it is not set.", 3)
        if not django_settings.CACHE_URL:
            pytest.exit("The Redis cache is required here (CACHE_URL), but it is not set.", 3)


# scripts/test.sh sets this in CI: the suite then runs as a role that owns nothing (README: "Running the app as a
# database role that owns nothing"), so a feature that needs more than the product's grants fails here, not in
# production.
APP_ROLE = os.environ.get("TEST_DATABASE_APP_ROLE", "")

# The product's grants (README), plus TRUNCATE: the test runner empties the tables after each transactional test.
APP_ROLE_GRANTS = """
    GRANT USAGE ON SCHEMA public TO {role};
    GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public TO {role};
    GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role};
    REVOKE UPDATE, DELETE ON core_auditentry FROM {role};
    GRANT UPDATE (seq, prev_hash, entry_hash) ON core_auditentry TO {role};
    GRANT EXECUTE ON FUNCTION core_audit_prune(bigint, integer, varchar, varchar) TO {role};
"""


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The superuser creates and migrates the test database, as the owner would; then (with TEST_DATABASE_APP_ROLE)
    every connection, threads' and live servers' included, works as the app role from its first statement."""
    if not APP_ROLE:
        yield
        return
    from django.conf import settings

    db = connections["default"]
    dicts = [db.settings_dict, settings.DATABASES["default"]]  # this thread's connection, and those made later
    with django_db_blocker.unblock():
        with db.cursor() as cursor:
            role = db.ops.quote_name(APP_ROLE)
            cursor.execute(APP_ROLE_GRANTS.format(role=role))
        for settings_dict in dicts:
            settings_dict.setdefault("OPTIONS", {})["options"] = f"-c role={APP_ROLE}"
        connections.close_all()
        with db.cursor() as cursor:
            cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
            if cursor.fetchone() != (APP_ROLE, False):
                pytest.exit(f"The suite should run as {APP_ROLE}, but it does not.", 3)
    yield
    # The superuser drops the test database again.
    for settings_dict in dicts:
        settings_dict["OPTIONS"].pop("options", None)
    connections.close_all()


def _own_cache_per_worker():
    """Under pytest-xdist each worker has its own test database; it needs its own Redis database for the cache
    too, or one worker's cache.clear() (every test starts with one) would empty the other's mid-test."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    cache = django_settings.CACHES["default"]
    if not worker.startswith("gw") or not cache["BACKEND"].startswith("django_redis"):
        return
    base, _, number = cache["LOCATION"].rpartition("/")
    cache["LOCATION"] = f"{base}/{int(number) - int(worker[2:])}"


@pytest.fixture
def postgres_url(transactional_db):
    """The test database as a URL, for a server or worker started in another process (committed data only)."""
    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        service_unavailable("A process of its own needs the test database in PostgreSQL (DATABASE_URL).")
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    # The connection's options too: in CI they make the other process act as the app role, as the suite does.
    options = f"?options={quote(db['OPTIONS']['options'])}" if db.get("OPTIONS", {}).get("options") else ""
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}{options}"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: no signed-in user, session or board render left by another."""
    forget_cached()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def cast(db):
    """oakfield (with every role) and riverside (a DSL and a member of staff), in one trust."""
    trust = TrustFactory(name="Brookvale Test Trust", slug="brookvale-test")
    trust_default_policy(trust)
    oak = SchoolFactory(trust=trust, name="Oakfield Test Primary", slug="oak")
    river = SchoolFactory(trust=trust, name="Riverside Test Academy", slug="river")
    return SimpleNamespace(
        trust=trust,
        school=oak,
        other_school=river,
        staff=make_member("staff", oak, Role.STAFF),
        staff2=make_member("staff2", oak, Role.STAFF),
        outsider=make_member("outsider", oak, Role.STAFF),
        dsl=make_member("dsl", oak, Role.DSL),
        principal=make_member("principal", oak, Role.PRINCIPAL),
        office=make_member("office", oak, Role.OFFICE),
        trust_admin=make_member("trustadmin", [oak, river], Role.TRUST_ADMIN),
        other_dsl=make_member("otherdsl", river, Role.DSL),
        other_staff=make_member("otherstaff", river, Role.STAFF),
    )


@pytest.fixture(autouse=True)
def _force_login_is_a_full_sign_in(monkeypatch):
    """client.force_login stands for a whole sign-in, second factor included, as it did before there was one.

    The sign-in tests (tests/core/signin/) sign in through the real pages instead, and test the second factor there.
    """
    original = ClientMixin.force_login

    def force_login(self, user, backend=None):
        original(self, user, backend)
        mark_second_factor_passed(self, user)

    monkeypatch.setattr(ClientMixin, "force_login", force_login)
