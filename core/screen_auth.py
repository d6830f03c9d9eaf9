"""Recognise a reception board screen from its device cookie.

Sets `request.board_screen` (a ScreenIdentity, or None) and `request.board_screen_off` (the cookie names a
screen that was switched off). The screen is not a user: request.user stays anonymous, so every page that
needs a signed-in person turns it away as usual, and only the board's views look at `request.board_screen`.
The lookup is cached for a short while (a poll every few seconds from every screen) and the cache entry is
dropped when the screen is switched off, so the next request is refused.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from .models import BoardScreen
from .screens import screen_cache_key, token_hash

SCREEN_CACHE_SECONDS = 60


@dataclass(frozen=True)
class ScreenIdentity:
    pk: int
    name: str
    school_id: int
    school_name: str
    revoked: bool


def screen_for_token(token: str) -> ScreenIdentity | None:
    if not token:
        return None
    key = screen_cache_key(token_hash(token))
    found = cache.get(key)
    if found is None:
        screen = BoardScreen.objects.select_related("school").filter(device_token_hash=token_hash(token)).first()
        found = (
            ScreenIdentity(
                pk=screen.pk,
                name=screen.name,
                school_id=screen.school_id,
                school_name=screen.school.name,
                revoked=screen.revoked_at is not None,
            )
            if screen
            else False  # remembered too: a forged token costs one query a minute, not one a request
        )
        cache.set(key, found, SCREEN_CACHE_SECONDS)
    return found or None


class BoardScreenMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        screen = screen_for_token(request.COOKIES.get(settings.BOARD_SCREEN_COOKIE_NAME, ""))
        request.board_screen = screen if screen and not screen.revoked else None
        request.board_screen_off = bool(screen and screen.revoked)
        return self.get_response(request)
