"""Records pages: the retention review (what is due, holds, confirmation, what was disposed of), the child's file
and a leaver's transfer."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.forms import add_service_errors
from core.permissions import school_ids_where
from core.roles import SENIOR
from families.models import Child

from ..models import RetentionItem
from . import retention, transfers
from .forms import ReceiptForm, TransferForm
from .schedule import TRUST_DEFAULT_SCHEDULE

REVIEWERS_ONLY = (
    "The retention review is for the school's DSLs and Principal (and the trust admin, for trust-wide records)."
)


def _item_for(request, pk) -> RetentionItem:
    return get_object_or_404(retention.items_for(request.user).select_related("school"), pk=pk)


@login_required
def retention_review(request):
    if not retention.may_review_any(request.user):
        raise PermissionDenied(REVIEWERS_ONLY)
    items = list(retention.items_for(request.user).select_related("school", "held_by"))
    schools = {item.school_id for item in items}
    disposals = retention.disposals_for(request.user)
    return render(
        request,
        "visits/retention.html",
        {
            "due": [i for i in items if not i.is_held],
            "held": [i for i in items if i.is_held],
            "several_schools": len(schools) > 1,
            "disposals": disposals.select_related("school")[:50],
            "rules": TRUST_DEFAULT_SCHEDULE,
        },
    )


@login_required
@require_POST
def retention_hold_view(request, pk):
    item = _item_for(request, pk)
    try:
        retention.retention_hold(actor=request.user, item=item, reason=request.POST.get("reason", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Held: {item.label}. It stays until you end the hold.")
    return redirect("records:retention")


@login_required
@require_POST
def retention_release_view(request, pk):
    item = _item_for(request, pk)
    retention.retention_release(actor=request.user, item=item)
    messages.success(request, f"Hold ended: {item.label}. It is on the list for your next confirmation.")
    return redirect("records:retention")


@login_required
@require_POST
def retention_confirm_view(request):
    if not retention.may_review_any(request.user):
        raise PermissionDenied(REVIEWERS_ONLY)
    if request.POST.get("confirm") != "yes":
        messages.error(request, "Tick the box to confirm that you have reviewed the list.")
        return redirect("records:retention")
    ids = [int(v) for v in request.POST.getlist("item") if v.isdigit()]
    # Only the items the reviewer saw (and may review): a row listed since, or another school's, is not in it.
    mine = list(retention.items_for(request.user).filter(pk__in=ids, held_at__isnull=True).values_list("pk", flat=True))
    try:
        disposed = retention.retention_confirm(actor=request.user, item_ids=mine)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, f"Disposed of {len(disposed)} records as the schedule says; each left a disposal entry."
        )
    return redirect("records:retention")


# --- The child's file and a leaver's transfer ------------------------------------------------------------------


def _child_for(request, pk) -> Child:
    child = transfers.children_for_files(request.user).select_related("school", "household").filter(pk=pk).first()
    if child is None:
        raise Http404("No such child, or their file is not yours to open: the school's DSLs and Principal open it.")
    return child


@login_required
def child_file(request, pk):
    child = _child_for(request, pk)
    content = transfers.child_file_produce(actor=request.user, child=child)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="child-file-{child.pk}.pdf"'
    return response


@login_required
def child_transfer(request, pk):
    child = _child_for(request, pk)
    form = TransferForm(request.POST or None, initial={"left_on": child.left_on or timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            transfers.child_transfer_record(actor=request.user, child=child, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"Recorded: {child}'s file was sent to {form.cleaned_data['new_school']}. You will be reminded each "
                "morning until you record the receipt.",
            )
            return redirect("records:transfers")
    return render(
        request,
        "visits/child_transfer.html",
        {
            "child": child,
            "form": form,
            "transfers": child.file_transfers.select_related("recorded_by").order_by("-sent_on", "-pk"),
            "deadline": transfers.add_school_days(child.left_on, transfers.SEND_WITHIN_SCHOOL_DAYS)
            if child.left_on
            else None,
        },
    )


@login_required
def transfer_list(request):
    if not school_ids_where(request.user, *SENIOR):
        raise PermissionDenied("Leavers' files are for the school's DSLs and Principal.")
    rows = list(transfers.transfers_awaiting(user=request.user))
    today = timezone.localdate()
    return render(
        request,
        "visits/transfers.html",
        {
            "rows": [
                {"transfer": t, "days": (today - t.sent_on).days, "form": ReceiptForm(prefix=f"r{t.pk}")} for t in rows
            ],
        },
    )


@login_required
@require_POST
def transfer_receipt(request, pk):
    transfer = get_object_or_404(transfers.transfers_awaiting(user=request.user), pk=pk)
    form = ReceiptForm(request.POST, prefix=f"r{transfer.pk}")
    if form.is_valid():
        try:
            transfers.child_transfer_receipt(actor=request.user, transfer=transfer, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Receipt recorded for the file sent to {transfer.new_school}.")
    else:
        messages.error(request, "Give the day receipt was confirmed and who confirmed it.")
    return redirect("records:transfers")
