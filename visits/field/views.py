"""The field page: the pair's check-ins from a phone (or the office's, on their behalf)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from core.audit import audit
from core.permissions import may_use_board
from core.scoping import school_ids_for

from ..alerts import services as alert_services
from ..lifecycle import OPEN_FOR_FAMILY
from ..models import CheckInKind, Visit
from ..permissions import is_pair, may_check_in
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


@login_required
def field(request, pk):
    visit = _field_visit(request.user, pk)
    chain = visit.chain()
    extend_form = ExtendForm(minutes_left=chain.max_extension_minutes - visit.extended_minutes)
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
            elif kind in services.ROUTES:
                services.visit_check_in(visit=visit, actor=request.user, kind=kind)
                messages.success(request, f"Check-in sent: {CheckInKind(kind).label}.")
                return redirect("visits:field", pk=visit.pk)
            else:
                messages.error(request, "Choose a check-in.")
        except ValidationError as error:
            if hasattr(error, "error_dict") and "minutes" in error.error_dict:
                extend_form.add_error("minutes", error.error_dict["minutes"])
            else:
                messages.error(request, " ".join(error.messages))
        visit.refresh_from_db()
    return render(
        request,
        "visits/field.html",
        {
            "visit": visit,
            # The pair and the office need the address while the visit is open; afterwards it is the family's.
            "show_address": visit.status in OPEN_FOR_FAMILY,
            "available": services.available_checkins(visit),
            "extend_form": extend_form,
            "on_behalf": not is_pair(request.user, visit),
            "kinds": CheckInKind,
            "quick": QUICK_CHECKIN,
            "pair": [p for p in visit.people.all() if p.user_id],
            "chain": chain,
            "planned_minutes": int(visit.planned_length.total_seconds() // 60),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def texts(request):
    """The texts received on the school's number: who, when, what, what it did, the reply."""
    if not may_use_board(request.user):
        raise PermissionDenied("The log of texts is for the office, the DSLs and the Principal.")
    rows = selectors.inbound_text_log(user=request.user)
    audit(actor=request.user, action="text.list", obj=request.user, school=None, summary=f"Viewed {len(rows)} texts")
    return render(request, "visits/texts.html", {"rows": rows, "limit": selectors.TEXT_LOG_LIMIT})
