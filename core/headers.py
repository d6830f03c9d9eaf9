"""Cache-Control on every page: casework is never kept in a browser's cache, a proxy's or a shared PC's disk.

Simplest rule that is sound: every response but static files is `no-store` (a page for nobody signed in, such
as the log-in form, has nothing worth caching either). The one exception is the board's live fragment, polled
every few seconds by each screen: it answers 304 to an unchanged version, which needs the browser to keep the
last copy, so it stays `private, no-cache` (kept in that browser only, revalidated on every poll).
"""

from django.conf import settings
from django.urls import Resolver404, resolve

# URL names whose view sets its own Cache-Control for a reason given there.
OWN_CACHE_CONTROL = frozenset({"board-live"})


class NoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
            return response
        if response.has_header("Cache-Control") and _url_name(request) in OWN_CACHE_CONTROL:
            return response
        response["Cache-Control"] = "no-store"
        return response


def _url_name(request) -> str | None:
    match = getattr(request, "resolver_match", None)
    if match is None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return None
    return match.url_name
