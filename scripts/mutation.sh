#!/usr/bin/env bash
# Mutation testing of the alarm path with mutmut (not part of CI): the sweep, delivery, acknowledgements,
# check-ins, the lifecycle and the visit's timer methods, and the board's alert rows ([tool.mutmut] in
# pyproject.toml lists the files and the tests). Each mutant runs the tests that cover the mutated function, on
# PostgreSQL, two at a time in one test database, used as it is (tests/mutation_db.py). Prints the score and
# every survivor. MUTATION_CHILDREN=1 runs one mutant at a time.
#
#   bash scripts/mutation.sh                 # DATABASE_URL defaults to the shared server, database hv_mutation
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/mydb bash scripts/mutation.sh
#   bash scripts/mutation.sh --again         # keep mutants/ and its results: only re-run what changed
#
# About an hour on 2 busy cores (779 mutants). Show one survivor's diff with `.venv/bin/mutmut show <name>`.
set -euo pipefail

# shellcheck source=scripts/_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
cd "$REPO_ROOT"
setup_python
python -m pip show mutmut >/dev/null 2>&1 || python -m pip install -q "mutmut==3.8.1"

export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/hv_mutation}
# A cache in each process: mutants never share (and clear) a Redis cache. The broker is not on the alarm path.
export CACHE_URL="" REDIS_URL="" TEST_REQUIRE_SERVICES=0 CI=false
# The mutated copy holds its own settings import path; var/ must exist for the development settings.
mkdir -p var

if [[ ${1:-} != --again ]]; then
    rm -rf mutants
fi
# The tests' database, created once so that the mutants can reuse it (--reuse-db) instead of each making its own.
python -m pytest -q -p no:xdist --create-db -m "not services and not e2e" tests/visits/test_models.py >/dev/null

# The functions on the alarm path: all of the sweep, delivery, acknowledgements, check-ins and the lifecycle; the
# visit's timer methods; the board's rows and their state.
ALARM_PATH=(
    'visits.alerts.sweep.*' 'visits.alerts.delivery.*' 'visits.alerts.services.*' 'visits.field.services.*'
    'visits.lifecycle.*'
    'visits.board.selectors.x_board_visits__mutmut_*' 'visits.board.selectors.x_board_rows__mutmut_*'
    'visits.board.selectors.xǁBoardRowǁstate__mutmut_*'
)
for method in due_back overdue_at is_overdue on_site_too_long_at next_alert_due is_away is_cleared_to_go is_back; do
    ALARM_PATH+=("visits.models.visit.xǁVisitǁ${method}__mutmut_*")
done

started=$(date +%s)
mutmut run --max-children "${MUTATION_CHILDREN:-2}" "${ALARM_PATH[@]}" || true
elapsed=$(($(date +%s) - started))

mutmut results --all true >var/mutation-results.txt 2>&1 || true
# Each survivor is tried once more on its own, in a fresh process (MUTANT_UNDER_TEST is how mutmut switches a
# mutant on), against the whole test selection: some survive mutmut's forked runs and fail here.
python - "$elapsed" <<'PY'
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

lines = Path("var/mutation-results.txt").read_text().splitlines()
status = {}
for line in lines:
    match = re.match(r"\s*(\S+):\s*(\w[\w ]*)$", line)
    if match:
        status[match[1]] = match[2].strip()
KILLED = ("killed", "timeout", "segfault", "caught by type check", "killed on its own")
UNDECIDED = ("not checked", "check was interrupted by user")
SELECTION = tomllib.loads(Path("pyproject.toml").read_text())["tool"]["mutmut"]["pytest_add_cli_args_test_selection"]
for name, s in sorted(status.items()):
    if s != "survived":
        continue
    # Every test of the selection (a test added since mutmut mapped them counts too), -x stops at the first fail.
    tests = SELECTION
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "tests.mutation_db", "-x", "-q", *tests],
            cwd="mutants",
            env={**os.environ, "MUTANT_UNDER_TEST": name},
            capture_output=True,
            timeout=300,
        )
        failed = result.returncode == 1  # a test failed (not: no tests, a usage error)
    except subprocess.TimeoutExpired:
        failed = True  # it hangs: mutmut counts a timeout as killed too
    if failed:
        status[name] = "killed on its own"
killed = sum(1 for s in status.values() if s in KILLED)
# A mutant no selected test covers ("no tests") counts against the score, as a survivor does.
survived = sorted(f"{name} ({s})" for name, s in status.items() if s not in KILLED + UNDECIDED)
other = [name for name, s in status.items() if s in UNDECIDED]  # mostly functions off the alarm path
total = killed + len(survived)
minutes = int(sys.argv[1]) / 60
print(f"\nMutation score: {killed}/{total} killed = {100 * killed / max(total, 1):.1f}%  ({minutes:.0f} min)")
print(f"Survivors ({len(survived)}): show one with `.venv/bin/mutmut show NAME`")
for name in survived:
    print("  " + name)
print(f"Not run: {len(other)} (functions off the alarm path, or a run stopped early)")
PY
