"""Concerns and incidents: the restricted records the DSLs and the Principal work from, joined to the visits
they came from and the actions that follow them."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from core.audit import audit
from core.decorators import senior_required
from core.forms import add_service_errors, control_character_problem, is_multiline
from core.permissions import FIELD_ROLES, may_raise_concerns
from core.redirects import redirect_to_next
from core.roles import SENIOR, is_senior, schools_where
from core.selectors import staff_users
from core.signin.decorators import recent_sign_in_required
from families.models import Child
from safeguarding import services as safeguarding_services
from safeguarding.forms import ConcernCloseForm, ConcernForm
from safeguarding.selectors import visible_concerns

from ..access import get_visit_for
from ..models import FollowUpAction, VisitReport, VisitRole, VisitStatus
from ..permissions import may_debrief, may_send_letters, may_sign_off
from . import pdf, selectors, services
from .forms import (
    ActionCompleteForm,
    ActionForm,
    ActionFormSet,
    DebriefForm,
    IncidentForm,
    PresentFormSet,
    ReportForm,
    ReviewForm,
)
from .selectors import visible_incidents
from .services import action_create


@senior_required
def concern_list(request):
    concerns = visible_concerns(user=request.user).select_related("child", "raised_by", "school")
    incidents = visible_incidents(user=request.user).select_related("visit__household", "recorded_by", "school")
    audit(
        actor=request.user, action="concern.list", obj=request.user, summary="Viewed the list of concerns", school=None
    )
    return render(
        request,
        "visits/concern_list.html",
        {
            "open_concerns": concerns.filter(closed_at__isnull=True),
            "closed_concerns": concerns.filter(closed_at__isnull=False)[:50],
            "incidents": incidents[:100],
        },
    )


@login_required
def concern_new(request):
    """Raise a concern: from a visit (?visit=) or on its own (?child=). From the Home Visit Form (?about=entry),
    about how staff went in: it starts from what the lead's form recorded, and the form can then be submitted."""
    if not may_raise_concerns(request.user):
        raise PermissionDenied("Staff, DSLs and the Principal raise concerns.")
    visit = None
    children = Child.objects.filter(school_id__in=schools_where(request.user, *FIELD_ROLES))
    if request.GET.get("visit"):
        visit = get_visit_for(request.user, request.GET["visit"])
        children = visit.children.all()
    about_entry = visit is not None and request.GET.get("about") == "entry"
    initial = {"child": request.GET.get("child")} if request.GET.get("child") else {}
    if len(children) == 1:
        initial["child"] = children[0].pk
    if visit and request.GET.get("doorstep"):
        # Opened from the field page's "child alone or in danger": what was already done is known.
        initial["action_taken"] = services.doorstep_action_taken(visit=visit)
    if about_entry and request.user == _lead_of(visit):
        initial["details"] = services.entry_concern_details(visit=visit, report=selectors.report_of(visit=visit))
    form = ConcernForm(request.POST or None, children=children, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if visit is None:
                safeguarding_services.concern_raise(raised_by=request.user, **form.cleaned_data)
            else:
                services.visit_concern_raise(
                    visit=visit, raised_by=request.user, about_entry=about_entry, **form.cleaned_data
                )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                "Your concern has gone to the Designated Safeguarding Leads. "
                "If a child is in immediate danger, also speak to a DSL now.",
            )
            if about_entry and _may_write_report(request.user, visit, selectors.report_of(visit=visit)):
                messages.info(request, "Your Home Visit Form is as you left it: it can now be submitted.")
                return redirect("visits:report", pk=visit.pk)
            return redirect(visit.get_absolute_url() if visit else "home")
    return render(request, "visits/concern_form.html", {"form": form, "visit": visit, "about_entry": about_entry})


def _concern_for(user, pk):
    concern = get_object_or_404(
        visible_concerns(user=user).select_related(
            "child", "school", "raised_by", "closed_by", "raised_on__visit__household"
        ),
        pk=pk,
    )
    link = getattr(concern, "raised_on", None)  # the visit it was raised from, if any
    concern.from_visit = link.visit if link else None
    return concern


