from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from safeguarding.audit import audit
from safeguarding.roles import Role, has_role

from . import services
from .access import get_visit_for, visible_visits
from .forms import VisitRequestForm
from .models import Child, Household, Visit, VisitStatus


@login_required
def visit_list(request):
    visits = (
        visible_visits(request.user)
        .select_related("household", "school")
        .prefetch_related("people__user", "children")
        .order_by("-scheduled_start")[:200]
    )
    return render(request, "visits/visit_list.html", {"visits": visits})


@login_required
def visit_detail(request, pk):
    visit = get_visit_for(
        request.user, pk,
        Visit.objects.select_related("household", "school", "requested_by")
        .prefetch_related("people__user", "children", "transitions__actor"),
    )
    audit(actor=request.user, action="visit.view", obj=visit, summary=f"Viewed {visit}")
    return render(request, "visits/visit_detail.html", {"visit": visit})


@login_required
def visit_new(request):
    initial = {}
    profile = getattr(request.user, "profile", None)
    if profile:
        vehicle = " ".join(p for p in [profile.vehicle_description, profile.vehicle_registration] if p)
        initial = {"lead_mobile": profile.mobile, "vehicle": vehicle}
    form = VisitRequestForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            visit = services.visit_create(
                requested_by=request.user, school=data["school"], household=data["household"],
                children=list(data["children"]), people=data["people"], purpose=data["purpose"],
                reason=data["reason"], outcome_wanted=data["outcome_wanted"],
                scheduled_start=data["scheduled_start"],
                expected_duration_minutes=data["expected_duration_minutes"],
                expected_return=data["expected_return"], announced=data["announced"],
                unannounced_reason=data["unannounced_reason"],
                invite_to_school_instead=data["invite_to_school_instead"],
                vehicle=data["vehicle"], lead_mobile=str(data["lead_mobile"]),
            )
            if form.submitting:
                services.visit_transition(visit=visit, to_status=VisitStatus.REQUESTED, actor=request.user)
        except ValidationError as error:
            # A rule checked in the service: show it on the form, keep what was typed, save nothing.
            _add_service_errors(form, error)
        else:
            messages.success(
                request, "Request sent for authorisation." if form.submitting else "Draft saved."
            )
            return redirect(visit)
    return render(request, "visits/visit_form.html", {"form": form})


def _add_service_errors(form, error: ValidationError):
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


@login_required
def board(request):
    return render(request, "placeholder.html", {
        "title": "Check-in / check-out board",
        "coming": "The live office board of who is out, where, and when they are due back arrives with the "
                  "board and overdue-timers capability.",
    })


def _may_see_family_records(user) -> bool:
    # Staff need a family's contact details to plan a visit; the office works from the board instead.
    return user.is_superuser or has_role(user, Role.STAFF, Role.DSL, Role.PRINCIPAL)


@login_required
def household_detail(request, pk):
    if not _may_see_family_records(request.user):
        raise Http404("No such household.")
    household = get_object_or_404(
        Household.objects.for_user(request.user).prefetch_related("carers", "children"), pk=pk
    )
    visits = visible_visits(request.user, household.visits.all()).order_by("-scheduled_start")[:50]
    return render(request, "visits/household_detail.html", {"household": household, "visits": visits})


@login_required
def child_detail(request, pk):
    if not _may_see_family_records(request.user):
        raise Http404("No such child.")
    child = get_object_or_404(
        Child.objects.for_user(request.user).select_related("household", "school", "key_worker"), pk=pk
    )
    visits = visible_visits(request.user, child.visits.all()).select_related("household").order_by("-scheduled_start")
    return render(request, "visits/child_detail.html", {"child": child, "visits": visits[:50]})


# --- After the visit: the Home Visit Form, review, parent letters, actions and chronology (issue 6) ----------

import datetime  # noqa: E402

from django.core.exceptions import PermissionDenied  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.views.decorators.http import require_POST  # noqa: E402

