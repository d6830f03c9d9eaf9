#!/usr/bin/env bash
# Set up and run the whole test suite: Debian packages, the virtualenv, PostgreSQL and Redis, then
# `ruff check .`, `ruff format --check .`, the import layers, the migrations check and pytest. Extra
# arguments go to pytest; the exit code is pytest's.
#
# Services:
#   CI=true      PostgreSQL (user postgres, trust auth) must answer at 127.0.0.1:5432 and Redis at
#                127.0.0.1:6379, or this script fails. It never starts, skips or falls back.
#   otherwise    those default servers are used when they answer; for each one that doesn't, a
#                throwaway server is started on a spare port and removed on exit.
# Exported to the tests: DATABASE_URL, REDIS_URL, CACHE_URL, TEST_REQUIRE_SERVICES=1 (CI is passed unchanged);
# and TEST_DATABASE_APP_ROLE: the suite runs as a role that owns nothing (created if missing), in CI and out.
#
# Knobs for working on this script (not needed for normal use):
#   HOMEVISITS_FORCE_THROWAWAY=1   start throwaway servers even if the default ones answer
#   HOMEVISITS_TEST_CMD='...'      run this shell command instead of ruff and pytest
#   PYTEST_WORKERS=N               pytest-xdist workers (default 2; 0 runs in one process)
#   HOMEVISITS_TEST_APP_ROLE=NAME  the role the suite acts as (default homevisits_test_app)
set -euo pipefail

# shellcheck source=scripts/_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
cd "$REPO_ROOT"

DEFAULT_PG=postgres://postgres@127.0.0.1:5432
DEFAULT_REDIS=redis://127.0.0.1:6379

is_ci() { [[ ${CI:-} =~ ^([Tt][Rr][Uu][Ee]|1)$ ]]; }

# --- probes (they use the venv's psycopg and redis, so no client tools are needed) -----------

# pg_answers URL: connect as the URL's user and check it may create the test database.
# Prints the reason to stderr when it can't.
pg_answers() {
    python - "$1" <<'PY'
import sys

import psycopg

try:
    with psycopg.connect(sys.argv[1], connect_timeout=3) as conn:
        can_create = conn.execute(
            "SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user"
        ).fetchone()[0]
except Exception as exc:  # any failure means "not usable", with the reason shown
    sys.exit(f"PostgreSQL at {sys.argv[1]}: {' '.join(str(exc).split())}")
if not can_create:
    sys.exit(f"PostgreSQL at {sys.argv[1]}: the user may not create databases")
PY
}

# ensure_app_role URL ROLE: create ROLE (no login, no privileges of its own) if it is not there yet. The suite
# connects as the superuser, which creates and migrates the test databases, then acts as ROLE (SET ROLE).
CI_APP_ROLE=${HOMEVISITS_TEST_APP_ROLE:-homevisits_test_app}
ensure_app_role() {
    python - "$1" "$2" <<'PY'
import sys

import psycopg
from psycopg import sql

with psycopg.connect(sys.argv[1], connect_timeout=3, autocommit=True) as conn:
    if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [sys.argv[2]]).fetchone():
        try:
            conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(sys.argv[2])))
        except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
            pass  # another run made it meanwhile
PY
}

# redis_answers URL: PING it.
redis_answers() {
    python - "$1" <<'PY'
import sys

import redis

try:
    redis.Redis.from_url(sys.argv[1], socket_connect_timeout=3, socket_timeout=3).ping()
except Exception as exc:
    sys.exit(f"Redis at {sys.argv[1]}: {' '.join(str(exc).split())}")
PY
}

