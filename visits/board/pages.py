"""The board's HTML, rendered once per version of what it shows and served to every screen from memory.

Rendering 500 rows takes a third of a second; the board is polled every few seconds by every screen at
reception. The live fragment depends only on the board's version (selectors.board_version: a digest of
everything it shows, including the minute for its countdowns), so it is rendered once per version per
process. The page around it depends only on who is looking (their name and menus), so that is rendered once
per person. The one thing that differs per request, the CSRF token, is left as a placeholder and put in when
the bytes are joined.
"""

import re
from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock

from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from core.roles import roles_by_school

from ..changes import forget_recent_versions

INDENTATION = re.compile(r"\s*\n\s*")
CSRF_PLACEHOLDER = "csrf-token-placeholder-b0a4d"
FRAGMENT_PLACEHOLDER = "<!-- board-live-fragment-placeholder-b0a4d -->"


@dataclass(frozen=True)
class Rendered:
    """Rendered HTML as bytes, split where each request's CSRF token goes."""

    parts: tuple[bytes, ...]

    @classmethod
    def of(cls, html: str) -> "Rendered":
        return cls(tuple(part.encode() for part in html.split(CSRF_PLACEHOLDER)))

    def __add__(self, other: "Rendered") -> "Rendered":
        return Rendered((*self.parts[:-1], self.parts[-1] + other.parts[0], *other.parts[1:]))

    def for_request(self, request) -> bytes:
        return get_token(request).encode().join(self.parts)


class SmallCache:
    """A few recent renders, in this process: versions change every minute, so old ones soon fall out."""

    def __init__(self, size: int):
        self.size, self.items, self.lock = size, OrderedDict(), Lock()

    def get_or_render(self, key, render):
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        value = render()  # outside the lock: a slow render must not hold up other screens' cached reads
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value

    def clear(self):
        with self.lock:
            self.items.clear()


fragments = SmallCache(size=16)
shells = SmallCache(size=64)
pages = SmallCache(size=16)  # a shell joined to a fragment: ~0.5 MB each with 500 rows


def forget_everything() -> None:
    """For tests: this process's renders and remembered versions (each test builds its own world)."""
    fragments.clear()
    shells.clear()
    pages.clear()
    forget_recent_versions()


def render_fragment(context: dict) -> Rendered:
    """Rendered without the request: no context processor can put one person's details into what every
    screen is served. The template's indentation is a fifth of 500 rows' bytes: a run of whitespace with a
    line break in it reads the same as one line break (the fragment has no <pre> or <textarea>)."""
    html = render_to_string("visits/_board_live.html", {**context, "csrf_token": CSRF_PLACEHOLDER})
    return Rendered.of(INDENTATION.sub("\n", html))


def live_fragment(version: str, context_for) -> Rendered:
    """The fragment for this version; `context_for()` builds its context (the queries) only when it must render.
    The fragment carries its version, so a screen can tell a poll that brings nothing new (board.js)."""
    return fragments.get_or_render(version, lambda: render_fragment({**context_for(), "version": version}))


def page(request, version: str | None, fragment: Rendered, context: dict) -> Rendered:
    """visits/board.html around the fragment of this version (None: a fragment of its own, such as one showing
    a form's errors). The shell comes from memory, unless messages are waiting (after an acknowledgement, say):
    they are shown once, so that page is rendered afresh."""
    user = request.user
    screen = getattr(request, "board_screen", None)

    def render_shell():
        placeholder = mark_safe(FRAGMENT_PLACEHOLDER)  # noqa: S308 - our constant, replaced by escaped HTML
        html = render_to_string(
            "visits/board.html", {**context, "live_html": placeholder, "csrf_token": CSRF_PLACEHOLDER}, request=request
        )
        before, after = html.split(FRAGMENT_PLACEHOLDER)
        return Rendered.of(before), Rendered.of(after)

    if version is None or len(request._messages):
        before, after = render_shell()
        return before + fragment + after
    key = (
        ("screen", screen, tuple(context.items()))
        if screen
        else (
            user.pk,
            user.username,
            user.get_full_name(),
            user.is_staff,
            user.is_superuser,
            tuple(sorted((school_id, tuple(sorted(roles))) for school_id, roles in roles_by_school(user).items())),
            tuple(context.items()),
        )
    )
    before, after = shells.get_or_render(key, render_shell)
    return pages.get_or_render((key, version), lambda: before + fragment + after)
