#!/usr/bin/env bash
# Set up and run the app with demo data: the web server and a Celery worker (which runs the alert sweep)
# side by side. Ctrl-C stops both.
#
# Environment: PORT (default 8000); DATABASE_URL / REDIS_URL are optional (unset => SQLite and a
# filesystem broker under var/, so nothing else has to be running).
set -euo pipefail

# shellcheck source=scripts/_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
cd "$REPO_ROOT"

PORT=${PORT:-8000}
# Links in the texts and emails the demo prints point at this server, whatever its port.
export SITE_URL=${SITE_URL:-http://localhost:$PORT}

apt_ensure "${WEASYPRINT_APT_PACKAGES[@]}"
setup_python

mkdir -p var
log "Migrating the database"
python manage.py migrate --noinput
log "Loading demo data"
# The demo's visits are laid out around the time it is loaded, so the board shows today as it is; on a later day
# it is laid out again (what was done in it the day before goes with it).
python manage.py seed_demo --new-day

# Start both servers, then stop whichever is still running when either one exits, on Ctrl-C
# (INT) or on TERM. Killing by PID keeps us from touching anything we did not start.
pids=()
# shellcheck disable=SC2317  # only called from the EXIT trap
stop_children() {
    ((${#pids[@]})) || return 0
    log "Stopping web server and worker"
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
    pids=()
}
trap stop_children EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

python manage.py runserver "0.0.0.0:$PORT" &
pids+=($!)
# The worker runs the alert sweep itself every second (no beat needed); one pool process, so one sweeper writes
# to SQLite.
celery -A homevisits worker -c 1 --loglevel=info &
pids+=($!)

cat >&2 <<EOF

  Home visits is starting. Open http://localhost:$PORT/ in a browser.
  Press Ctrl-C to stop the web server and the Celery worker.

EOF

# Returns as soon as either child exits (or a trapped signal arrives).
status=0
wait -n "${pids[@]}" || status=$?
log "A server exited (status $status)"
exit "$status"