from safeguarding.roles import is_senior  # noqa: E402
from safeguarding.selectors import visible_concerns  # noqa: E402

from . import pdf, selectors  # noqa: E402
from .forms import (  # noqa: E402
    ActionCompleteForm,
    ActionFormSet,
    DebriefForm,
    PresentFormSet,
    ReportForm,
    ReviewForm,
)
from .models import FollowUpAction, VisitReport, VisitRole  # noqa: E402

REPORT_VISIT_QS = Visit.objects.select_related("school", "household").prefetch_related("people__user", "children")


def _lead_of(visit):
    return next((p.user for p in visit.people.all() if p.role == VisitRole.LEAD), None)


def _report_of(visit):
    return (
        VisitReport.objects.select_related("submitted_by", "debrief_with", "reviewed_by")
        .prefetch_related("present").filter(visit=visit).first()
    )


def _may_write_report(user, visit, report) -> bool:
    return visit.status == VisitStatus.RETURNED and user == _lead_of(visit) and not (report and report.is_submitted)


def _draft_initial(visit, report):
    """What the form starts with: the saved draft if there is one, else the check-in times."""
    draft = report.draft if report else {}
    if not draft:
        arrived, departed = services.checkin_times(visit)
        local = {k: timezone.localtime(v).strftime("%Y-%m-%dT%H:%M") for k, v in
                 [("arrived_at", arrived), ("departed_at", departed)] if v}
        return local, [], []
    main = {k: v[0] for k, v in draft.items() if v and "-" not in k}

    def rows(prefix, names):
        found = {}
        for key, values in draft.items():
            parts = key.split("-")
            if len(parts) == 3 and parts[0] == prefix and parts[1].isdigit() and parts[2] in names and values:
                found.setdefault(int(parts[1]), {})[parts[2]] = values[0]
        # Drop rows left blank; a ticked box alone is not a row.
        return [found[i] for i in sorted(found) if any(v for k, v in found[i].items() if k not in names[-1:])]

    present = rows("present", ["name", "relationship", "parental_responsibility"])
    for row in present:
        row["parental_responsibility"] = row.get("parental_responsibility") == "on"
    actions = rows("action", ["description", "owner", "due_on", "agreed_with_family"])
    for row in actions:
        row["agreed_with_family"] = row.get("agreed_with_family") == "on"
    return main, present, actions


@login_required
def report(request, pk):
    visit = get_visit_for(request.user, pk, REPORT_VISIT_QS)
    report = _report_of(visit)
    if not _may_write_report(request.user, visit, report):
        if request.method == "POST":
            raise PermissionDenied("Only the lead writes the Home Visit Form, once the visitors are back.")
        return _report_detail(request, visit, report)
    if request.method == "POST":
        form = ReportForm(request.POST)
        present = PresentFormSet(request.POST, prefix="present")
        actions = ActionFormSet(request.POST, prefix="action", form_kwargs={"school": visit.school})
        if request.POST.get("action") != "draft" and form.is_valid() and present.is_valid() and actions.is_valid():
            try:
                services.report_submit(
                    visit=visit, actor=request.user, fields=form.cleaned_data,
                    present=[f.cleaned_data for f in present if f.cleaned_data],
                    actions=[f.cleaned_data for f in actions if f.cleaned_data],
                )
            except ValidationError as error:
                _add_service_errors(form, error)
            else:
                messages.success(request, "Home Visit Form submitted. The DSL will review it.")
                return redirect(visit)
        # Keep what was typed even when something is wrong, so nothing is lost.
        services.report_save_draft(visit=visit, actor=request.user, data=dict(request.POST.lists()))
        if request.POST.get("action") == "draft":
            messages.success(request, "Draft saved.")
            return redirect("visits:report", pk=visit.pk)
    else:
        main, present_rows, action_rows = _draft_initial(visit, report)
        form = ReportForm(initial=main)
        present = PresentFormSet(prefix="present", initial=present_rows)
        actions = ActionFormSet(prefix="action", initial=action_rows, form_kwargs={"school": visit.school})
    due = report.due_at if report else services.report_due_at(visit)
    return render(request, "visits/report_form.html", {
        "visit": visit, "report": report, "form": form, "present": present, "actions": actions, "due_at": due,
        "late": timezone.now() > due,
    })


