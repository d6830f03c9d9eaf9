"""The safe word and the pre-departure checklist's actions, on the visit page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.signin.decorators import ask_again_unless_recent

from ..access import get_visit_for
from ..models import Visit
from ..permissions import may_prepare, may_see_safe_word
from . import services
from .forms import OverrideForm, SafeWordForm, SocialWorkerForm


def _visit_in_school(user, pk):
    return get_object_or_404(
        Visit.objects.for_user(user).select_related("school", "household").prefetch_related("people"), pk=pk
    )


@login_required
def safe_word(request, pk):
    """GET shows the word to those allowed (audited); POST agrees it. Anyone else gets a 404."""
    visit = _visit_in_school(request.user, pk)
    if request.method == "POST":
        if not may_prepare(request.user, visit):
            raise Http404("No such visit.")
        form = SafeWordForm(request.POST)
        if form.is_valid():
            try:
                services.safe_word_set(visit=visit, word=form.cleaned_data["word"], actor=request.user)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, "Safe word agreed.")
        else:
            messages.error(request, " ".join(form.errors.get("word", ["Check the safe word."])))
        return redirect(visit)
    if not may_see_safe_word(request.user, visit):
        raise Http404("No such visit.")
    if (asked := ask_again_unless_recent(request)) is not None:
        return asked
    word = services.safe_word_reveal(visit=visit, user=request.user)
    template = "visits/_safe_word.html" if request.htmx else "visits/safe_word_page.html"
    response = render(request, template, {"visit": visit, "word": word})
    response["Cache-Control"] = "no-store"
    return response


CHECKLIST_ACTIONS = {"override", "headteacher", "social_worker", "cancel_animals"}


@login_required
@require_POST
def checklist_action(request, pk, action):
    if action not in CHECKLIST_ACTIONS:
        raise Http404("No such action.")
    # The pair, the requester and the school's DSLs and Principal: the same people who see the visit page.
    visit = get_visit_for(
        request.user, pk, Visit.objects.select_related("school", "household").prefetch_related("people", "children")
    )
    try:
        if action == "override":
            form = OverrideForm(request.POST)
            if not form.is_valid():
                raise ValidationError("Give the reason for the override.")
            services.checklist_override(
                visit=visit, item=form.cleaned_data["item"], reason=form.cleaned_data["reason"], actor=request.user
            )
            done = "Override recorded."
        elif action == "headteacher":
            services.visit_inform_headteacher(visit=visit, actor=request.user)
            done = "The Headteacher has been sent the purpose, address and time due back."
        elif action == "social_worker":
            form = SocialWorkerForm(request.POST)
            form.is_valid()
            services.visit_record_social_worker(
                visit=visit,
                actor=request.user,
                told_after=form.cleaned_data.get("told_after", False),
                note=form.cleaned_data.get("note", ""),
            )
            done = "Recorded."
        else:
            services.visit_cancel_for_animals(visit=visit, actor=request.user, note=request.POST.get("note", ""))
            done = "The visit is cancelled: the animals could not be kept in another room."
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return redirect(visit)
