"""View decorators for the role rules every app's pages share."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from .roles import is_senior


def senior_required(view):
    """DSLs and the Principal only; everyone else gets 403."""

    @login_required
    def wrapped(request, *args, **kwargs):
        if not (request.user.is_superuser or is_senior(request.user)):
            raise PermissionDenied("Only a DSL or the Principal can open this page.")
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped
