"""The office board's change counters: every service that changes what the board shows calls board_changed(),
naming the school whose board it changed where it knows it, and the board's version (board/selectors.py) reads
that school's counter and the one for changes anywhere, so the next poll of that board works it out afresh while
every other school's board keeps the version it has.

Below everything else in visits, so the lifecycle, check-ins and alerts can all call it.
"""

from django.core.cache import cache
from django.db import transaction

GENERATION_KEY = "board-generation"

# Each process also remembers each version until the clock's second turns, so most polls need no cache round
# trip at all; board_changed forgets them in this process at once, other processes within the second.
recent_versions: dict[str, tuple[int, str]] = {}
# And the sweep's health (the same for every board) for the second it was read in.
recent_sweep_health: dict[int, object] = {}


def generation_key(school_id: int) -> str:
    return f"{GENERATION_KEY}:{school_id}"


def board_changed(school_id: int | None = None) -> None:
    """Called by every service that changes what the board shows: the next poll of that school's board (of
    every board, without a school) recomputes at once. Bumped now (this transaction's own later reads) and
    again on commit (everyone's reads once the change is visible)."""
    key = GENERATION_KEY if school_id is None else generation_key(school_id)
    _bump_generation(key)
    transaction.on_commit(lambda: _bump_generation(key))


def forget_recent_versions() -> None:
    recent_versions.clear()
    recent_sweep_health.clear()


def _bump_generation(key: str) -> None:
    forget_recent_versions()
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, None)