def _report_detail(request, visit, report, status=200, **forms_):
    if report and report.is_submitted and request.method == "GET":
        audit(actor=request.user, action="report.view", obj=report, school=visit.school, summary=f"Viewed {report}")
    senior = is_senior(request.user)
    lead = _lead_of(visit)
    context = {
        "visit": visit, "report": report, "lead": lead, "now": timezone.now(),
        "actions": visit.actions.filter(concern__isnull=True).select_related("owner", "completed_by"),
        "may_review": senior and visit.status == VisitStatus.REPORTED,
        "may_debrief": bool(report and report.is_submitted and (senior or request.user == lead)),
        "may_write": visit.status == VisitStatus.RETURNED and request.user == lead,
        "review_form": ReviewForm(),
        "debrief_form": DebriefForm(school=visit.school, exclude_user=lead),
    }
    context.update(forms_)
    return render(request, "visits/report_detail.html", context, status=status)


@login_required
@require_POST
def report_autosave(request, pk):
    visit = get_visit_for(request.user, pk, REPORT_VISIT_QS)
    if not _may_write_report(request.user, visit, _report_of(visit)):
        raise PermissionDenied("Only the lead writes the Home Visit Form, once the visitors are back.")
    try:
        saved = services.report_save_draft(visit=visit, actor=request.user, data=dict(request.POST.lists()))
    except ValidationError as error:  # e.g. submitted in another tab meanwhile
        return HttpResponse(" ".join(error.messages), status=409)
    return HttpResponse(f"Draft saved at {timezone.localtime(saved.draft_saved_at):%H:%M:%S}")


@login_required
@require_POST
def report_debrief(request, pk):
    visit = get_visit_for(request.user, pk, REPORT_VISIT_QS)
    report = _report_of(visit)
    lead = _lead_of(visit)
    if not (report and report.is_submitted and (is_senior(request.user) or request.user == lead)):
        raise PermissionDenied("The lead or a DSL records the debrief, once the form is submitted.")
    form = DebriefForm(request.POST, school=visit.school, exclude_user=lead)
    if form.is_valid():
        try:
            services.report_record_debrief(report=report, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, "Debrief recorded.")
            return redirect("visits:report", pk=visit.pk)
    return _report_detail(request, visit, report, status=400, debrief_form=form)


@login_required
@require_POST
def report_review(request, pk):
    visit = get_visit_for(request.user, pk, REPORT_VISIT_QS)
    report = _report_of(visit)
    if not (is_senior(request.user) and report and visit.status == VisitStatus.REPORTED):
        raise PermissionDenied("A DSL or the Principal signs off a submitted Home Visit Form.")
    form = ReviewForm(request.POST)
    if form.is_valid():
        services.report_review(report=report, actor=request.user, comment=form.cleaned_data["review_comment"])
        messages.success(request, "Signed off. The visit is closed.")
        return redirect(visit)
    return _report_detail(request, visit, report, status=400, review_form=form)


def _pdf_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def parent_copy_pdf(request, pk):
    visit = get_visit_for(request.user, pk)
    report = VisitReport.objects.filter(visit=visit, submitted_at__isnull=False).first()
    if report is None:
        raise Http404("The Home Visit Form has not been submitted yet.")
    audit(actor=request.user, action="visit.parent_copy", obj=visit, summary="Downloaded the parent copy")
    return _pdf_response(pdf.parent_copy_pdf(visit), f"home-visit-{visit.pk}-parent-copy.pdf")


@login_required
def missed_you_pdf(request, pk):
    visit = get_visit_for(request.user, pk)
    audit(actor=request.user, action="visit.missed_you", obj=visit, summary="Downloaded the missed-you letter")
    return _pdf_response(pdf.missed_you_pdf(visit), f"home-visit-{visit.pk}-sorry-we-missed-you.pdf")


