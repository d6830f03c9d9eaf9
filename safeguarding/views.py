from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

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


@senior_required
def approvals(request):
    return render(request, "placeholder.html", {
        "title": "Approvals",
        "coming": "Requests awaiting your decision will be listed here, oldest first, with the "
                  "authorisation workflow.",
    })


@senior_required
def dashboard(request):
    return render(request, "placeholder.html", {
        "title": "Dashboard",
        "coming": "Requests to decide, who is out now, live alerts, overdue reports and actions, open concerns "
                  "and expiring training will be gathered here.",
    })
