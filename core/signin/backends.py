"""django-axes' backend, for sign-ins that come with a web request only."""

from axes.backends import AxesStandaloneBackend


class AxesBackend(AxesStandaloneBackend):
    """Every web sign-in (allauth's pages, the admin's) passes its request and is checked for a lockout. A sign-in
    without one (a management command, a test client's login()) has no address to lock, so axes stays out of it
    instead of refusing it."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