@senior_required
@recent_sign_in_required
def concern_detail(request, pk):
    concern = _concern_for(request.user, pk)
    safeguarding_services.concern_viewed(concern=concern, actor=request.user)
    return render(
        request,
        "visits/concern_detail.html",
        {
            "concern": concern,
            "actions": concern.actions.select_related("owner", "completed_by"),
            "close_form": ConcernCloseForm(),
            "action_form": ActionForm(school=concern.school, prefix="action", required=True),
        },
    )


@senior_required
@require_POST
def concern_close(request, pk):
    concern = _concern_for(request.user, pk)
    form = ConcernCloseForm(request.POST)
    if form.is_valid():
        try:
            safeguarding_services.concern_close(
                concern=concern, actor=request.user, outcome=form.cleaned_data["outcome"]
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Concern closed.")
            return redirect(concern)
    else:
        messages.error(request, "Record the outcome before closing the concern.")
    return redirect(concern)


@senior_required
@require_POST
def concern_action_add(request, pk):
    concern = _concern_for(request.user, pk)
    form = ActionForm(request.POST, school=concern.school, prefix="action", required=True)
    if form.is_valid():
        try:
            action_create(
                school=concern.school,
                concern=concern,
                child=concern.child,
                created_by=request.user,
                **form.cleaned_data,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Action added.")
            return redirect(concern)
    safeguarding_services.concern_viewed(concern=concern, actor=request.user)
    return render(
        request,
        "visits/concern_detail.html",
        {
            "concern": concern,
            "actions": concern.actions.select_related("owner", "completed_by"),
            "close_form": ConcernCloseForm(),
            "action_form": form,
        },
        status=400,
    )


@login_required
def incident_new(request):
    if not may_raise_concerns(request.user):
        raise PermissionDenied("Staff, DSLs and the Principal record incidents.")
    visit = get_visit_for(request.user, request.GET.get("visit", ""))
    staff = staff_users(school=visit.school)
    form = IncidentForm(request.POST or None, staff=staff)
    if request.method == "POST" and form.is_valid():
        try:
            services.incident_record(visit=visit, recorded_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                "Incident recorded and passed to the "
                + ("Principal." if form.cleaned_data["kind"] == "accusation" else "DSLs and Principal."),
            )
            return redirect(visit)
    return render(request, "visits/incident_form.html", {"form": form, "visit": visit})


@login_required
@recent_sign_in_required
def incident_detail(request, pk):
    incident = get_object_or_404(
        visible_incidents(user=request.user).select_related(
            "visit__household", "recorded_by", "staff_accused", "school"
        ),
        pk=pk,
    )
    audit(actor=request.user, action="incident.view", obj=incident, summary=f"Viewed {incident.audit_name}")
    return render(request, "visits/incident_detail.html", {"incident": incident})


def _lead_of(visit):
    return next((p.user for p in visit.people.all() if p.role == VisitRole.LEAD), None)


def _may_write_report(user, visit, report) -> bool:
    return visit.status == VisitStatus.RETURNED and user == _lead_of(visit) and not (report and report.is_submitted)


def _draft_initial(visit, report):
    """What the form starts with: the saved draft if there is one, else the check-in times."""
    draft = report.draft if report else {}
    if not draft:
        arrived, departed = services.checkin_times(visit)
        local = {
            k: timezone.localtime(v).strftime("%Y-%m-%dT%H:%M")
            for k, v in [("arrived_at", arrived), ("departed_at", departed)]
            if v
        }
        outcome = services.outcome_from_checkins(visit)
        if outcome:
            local["outcome"] = outcome
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


def _report_forms(post, visit):
    return (
        ReportForm(post),
        PresentFormSet(post, prefix="present"),
        ActionFormSet(post, prefix="action", form_kwargs={"school": visit.school}),
    )


def _draft_from_post(post, forms_, previous: dict) -> tuple[dict, dict]:
    """(the draft to keep, {field name: message} for the fields refused). Only the form's own fields are kept;
    a field refused for a control character keeps what the draft had for it, so the rest of what was typed is
    saved and nothing unstorable is."""
    form, present, actions = forms_
    draft, refused = {}, {}
    for bound in [form, *present.forms, *actions.forms]:
        for name, field in bound.fields.items():
            key = bound.add_prefix(name)
            if key not in post:
                continue
            values = post.getlist(key)
            problem = control_character_problem(values, multiline=is_multiline(field))
            if problem:
                refused[key] = problem
                if key in previous:
                    draft[key] = previous[key]
            else:
                draft[key] = values
    return draft, refused


def _only_refusals(forms_, refused: dict) -> None:
    form, present, actions = forms_
    for bound in [form, *present.forms, *actions.forms]:
        for name in list(bound.errors):
            if bound.add_prefix(name) not in refused:
                del bound.errors[name]
    for formset in (present, actions):
        formset.non_form_errors().clear()


def _autosave_slots(forms_, refused: dict):
    """Out-of-band updates for the message slot beside each field: the refusal, or empty again once fixed."""
    form, present, actions = forms_
    keys = [b.add_prefix(n) for b in [form, *present.forms, *actions.forms] for n in b.fields]
    return format_html_join(
        "",
        '<div id="autosave-{}" class="invalid-feedback d-block" hx-swap-oob="true">{}</div>',
        ((key, refused.get(key, "")) for key in keys),
    )


@login_required
def report(request, pk):
    visit = get_visit_for(request.user, pk, selectors.report_visit_queryset())
    report = selectors.report_of(visit=visit)
    if not _may_write_report(request.user, visit, report):
        if request.method == "POST":
            raise PermissionDenied("Only the lead writes the Home Visit Form, once the visitors are back.")
        return _report_detail(request, visit, report)
    entry_refusal = ""
    if request.method == "POST":
        form, present, actions = forms_ = _report_forms(request.POST, visit)
        draft, refused = _draft_from_post(request.POST, forms_, report.draft if report else {})
        if request.POST.get("action") != "draft":
            valid = form.is_valid() & present.is_valid() & actions.is_valid()  # every error in one round
            rows = [f.cleaned_data for f in present if getattr(f, "cleaned_data", None)]
            entry_refusal = services.entry_refusal(
                visit=visit,
                went_in=form.cleaned_data.get("staff_went_in"),
                invited_in_by=form.cleaned_data.get("invited_in_by", ""),
                present=rows,
            )
            if not valid and entry_refusal and "invited_in_by" not in form.errors:
                form.add_error("invited_in_by", entry_refusal)
        if request.POST.get("action") != "draft" and valid:
            try:
                services.report_submit(
                    visit=visit,
                    actor=request.user,
                    fields=form.cleaned_data,
                    present=rows,
                    actions=[f.cleaned_data for f in actions if f.cleaned_data],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Home Visit Form submitted. The DSL will review it.")
                return redirect(visit)
        # Keep what was typed even when something is wrong, so nothing is lost.
        services.report_save_draft(visit=visit, actor=request.user, data=draft)
        if request.POST.get("action") == "draft":
            if not refused:
                messages.success(request, "Draft saved.")
                return redirect("visits:report", pk=visit.pk)
            _only_refusals(forms_, refused)  # a draft need not be complete: show only what could not be kept
            messages.error(request, "The draft is saved, except the field marked below.")
    else:
        main, present_rows, action_rows = _draft_initial(visit, report)
        form = ReportForm(initial=main)
        present = PresentFormSet(prefix="present", initial=present_rows)
        actions = ActionFormSet(prefix="action", initial=action_rows, form_kwargs={"school": visit.school})
    due = report.due_at if report else services.report_due_at(visit)
    return render(
        request,
        "visits/report_form.html",
        {
            "visit": visit,
            "report": report,
            "form": form,
            "present": present,
            "actions": actions,
            "due_at": due,
            "late": timezone.now() > due,
            # Went in where the policy says not to: the form offers to raise a concern for the DSL instead.
            "offer_entry_concern": bool(entry_refusal),
            "entry_concern": visit.concern_links.filter(about_entry=True).select_related("concern").first(),
        },
    )


def _report_detail(request, visit, report, status=200, **forms_):
    if report and report.is_submitted and request.method == "GET":
        audit(actor=request.user, action="report.view", obj=report, school=visit.school, summary=f"Viewed {report}")
    senior = is_senior(request.user, visit.school_id)
    lead = _lead_of(visit)
    # A DSL who may not sign off now is told why, instead of being shown a button that would refuse.
    refusal = (
        services.sign_off_refusal(report=report, actor=request.user)
        if senior and report and visit.status == VisitStatus.REPORTED
        else ""
    )
    context = {
        "visit": visit,
        "report": report,
        "lead": lead,
        "now": timezone.now(),
        "actions": visit.actions.filter(concern__isnull=True).select_related("owner", "completed_by"),
        "may_review": senior and visit.status == VisitStatus.REPORTED and not refusal,
        "sign_off_refusal": refusal,
        "may_debrief": bool(
            report and report.is_submitted and not report.reviewed_at and (senior or request.user == lead)
        ),
        "may_write": visit.status == VisitStatus.RETURNED and request.user == lead,
        "review_form": ReviewForm(),
        "debrief_form": DebriefForm(school=visit.school, exclude_user=lead),
    }
    context.update(forms_)
    return render(request, "visits/report_detail.html", context, status=status)


@login_required
@require_POST
def report_autosave(request, pk):
    visit = get_visit_for(request.user, pk, selectors.report_visit_queryset())
    report = selectors.report_of(visit=visit)
    if not _may_write_report(request.user, visit, report):
        raise PermissionDenied("Only the lead writes the Home Visit Form, once the visitors are back.")
    forms_ = _report_forms(request.POST, visit)
    draft, refused = _draft_from_post(request.POST, forms_, report.draft if report else {})
    try:
        saved = services.report_save_draft(visit=visit, actor=request.user, data=draft)
    except ValidationError as error:  # e.g. submitted in another tab meanwhile
        return HttpResponse(" ".join(error.messages), status=409)
    status = f"Draft saved at {timezone.localtime(saved.draft_saved_at):%H:%M:%S}"
    if refused:
        status += ", except what the message beside a field is about"
    return HttpResponse(format_html("{}{}", status, _autosave_slots(forms_, refused)))


@login_required
@require_POST
def report_debrief(request, pk):
    visit = get_visit_for(request.user, pk, selectors.report_visit_queryset())
    report = selectors.report_of(visit=visit)
    lead = _lead_of(visit)
    if not (report and report.is_submitted and may_debrief(request.user, visit)):
        raise PermissionDenied("The lead or a DSL records the debrief, once the form is submitted.")
    form = DebriefForm(request.POST, school=visit.school, exclude_user=lead)
    if form.is_valid():
        try:
            services.report_record_debrief(report=report, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                add_service_errors(form, error)
            else:  # about the form as a whole (signed off meanwhile): the debrief box is no longer shown
                messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Debrief recorded.")
            return redirect("visits:report", pk=visit.pk)
    return _report_detail(request, visit, report, status=400, debrief_form=form)


@login_required
@require_POST
def report_review(request, pk):
    visit = get_visit_for(request.user, pk, selectors.report_visit_queryset())
    report = selectors.report_of(visit=visit)
    if not (may_sign_off(request.user, visit) and report and visit.status == VisitStatus.REPORTED):
        raise PermissionDenied("A DSL or the Principal signs off a submitted Home Visit Form.")
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.report_review(report=report, actor=request.user, comment=form.cleaned_data["review_comment"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
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
    visit = get_visit_for(request.user, pk, selectors.report_visit_queryset())
    refusal = services.letter_refusal(visit=visit, document="missed-you")
    if refusal:
        raise Http404(refusal)
    audit(actor=request.user, action="visit.missed_you", obj=visit, summary="Downloaded the missed-you letter")
    return _pdf_response(pdf.missed_you_pdf(visit), f"home-visit-{visit.pk}-sorry-we-missed-you.pdf")


@login_required
@require_POST
def email_letter(request, pk, document):
    """The first POST shows who the letter will go to; it is sent only when those addresses are confirmed."""
    visit = get_visit_for(request.user, pk, selectors.report_visit_queryset())
    if not may_send_letters(request.user, visit):
        raise PermissionDenied("The lead or a DSL sends letters to the family.")
    refusal = services.letter_refusal(visit=visit, document=document)
    if refusal:
        raise Http404(refusal)
    recipients = services.letter_recipients(visit=visit)
    if not recipients:
        messages.error(request, "No parent or carer at this household has an email address on file.")
        return redirect(visit)
    if "confirmed_to" not in request.POST:
        return render(
            request,
            "visits/letter_confirm.html",
            {"visit": visit, "document": document, "recipients": recipients},
        )
    try:
        sent_to = services.parent_letter_email(
            visit=visit, actor=request.user, document=document, confirmed_to=request.POST.getlist("confirmed_to")
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Sent to {', '.join(sent_to)}.")
    return redirect(visit)


@login_required
@require_POST
def post_letter(request, pk, document):
    """The first POST shows the address block the envelope's window will show; the letter goes to GOV.UK Notify
    for printing and posting only when that address is confirmed."""
    visit = get_visit_for(request.user, pk, selectors.report_visit_queryset())
    if not may_send_letters(request.user, visit):
        raise PermissionDenied("The lead or a DSL sends letters to the family.")
    refusal = services.letter_refusal(visit=visit, document=document)
    if refusal:
        raise Http404(refusal)
    address = pdf.postal_address(visit)
    refusal = services.letter_post_refusal(visit=visit, document=document, address=address)
    if refusal:
        messages.error(request, refusal)
        return redirect(visit)
    if "confirmed_address" not in request.POST:
        return render(
            request, "visits/letter_post_confirm.html", {"visit": visit, "document": document, "address": address}
        )
    try:
        letter = services.parent_letter_post(
            visit=visit,
            actor=request.user,
            document=document,
            confirmed_address=request.POST.getlist("confirmed_address"),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Sent to GOV.UK Notify to print and post ({letter.postage} class) to {address[0]}.")
    return redirect(visit)


@login_required
def my_actions(request):
    actions = selectors.action_rows().for_user(request.user).filter(owner=request.user)
    today = timezone.localdate()
    recent = timezone.now() - datetime.timedelta(days=30)
    return render(
        request,
        "visits/actions.html",
        {
            "title": "My actions",
            "today": today,
            "show_owner": False,
            "reports_due": selectors.reports_due(user=request.user, now=timezone.now(), mine_only=True),
            "open_actions": actions.open(),
            "done_actions": actions.filter(completed_at__gte=recent).order_by("-completed_at")[:50],
            "senior": is_senior(request.user),
        },
    )


@login_required
def school_actions(request):
    senior_at = schools_where(request.user, *SENIOR)
    if not senior_at:
        raise PermissionDenied("Only a DSL or the Principal sees the school's actions.")
    actions = selectors.action_rows().filter(school_id__in=senior_at)
    today = timezone.localdate()
    recent = timezone.now() - datetime.timedelta(days=30)
    return render(
        request,
        "visits/actions.html",
        {
            "title": "School actions",
            "today": today,
            "show_owner": True,
            "open_actions": actions.open(),
            "done_actions": actions.filter(completed_at__gte=recent).order_by("-completed_at")[:50],
            "senior": True,
        },
    )


@login_required
@require_POST
def action_complete(request, pk):
    action = get_object_or_404(FollowUpAction.objects.for_user(request.user), pk=pk)
    if not (action.owner_id == request.user.pk or is_senior(request.user, action.school_id)):
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
    return redirect_to_next(request, "visits:my_actions")