@login_required
@require_POST
def email_letter(request, pk, document):
    visit = get_visit_for(request.user, pk, REPORT_VISIT_QS)
    if not (is_senior(request.user) or request.user == _lead_of(visit)):
        raise PermissionDenied("The lead or a DSL sends letters to the family.")
    if document == "parent-copy" and not VisitReport.objects.filter(visit=visit, submitted_at__isnull=False).exists():
        raise Http404("The Home Visit Form has not been submitted yet.")
    try:
        sent_to = services.parent_letter_email(visit=visit, actor=request.user, document=document)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Sent to {', '.join(sent_to)}.")
    return redirect(visit)


ACTION_QS = FollowUpAction.objects.select_related("owner", "visit__household", "child", "completed_by", "concern")


@login_required
def my_actions(request):
    actions = ACTION_QS.for_user(request.user).filter(owner=request.user)
    today = timezone.localdate()
    recent = timezone.now() - datetime.timedelta(days=30)
    return render(request, "visits/actions.html", {
        "title": "My actions", "today": today, "show_owner": False,
        "reports_due": selectors.reports_due(request.user, timezone.now(), mine_only=True),
        "open_actions": actions.open(),
        "done_actions": actions.filter(completed_at__gte=recent).order_by("-completed_at")[:50],
        "senior": is_senior(request.user),
    })


@login_required
def school_actions(request):
    if not is_senior(request.user):
        raise PermissionDenied("Only a DSL or the Principal sees the school's actions.")
    actions = ACTION_QS.for_user(request.user)
    today = timezone.localdate()
    recent = timezone.now() - datetime.timedelta(days=30)
    return render(request, "visits/actions.html", {
        "title": "School actions", "today": today, "show_owner": True,
        "open_actions": actions.open(),
        "done_actions": actions.filter(completed_at__gte=recent).order_by("-completed_at")[:50],
        "senior": True,
    })


@login_required
@require_POST
def action_complete(request, pk):
    action = get_object_or_404(FollowUpAction.objects.for_user(request.user), pk=pk)
    if not (action.owner_id == request.user.pk or is_senior(request.user)):
        raise Http404("No such action.")
    form = ActionCompleteForm(request.POST)
    if form.is_valid():
        try:
            services.action_complete(action=action, actor=request.user, outcome=form.cleaned_data["completion_outcome"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Completed: {action.description}")
    else:
        messages.error(request, "Say what was done before marking the action complete.")
    return redirect(request.POST.get("next") if request.POST.get("next", "").startswith("/") else "visits:my_actions")


@login_required
def child_chronology(request, pk):
    if not _may_see_family_records(request.user):
        raise Http404("No such child.")
    child = get_object_or_404(Child.objects.for_user(request.user).select_related("household", "school"), pk=pk)
    visits = list(
        visible_visits(request.user, child.visits.all()).select_related("household", "report")
        .prefetch_related("people__user")
    )
    entries = []
    for visit in visits:
        entries.append({"at": visit.scheduled_start, "kind": "Visit", "visit": visit})
        report = getattr(visit, "report", None)
        if report and report.submitted_at:
            entries.append({"at": report.submitted_at, "kind": "Home Visit Form", "visit": visit, "report": report})
    actions = ACTION_QS.filter(child=child, concern__isnull=True, visit__in=[v.pk for v in visits])
    for action in actions:
        entries.append({"at": action.created_at, "kind": "Action", "action": action})
    concerns = list(visible_concerns(request.user).filter(child=child).select_related("raised_by"))
    for concern in concerns:
        entries.append({"at": concern.raised_at, "kind": "Concern", "concern": concern})
    if concerns:
        audit(actor=request.user, action="concern.view", obj=child, school=child.school,
              summary=f"Viewed {len(concerns)} concern(s) in the chronology of {child}")
    entries.sort(key=lambda e: e["at"])
    return render(request, "visits/chronology.html", {"child": child, "entries": entries})
