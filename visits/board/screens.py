"""Reception board screens: a trust admin's list (register, switch off) and the enrolment page opened on the
screen itself, which sets its device cookie. The verbs and the cookie's meaning are in core.screens."""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from core import screens
from core.forms import add_service_errors
from core.models import School
from core.permissions import school_ids_where
from core.roles import Role, has_role

from .forms import ScreenEnrolForm, ScreenRegisterForm


def trust_admin_required(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not (request.user.is_superuser or has_role(request.user, Role.TRUST_ADMIN)):
            raise PermissionDenied("Board screens are managed by the trust admin.")
        return view(request, *args, **kwargs)

    return wrapped


@trust_admin_required
def screen_list(request):
    admin_at = school_ids_where(request.user, Role.TRUST_ADMIN)
    form = ScreenRegisterForm(request.POST or None, schools=School.objects.filter(pk__in=admin_at))
    if request.method == "POST" and form.is_valid():
        try:
            screen, code = screens.screen_register(
                actor=request.user, school=form.cleaned_data["school"], name=form.cleaned_data["name"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _show_link(request, screen, code)
    status = 400 if form.errors else 200
    now = timezone.now()
    context = {"screens": [(s, s.status(now)) for s in screens.screens_for(user=request.user)], "form": form}
    return render(request, "visits/board_screens.html", context, status=status)


def _show_link(request, screen, code):
    # The code is shown this once (only its hash is kept): rendered here, not carried in a redirect.
    link = request.build_absolute_uri(reverse("board-screen-enrol-code", args=[code]))
    context = {"screen": screen, "code": code, "link": link, "hours": settings.BOARD_SCREEN_ENROLMENT_HOURS}
    return render(request, "visits/board_screen_registered.html", context)


@trust_admin_required
@require_POST
def screen_new_link(request, pk):
    screen = get_object_or_404(screens.screens_for(user=request.user), pk=pk)
    try:
        screen, code = screens.screen_new_link(actor=request.user, screen=screen)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("board-screens")
    return _show_link(request, screen, code)


@trust_admin_required
@require_POST
def screen_switch_off(request, pk):
    screen = get_object_or_404(screens.screens_for(user=request.user), pk=pk)
    screens.screen_revoke(actor=request.user, screen=screen)
    messages.success(request, f"Switched off {screen}: it stops showing the board at its next refresh.")
    return redirect("board-screens")


def screen_enrol(request, code=""):
    """Opened on the reception screen. A GET only shows what it would do (a link previewer must not spend the
    code); the POST spends it and sets the device cookie."""
    form = ScreenEnrolForm(request.POST or None, initial={"code": code})
    code = (request.POST.get("code") or code).strip()
    screen = screens.enrolment_screen(code=code)
    if request.method == "POST" and form.is_valid():
        try:
            screen, token = screens.screen_enrol(code=form.cleaned_data["code"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            response = redirect("board")
            response.set_cookie(
                settings.BOARD_SCREEN_COOKIE_NAME,
                token,
                max_age=settings.BOARD_SCREEN_COOKIE_AGE_SECONDS,
                path="/board/",
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
            return response
    if code and screen is None and not form.errors:
        form.add_error(None, "This enrolment link has been used, has expired or was switched off.")
    status = 400 if form.errors else 200
    return render(request, "visits/board_screen_enrol.html", {"form": form, "screen": screen}, status=status)
