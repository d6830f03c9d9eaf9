"""The trust admin's staff import (upload, preview, confirm), deactivating a leaver in one click, and the page an
invited person opens from their email to set their password."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.views.decorators.http import require_POST

from .audit import audit
from .forms import Form, RefuseControlCharacters
from .invitations import invitation_tokens, staff_deactivate
from .models import Membership, School
from .permissions import trust_admin_trust_ids
from .staff_import import (
    staff_import_confirm,
    staff_import_discard,
    staff_import_prepare,
    template_csv,
    visible_staff_imports,
)


def _schools(user):
    ids = trust_admin_trust_ids(user)
    if not ids:
        raise PermissionDenied("The staff list is kept by the trust admin.")
    return School.objects.filter(trust_id__in=ids).order_by("name")


class StaffUploadForm(Form):
    school = forms.ModelChoiceField(queryset=School.objects.none())
    file = forms.FileField(
        label="Staff list (CSV or Excel)",
        help_text="Columns: first_name, last_name, email, mobile, job_title, role, training_date, training_expires.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv,.xlsx"}),
    )

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools


@login_required
def staff_import(request):
    schools = _schools(request.user)
    form = StaffUploadForm(request.POST or None, request.FILES or None, schools=schools)
    if request.method == "POST" and form.is_valid():
        try:
            pending = staff_import_prepare(
                upload=form.cleaned_data["file"], school=form.cleaned_data["school"], actor=request.user
            )
        except ValidationError as error:
            form.add_error("file", error.messages)
        else:
            return redirect("staff_import_preview", pk=pending.pk)
    return render(
        request,
        "core/staff_import.html",
        {"form": form, "recent": visible_staff_imports(user=request.user)},
        status=400 if form.errors else 200,
    )


@login_required
def staff_import_template(request):
    _schools(request.user)
    response = HttpResponse(template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="staff-import-template.csv"'
    return response


@login_required
def staff_import_preview(request, pk):
    _schools(request.user)
    pending = visible_staff_imports(user=request.user).filter(pk=pk).first()
    if pending is None:
        raise Http404("No such staff list, or it is not yours.")
    if request.method == "POST":
        try:
            if request.POST.get("action") == "confirm":
                counts = staff_import_confirm(pending=pending, actor=request.user)
                messages.success(
                    request,
                    f"Staff list imported: {counts['new']} invited, {counts['changed']} changed, "
                    f"{counts['left']} left.",
                )
                return redirect("memberships")
            staff_import_discard(pending=pending, actor=request.user)
            messages.info(request, "Discarded: nothing was changed.")
            return redirect("staff_import")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("staff_import_preview", pk=pending.pk)
    return render(request, "core/staff_import_preview.html", {"pending": pending, "preview": pending.preview})


@login_required
@require_POST
def staff_deactivate_view(request, pk):
    trust_ids = _schools(request.user).values_list("trust_id", flat=True)
    person = get_object_or_404(
        get_user_model().objects.filter(
            pk__in=Membership.objects.filter(school__trust_id__in=trust_ids).values("user")
        ),
        pk=pk,
    )
    try:
        ended = staff_deactivate(actor=request.user, user=person, reason="deactivated on the Roles page")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        who = person.get_full_name() or person.username
        messages.success(request, f"{who} is deactivated: every role ended and {ended} session(s) signed out.")
    return redirect("memberships")


class InvitationPasswordForm(RefuseControlCharacters, SetPasswordForm):
    """Django's set-password form (the password validators, typed twice), refusing control characters too."""


def invitation(request, uidb64, token):
    """The invitation email's link: set a password once, then log in. No sign-in needed to open it."""
    try:
        user = get_user_model().objects.get(pk=force_str(urlsafe_base64_decode(uidb64)), is_active=True)
    except (get_user_model().DoesNotExist, ValueError, TypeError, OverflowError):
        user = None
    if user is None or not invitation_tokens.check_token(user, token):
        refused = HttpResponse(status=404)  # the site's refusal page, worded (homevisits/refusals.py)
        refused.refusal_why = (
            f"An invitation link works once, for {settings.STAFF_INVITATION_DAYS} days. This one has been used, has "
            "expired, or was copied wrongly."
        )
        return refused
    form = InvitationPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        audit(actor=user, action="staff.invitation_accepted", obj=user, summary=f"{user.username} set their password")
        messages.success(request, f"Your password is set. Log in with your username, {user.username}.")
        return redirect("login")
    return render(request, "core/invitation.html", {"form": form, "person": user}, status=400 if form.errors else 200)
