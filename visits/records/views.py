"""Records pages: the retention review (what is due, holds, confirmation, what was disposed of), the child's file
and a leaver's transfer."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.audit import audit
from core.forms import add_service_errors
from core.permissions import school_ids_where
from core.roles import SENIOR
from families.models import Child, ParentCarer

from ..models import RetentionItem
from . import retention, subject_access, transfers
from .forms import AccessRequestForm, ReceiptForm, TransferForm
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


# --- Subject access ------------------------------------------------------------------------------------------


def _senior_somewhere(request) -> None:
    if not school_ids_where(request.user, *SENIOR):
        raise PermissionDenied("Subject access requests are for the school's DSLs and Principal.")


@login_required
def access_requests(request):
    _senior_somewhere(request)
    rows = list(subject_access.requests_for(user=request.user)[:100])
    return render(
        request,
        "visits/access_requests.html",
        {"rows": [{"request": r, "due_on": subject_access.due_on(r.received_on)} for r in rows]},
    )


@login_required
def access_new(request):
    _senior_somewhere(request)
    senior_at = school_ids_where(request.user, *SENIOR)
    source = request.POST if request.method == "POST" else request.GET
    carer = child = None
    if source.get("child", "").isdigit():
        child = Child.objects.filter(school_id__in=senior_at, pk=source["child"]).first()
    elif source.get("carer", "").isdigit():
        carer = (
            ParentCarer.objects.filter(household__school_id__in=senior_at, pk=source["carer"])
            .select_related("household__school")
            .first()
        )
    if child is None and carer is None:
        raise Http404("No such child or parent, or not of your school: open the request from their page.")
    form = AccessRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            opened = subject_access.access_request_open(
                actor=request.user, carer=carer, child=child, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("records:access_review", pk=opened.pk)
    return render(
        request, "visits/access_new.html", {"form": form, "subject": child or carer, "child": child, "carer": carer}
    )


def _access_request_for(request, pk):
    return get_object_or_404(subject_access.requests_for(user=request.user), pk=pk)


@login_required
def access_review(request, pk):
    access = _access_request_for(request, pk)
    try:
        data = subject_access.gather(access)
    except ValidationError as error:
        raise Http404(" ".join(error.messages)) from None
    if request.method == "POST":
        try:
            subject_access.access_request_review(
                actor=request.user, request=access, redact=request.POST.getlist("redact")
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Review saved: the export below leaves out the people you marked.")
        return redirect("records:access_review", pk=access.pk)
    audit(
        actor=request.user,
        action="subject_access.view",
        obj=access,
        school=access.school,
        summary=f"Reviewed the records gathered for subject access request #{access.pk}",
    )
    return render(
        request,
        "visits/access_review.html",
        {
            "access": access,
            "data": data,
            "preview": subject_access.redacted(data, access.redact),
            "due_on": subject_access.due_on(access.received_on),
        },
    )


@login_required
def access_export(request, pk, fmt):
    access = _access_request_for(request, pk)
    if fmt not in ("pdf", "json"):
        raise Http404("Exports are PDF (to read) or JSON (for the record).")
    try:
        content = subject_access.access_request_export(actor=request.user, request=access, as_format=fmt)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("records:access_review", pk=access.pk)
    response = HttpResponse(content, content_type="application/pdf" if fmt == "pdf" else "application/json")
    response["Content-Disposition"] = f'attachment; filename="subject-access-{access.pk}.{fmt}"'
    return response
