"""Where to go after a form: the one check every `next` parameter passes before it is followed."""

from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, fallback: str, *, field: str = "next") -> str:
    """The `next` the request carries (POST, then GET) if it stays on this site, else `fallback`.

    `//evil.example/` and `https://evil.example/` start like paths or URLs but leave the site: Django's
    url_has_allowed_host_and_scheme refuses them, and a plain-http URL on an HTTPS request.
    """
    target = request.POST.get(field) or request.GET.get(field) or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def redirect_to_next(request, fallback: str, *args, field: str = "next", **kwargs):
    """redirect() to a safe `next`, or to `fallback` (a URL name or path, with its arguments)."""
    target = safe_next(request, "", field=field)
    return redirect(target) if target else redirect(fallback, *args, **kwargs)
