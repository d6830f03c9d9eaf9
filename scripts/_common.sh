# shellcheck shell=bash
# Helpers shared by scripts/run.sh and scripts/test.sh. Source this file; don't run it.
# Every helper is idempotent and cheap when its work is already done, so the scripts can
# call them on every run.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$REPO_ROOT/.venv"

# Debian libraries WeasyPrint loads at run time (PDF export), plus a font so PDFs have glyphs.
# fonts-noto-core: the scripts of the letters in families' languages (Arabic, Urdu, Bengali, Gurmukhi) that DejaVu lacks.
# shellcheck disable=SC2034  # used by the scripts that source this file
WEASYPRINT_APT_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-noto-core)

log() { printf '==> %s\n' "$*" >&2; }

die() {
    printf '\nERROR: %s\n\n' "$*" >&2
    exit 1
}

# The README targets root on a fresh machine; fall back to sudo for everyone else.
as_root() {
    if ((EUID == 0)); then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

# apt_ensure PKG...: install the packages that are not installed yet; do nothing (and skip the
# slow `apt-get update`) when all of them are. dpkg-query's status is checked rather than
# `dpkg -s`'s exit code, which is 0 for removed packages whose config files remain.
apt_ensure() {
    local pkg missing=()
    for pkg in "$@"; do
        if [[ $(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null) != installed ]]; then
            missing+=("$pkg")
        fi
    done
    ((${#missing[@]})) || return 0

    log "Installing Debian packages: ${missing[*]}"
    # `env` carries DEBIAN_FRONTEND through sudo too.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# ensure_venv: make sure $VENV holds a working Python with pip. A venv whose interpreter is gone
# (say, a removed pyenv version) or that was left half-made is rebuilt from scratch.
ensure_venv() {
    if [[ -x $VENV/bin/python ]] && "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
        return 0
    fi
    command -v python3 >/dev/null || apt_ensure python3

    log "Creating virtualenv in $VENV"
    rm -rf "$VENV"
    # Debian's own python3 has no ensurepip until python3-venv is installed; `python3 -m venv`
    # then fails half-way, so install the package and try once more.
    if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
        rm -rf "$VENV"
        apt_ensure python3-venv
        python3 -m venv "$VENV"
    fi
}

# ensure_python_deps: `pip install -e ".[dev]"`, skipped while pyproject.toml is unchanged since
# the last successful install (a stamp file named after its hash sits in the venv).
ensure_python_deps() {
    local hash stamp
    hash=$(sha256sum "$REPO_ROOT/pyproject.toml" | cut -d' ' -f1)
    stamp="$VENV/.installed-$hash"
    [[ -e $stamp ]] && return 0

    log "Installing Python packages from pyproject.toml (a minute or so the first time)"
    (cd "$REPO_ROOT" && "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[dev]")
    rm -f "$VENV"/.installed-*
    touch "$stamp"
}

# setup_python: the venv with the project's packages, first on PATH so that anything the app or
# the tests start by name (celery, ruff, ...) comes from it.
setup_python() {
    ensure_venv
    ensure_python_deps
    export PATH="$VENV/bin:$PATH"
}
