"""The field page: the pair's check-ins from a phone (or the office's, on their behalf)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from core.audit import audit
from core.permissions import may_use_board
from core.scoping import school_ids_for

from ..alerts import services as alert_services
from ..departure.selectors import where_to_fix
from ..lifecycle import OPEN_FOR_FAMILY
from ..models import CheckInKind, Visit
from ..permissions import may_check_in
from . import selectors, services
from .forms import ExtendForm

# The discreet duress control on the field page posts this kind; the page answers it like any other check-in.
QUICK_CHECKIN = "quick"


def _field_visit(user, pk) -> Visit:
    """The pair, or the office of the visit's school (recording on their behalf); anyone else a 404."""
    visit = get_object_or_404(
        Visit.objects.select_related("household", "school").prefetch_related("people__user"),
        pk=pk,
        school_id__in=school_ids_for(user),
    )
    if may_check_in(user, visit):
        return visit
    raise Http404("No such visit.")


# The doorstep steps and the undo: each a check-in kind posted like the others, each with its own verb.
DOORSTEP_VERBS = {
    CheckInKind.HERE: services.visit_here,
    CheckInKind.PARENT_LATE: services.visit_parent_late,
    CheckInKind.NO_ANSWER: services.visit_no_answer,
    CheckInKind.LETTER_POSTED: services.visit_letter_posted,
    CheckInKind.CHILD_DANGER: services.visit_child_in_danger,
    CheckInKind.RETURN_UNDONE: services.visit_undo_return,
}
# What the page says once the verb has recorded it (by what it recorded: a second "here" is the arrival).
DONE = {
    CheckInKind.HERE: "Check-in sent: you are here, waiting for your colleague.",
    CheckInKind.ARRIVED: "Check-in sent: you are both here.",
    CheckInKind.NO_ANSWER: "The office has been asked to ring the family.",
    CheckInKind.CHILD_DANGER: "The DSLs and the Principal have been alerted.",
    CheckInKind.RETURN_UNDONE: "Undone: the office is watching for you again.",
}


# Where the page opens after a doorstep tap: the part that says what to do next.
ANCHORS = {CheckInKind.CHILD_DANGER: "#danger"}


@login_required
def field(request, pk):
    visit = _field_visit(request.user, pk)
    chain = visit.chain()
    extend_form = ExtendForm(minutes_left=chain.max_extension_minutes - visit.extended_minutes)
    confirm, refusals = "", []
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        try:
            if kind == QUICK_CHECKIN:
                alert_services.visit_raise_duress(visit=visit, actor=request.user, from_office=False)
                messages.success(request, "Check-in sent.")
                return redirect("visits:field", pk=visit.pk)
            if kind == CheckInKind.EXTENDED:
                extend_form = ExtendForm(
                    request.POST, minutes_left=chain.max_extension_minutes - visit.extended_minutes
                )
                if extend_form.is_valid():
                    services.visit_extend(visit=visit, actor=request.user, minutes=extend_form.cleaned_data["minutes"])
                    messages.success(request, f"Extended by {extend_form.cleaned_data['minutes']} minutes.")
                    return redirect("visits:field", pk=visit.pk)
            elif kind in selectors.CONFIRM and request.POST.get("confirm") != "yes":
                confirm = kind  # asked once more on the page (the step opens without script too)
            elif kind in services.ROUTES:
                services.visit_check_in(visit=visit, actor=request.user, kind=kind)
                messages.success(request, f"Check-in sent: {CheckInKind(kind).label}.")
                return redirect("visits:field", pk=visit.pk)
            elif kind in DOORSTEP_VERBS:
                checkin = DOORSTEP_VERBS[kind](visit=visit, actor=request.user)
                messages.success(request, DONE.get(checkin.kind, f"Check-in sent: {checkin.get_kind_display()}."))
                return redirect(reverse("visits:field", args=[visit.pk]) + ANCHORS.get(kind, ""))
            else:
                messages.error(request, "Choose a check-in.")
        except ValidationError as error:
            if hasattr(error, "error_dict") and "minutes" in error.error_dict:
                extend_form.add_error("minutes", error.error_dict["minutes"])
            elif kind == CheckInKind.CHECKED_OUT and any(e.code for e in getattr(error, "error_list", [])):
                refusals = where_to_fix(visit=visit, user=request.user, refusals=error.error_list)
            else:
                messages.error(request, " ".join(error.messages))
        visit.refresh_from_db()
    now = timezone.now()
    panel = selectors.field_panel(visit=visit, user=request.user, now=now)
    return render(
        request,
        "visits/field.html",
        {
            "visit": visit,
            "panel": panel,
            # The pair and the office need the address while the visit is open; afterwards it is the family's.
            "show_address": visit.status in OPEN_FOR_FAMILY,
            "available": services.available_checkins(visit),
            "extend_form": extend_form,
            "on_behalf": panel.on_behalf,
            "kinds": CheckInKind,
            "quick": QUICK_CHECKIN,
            "pair": [p for p in visit.people.all() if p.user_id],
            "chain": chain,
            "planned_minutes": int(visit.planned_length.total_seconds() // 60),
            "confirm": confirm,
            "refusals": refusals,
        },
        status=400 if request.method == "POST" and not confirm else 200,
    )


@login_required
def texts(request):
    """The texts received on the school's number: who, when, what, what it did, the reply."""
    if not may_use_board(request.user):
        raise PermissionDenied("The log of texts is for the office, the DSLs and the Principal.")
    rows = selectors.inbound_text_log(user=request.user)
    audit(actor=request.user, action="text.list", obj=request.user, school=None, summary=f"Viewed {len(rows)} texts")
    return render(request, "visits/texts.html", {"rows": rows, "limit": selectors.TEXT_LOG_LIMIT})
