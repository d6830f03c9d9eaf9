"""The office board's change counter: every service that changes what the board shows calls board_changed(),
and the board's version (board/selectors.py) reads the counter, so the next poll works the board out afresh.

Below everything else in visits, so the lifecycle, check-ins and alerts can all call it.
"""

from django.core.cache import cache
from django.db import transaction

GENERATION_KEY = "board-generation"

# Each process also remembers each version until the clock's second turns, so most polls need no cache round
# trip at all; board_changed forgets them in this process at once, other processes within the second.
recent_versions: dict[str, tuple[int, str]] = {}


def board_changed() -> None:
    """Called by every service that changes what the board shows: the next poll recomputes at once. Bumped now
    (this transaction's own later reads) and again on commit (everyone's reads once the change is visible)."""
    _bump_generation()
    transaction.on_commit(_bump_generation)


def forget_recent_versions() -> None:
    recent_versions.clear()


def _bump_generation() -> None:
    forget_recent_versions()
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 1, None)
