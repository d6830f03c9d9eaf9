"""The school's import page: upload the MIS export, map its columns once, see the preview, confirm or discard."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from core.audit import audit
from core.forms import add_service_errors
from core.models import School
from core.permissions import may_manage_pupil_roll

from . import services
from .forms import MappingForm, UploadForm
from .layouts import FIELDS, PRESETS, missing_fields, template_csv


def _schools(user):
    """The schools whose roll this user may import (DSL, Principal, trust admin)."""
    ids = [school.pk for school in School.objects.all() if may_manage_pupil_roll(user, school)]
    if not ids:
        raise PermissionDenied("Only a DSL, the Principal or a trust admin imports a school's pupils.")
    return School.objects.filter(pk__in=ids).order_by("name")


@login_required
def pupil_import(request):
    schools = _schools(request.user)
    form = UploadForm(request.POST or None, request.FILES or None, schools=schools)
    if request.method == "POST" and form.is_valid():
        try:
            pending = services.pupil_import_prepare(
                upload=form.cleaned_data["file"],
                school=form.cleaned_data["school"],
                actor=request.user,
                layout=form.cleaned_data["layout"],
            )
        except ValidationError as error:
            form.add_error("file", error.messages)
        else:
            return redirect("pupil_import_preview", pk=pending.pk)
    recent = services.visible_pupil_imports(user=request.user).filter(school__in=schools)
    return render(
        request,
        "families/pupil_import.html",
        {"form": form, "recent": recent, "presets": [label for label, _ in PRESETS.values()]},
        status=400 if form.errors else 200,
    )


@login_required
def pupil_import_template(request):
    _schools(request.user)
    response = HttpResponse(template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="pupil-import-template.csv"'
    return response


@login_required
def pupil_import_preview(request, pk):
    pending = services.visible_pupil_imports(user=request.user).filter(pk=pk).first()
    if pending is None:
        raise Http404("No such preview, or it is not yours to see (or it is more than a day old).")
    mine = pending.uploaded_by_id == request.user.pk
    mapping_form = MappingForm(
        request.POST if request.POST.get("action") == "map" else None, header=pending.header, mapping=pending.mapping
    )
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "map" and mapping_form.is_valid():
                services.pupil_import_map(pending=pending, mapping=mapping_form.cleaned_data, actor=request.user)
                return redirect("pupil_import_preview", pk=pending.pk)
            if action == "confirm":
                counts = services.pupil_import_confirm(pending=pending, actor=request.user)
                messages.success(
                    request,
                    f"Imported: {counts['new']} new, {counts['changed']} changed, {counts['unchanged']} unchanged, "
                    f"{counts['left']} marked as left.",
                )
                return redirect("pupil_import")
            if action == "discard":
                services.pupil_import_discard(pending=pending, actor=request.user)
                messages.info(request, "Discarded: nothing was imported.")
                return redirect("pupil_import")
        except ValidationError as error:
            if action == "map":
                add_service_errors(mapping_form, error)
            else:
                messages.error(request, " ".join(error.messages))
                return redirect("pupil_import_preview", pk=pending.pk)
    audit(
        actor=request.user,
        action="pupils.import_view",
        obj=pending,
        school=pending.school,
        summary=f"Viewed the preview of {pending.filename} for {pending.school}",
    )
    preview = pending.preview
    return render(
        request,
        "families/pupil_import_preview.html",
        {
            "pending": pending,
            "mine": mine,
            "missing": missing_fields(pending.mapping),
            "mapping_form": mapping_form,
            "mapped": [(FIELDS[f][0], ", ".join(cols)) for f, cols in pending.mapping.items() if f in FIELDS],
            "layout": PRESETS.get(pending.layout, (pending.layout,))[0],
            "preview": preview,
            "counts": preview.get("counts", {}),
        },
        status=400 if mapping_form.errors else 200,
    )