# spare_port: a TCP port nothing on 127.0.0.1 listens on right now.
spare_port() {
    python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- throwaway servers -------------------------------------------------------------------------

THROWAWAY_DIR=""
PG_CTL=""
REDIS_PID=""

# Runs on every exit: stop what we started (by data folder and by PID) and remove the folder.
# shellcheck disable=SC2317  # only called from the EXIT trap
stop_throwaway_services() {
    if [[ -n $PG_CTL && -f $THROWAWAY_DIR/pgdata/postmaster.pid ]]; then
        runuser -u postgres -- "$PG_CTL" -D "$THROWAWAY_DIR/pgdata" -m immediate stop >/dev/null 2>&1 || true
    fi
    if [[ -n $REDIS_PID ]]; then
        kill "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
    fi
    if [[ -n $THROWAWAY_DIR ]]; then
        rm -rf "$THROWAWAY_DIR"
    fi
}

make_throwaway_dir() {
    [[ -n $THROWAWAY_DIR ]] && return 0
    # Under /tmp, not $TMPDIR: the postgres user must be able to reach it.
    THROWAWAY_DIR=$(mktemp -d /tmp/homevisits-test.XXXXXX)
    chown postgres:postgres "$THROWAWAY_DIR"
}

# start_throwaway_postgres: start a fresh cluster (trust auth, user postgres) on a spare port and
# set THROWAWAY_PG_URL to its base URL.
start_throwaway_postgres() {
    local bindir port
    bindir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    [[ -x $bindir/initdb ]] || die "PostgreSQL's initdb was not found under /usr/lib/postgresql"
    PG_CTL="$bindir/pg_ctl"
    port=$(spare_port)
    make_throwaway_dir
    # TCP on 127.0.0.1 only, the socket inside our folder (not /var/run/postgresql, which the real
    # cluster uses), and fsync and friends off: the data is thrown away, so speed wins.
    local server_options="-p $port -k $THROWAWAY_DIR -c listen_addresses=127.0.0.1 -c fsync=off"
    server_options+=" -c synchronous_commit=off -c full_page_writes=off"

    log "Starting a throwaway PostgreSQL on 127.0.0.1:$port"
    # PostgreSQL refuses to run as root, hence runuser; cd so it doesn't start in a folder it
    # can't read.
    (
        cd "$THROWAWAY_DIR"
        runuser -u postgres -- "$bindir/initdb" -D "$THROWAWAY_DIR/pgdata" -U postgres \
            --auth=trust --encoding=UTF8 --no-locale --no-sync >"$THROWAWAY_DIR/initdb.log" 2>&1 ||
            { cat "$THROWAWAY_DIR/initdb.log" >&2; die "initdb failed"; }
        runuser -u postgres -- "$PG_CTL" -D "$THROWAWAY_DIR/pgdata" -l "$THROWAWAY_DIR/postgres.log" \
            -w -t 30 -o "$server_options" start >/dev/null ||
            { cat "$THROWAWAY_DIR/postgres.log" >&2; die "the throwaway PostgreSQL did not start"; }
    )
    THROWAWAY_PG_URL="postgres://postgres@127.0.0.1:$port"
    wait_until "PostgreSQL" pg_answers "$THROWAWAY_PG_URL/postgres" "$THROWAWAY_DIR/postgres.log"
}

# start_throwaway_redis: start a Redis with no persistence on a spare port and set
# THROWAWAY_REDIS_URL. It runs in the background as a single command so that $! is its own PID.
start_throwaway_redis() {
    local port
    port=$(spare_port)
    make_throwaway_dir

    log "Starting a throwaway Redis on 127.0.0.1:$port"
    redis-server --port "$port" --bind 127.0.0.1 --dir "$THROWAWAY_DIR" --save "" --appendonly no \
        --daemonize no >"$THROWAWAY_DIR/redis.log" 2>&1 &
    REDIS_PID=$!
    THROWAWAY_REDIS_URL="redis://127.0.0.1:$port"
    wait_until "Redis" redis_answers "$THROWAWAY_REDIS_URL" "$THROWAWAY_DIR/redis.log"
}

# wait_until NAME PROBE URL LOGFILE: poll PROBE for up to ~15 s; show the log if it never answers.
wait_until() {
    local name=$1 probe=$2 url=$3 logfile=$4 i
    for ((i = 0; i < 30; i++)); do
        "$probe" "$url" 2>/dev/null && return 0
        sleep 0.5
    done
    cat "$logfile" >&2 || true
    "$probe" "$url" || true
    die "the throwaway $name did not answer at $url"
}

# --- main --------------------------------------------------------------------------------------

apt_ensure "${WEASYPRINT_APT_PACKAGES[@]}" chromium poppler-utils
setup_python

trap stop_throwaway_services EXIT
# Turn signals into a normal exit so the EXIT trap always cleans up.
trap 'exit 130' INT
trap 'exit 143' TERM

if is_ci; then
    # CI must test against the real services; a missing one is a broken CI machine, so say so.
    problems=()
    if ! reason=$(pg_answers "$DEFAULT_PG/postgres" 2>&1); then problems+=("$reason"); fi
    if ! reason=$(redis_answers "$DEFAULT_REDIS" 2>&1); then problems+=("$reason"); fi
    if ((${#problems[@]})); then
        {
            echo
            echo "##################################################################"
            echo "#  CI=true but the services the tests need are not answering:"
            printf '#    %s\n' "${problems[@]}"
            echo "#  Expected PostgreSQL (user postgres, trust auth) at 127.0.0.1:5432"
            echo "#  and Redis at 127.0.0.1:6379. Refusing to run without them."
            echo "##################################################################"
            echo
        } >&2
        exit 1
    fi
    pg_base=$DEFAULT_PG
    redis_base=$DEFAULT_REDIS
    # The suite runs as a role that owns nothing (README: "Running the app as a database role that owns
    # nothing"); tests/conftest.py grants it the product's privileges in each test database.
    ensure_app_role "$pg_base/postgres" "$CI_APP_ROLE"
    export TEST_DATABASE_APP_ROLE=$CI_APP_ROLE
else
    use_defaults=true
    [[ ${HOMEVISITS_FORCE_THROWAWAY:-} == 1 ]] && use_defaults=false

    need_pg=true
    need_redis=true
    if $use_defaults; then
        pg_answers "$DEFAULT_PG/postgres" 2>/dev/null && need_pg=false
        redis_answers "$DEFAULT_REDIS" 2>/dev/null && need_redis=false
    fi

    # One apt run for whatever the throwaway servers need.
    packages=()
    $need_pg && packages+=(postgresql)
    $need_redis && packages+=(redis-server)
    ((${#packages[@]})) && apt_ensure "${packages[@]}"

    if $need_pg; then
        start_throwaway_postgres
        pg_base=$THROWAWAY_PG_URL
    else
        log "Using the PostgreSQL at 127.0.0.1:5432"
        pg_base=$DEFAULT_PG
    fi
    # As in CI, the suite acts as a role that owns nothing, so a missing grant fails here first.
    ensure_app_role "$pg_base/postgres" "$CI_APP_ROLE"
    export TEST_DATABASE_APP_ROLE=$CI_APP_ROLE
    if $need_redis; then
        start_throwaway_redis
        redis_base=$THROWAWAY_REDIS_URL
    else
        log "Using the Redis at 127.0.0.1:6379"
        redis_base=$DEFAULT_REDIS
    fi
fi

# pytest-django creates (and drops) test_homevisits on this server itself.
export DATABASE_URL="$pg_base/homevisits"
export REDIS_URL="$redis_base/15"
export CACHE_URL="$redis_base/14"  # its own database: tests clear the cache between them
export TEST_REQUIRE_SERVICES=1

if [[ -n ${HOMEVISITS_TEST_CMD:-} ]]; then
    log "Running HOMEVISITS_TEST_CMD instead of ruff and pytest"
    status=0
    bash -c "$HOMEVISITS_TEST_CMD" || status=$?
    exit "$status"
fi

log "ruff check . && ruff format --check ."
ruff check . || die "ruff found problems (see above); fix them before the tests run"
ruff format --check . || die "ruff format would change the files above: run 'ruff format .'"

# The layers (pyproject.toml, [tool.importlinter]): homevisits -> visits -> safeguarding -> families -> core.
log "lint-imports"
lint-imports --no-cache || die "an import runs against the layers (see above): move the code, or the import, down"

log "makemigrations --check"
python manage.py makemigrations --check --dry-run >/dev/null ||
    die "the models and the migrations disagree: run 'python manage.py makemigrations' (a merge migration is never committed: rebase and renumber)"

# Two processes (pytest-xdist), each with its own test database and cache database; the demo-seed tests share
# one worker (xdist_group) so the seed runs once. PYTEST_WORKERS=0 runs in this process (easier to debug).
workers=${PYTEST_WORKERS:-2}
log "pytest -n $workers $*"
status=0
python -m pytest -n "$workers" --dist loadgroup "$@" || status=$?
# Exit code 5 means no tests were collected: a wrong path or a broken conftest, never a pass.
((status == 5)) && printf '\nERROR: pytest collected no tests; treating that as a failure.\n\n' >&2
exit "$status"
