"""Re-authentication before the most sensitive pages: casework records, a safe word, an export."""

from functools import wraps
from urllib.parse import urlsplit

from allauth.account.adapter import get_adapter
from allauth.core.exceptions import ReauthenticationRequired
from django.http import HttpResponse
from django.utils.http import urlencode


def _not_recent(request) -> bool:
    return request.user.is_authenticated and get_adapter(request).is_reauthentication_required(app="casework")


def raise_if_sign_in_not_recent(request) -> None:
    """Unless the user proved who they are in the last 15 minutes (signing in counts), allauth's middleware sends
    them to re-authenticate and then back here (a POST is replayed)."""
    if _not_recent(request):
        raise ReauthenticationRequired()


def ask_again_unless_recent(request) -> HttpResponse | None:
    """As raise_if_sign_in_not_recent, and for an htmx fragment the answer that sends its whole page there."""
    if not _not_recent(request):
        return None
    if getattr(request, "htmx", False):
        # A fragment cannot show the password page: send the whole page there, and back to where it was.
        methods = get_adapter(request).get_reauthentication_methods(request.user)
        back = urlsplit(request.headers.get("HX-Current-URL", "")).path or request.get_full_path()
        target = f"{methods[0]['url']}?{urlencode({'next': back})}" if methods else "/"
        return HttpResponse(status=204, headers={"HX-Redirect": target})
    raise ReauthenticationRequired()


def recent_sign_in_required(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        asked = ask_again_unless_recent(request)
        return asked if asked is not None else view(request, *args, **kwargs)

    return wrapped
