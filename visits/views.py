import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.audit import audit
from core.forms import add_service_errors
from core.permissions import may_see_family_records
from core.roles import Role, has_role, is_senior
from families.models import Child
from families.views import ChildDetail, HouseholdDetail
from safeguarding.selectors import visible_concerns

from . import pdf, selectors, services
from .access import get_visit_for, visible_visits
from .forms import ActionCompleteForm, ActionFormSet, DebriefForm, PresentFormSet, ReportForm, ReviewForm
from .models import FollowUpAction, Visit, VisitReport, VisitRole, VisitStatus


class HouseholdPage(HouseholdDetail):
    """The household's page, with the visits there that this user may see."""

    def get_context_data(self, **kwargs):
        visits = visible_visits(self.request.user, self.object.visits.all()).order_by("-scheduled_start")[:50]
        return super().get_context_data(visits=visits, **kwargs)


class ChildPage(ChildDetail):
    """The child's page, with the visits to them that this user may see."""

    def get_context_data(self, **kwargs):
        visits = visible_visits(self.request.user, self.object.visits.all()).select_related("household")
        return super().get_context_data(visits=visits.order_by("-scheduled_start")[:50], **kwargs)


# --- After the visit: the Home Visit Form, review, parent letters, actions and chronology (issue 6) ----------


REPORT_VISIT_QS = Visit.objects.select_related("school", "household").prefetch_related("people__user", "children")


def _lead_of(visit):
    return next((p.user for p in visit.people.all() if p.role == VisitRole.LEAD), None)


def _report_of(visit):
    return (
        VisitReport.objects.select_related("submitted_by", "debrief_with", "reviewed_by")
        .prefetch_related("present")
        .filter(visit=visit)
        .first()
    )


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
                    visit=visit,
                    actor=request.user,
                    fields=form.cleaned_data,
                    present=[f.cleaned_data for f in present if f.cleaned_data],
                    actions=[f.cleaned_data for f in actions if f.cleaned_data],
                )
            except ValidationError as error:
                add_service_errors(form, error)
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
        },
    )


def _report_detail(request, visit, report, status=200, **forms_):
    if report and report.is_submitted and request.method == "GET":
        audit(actor=request.user, action="report.view", obj=report, school=visit.school, summary=f"Viewed {report}")
    senior = is_senior(request.user)
    lead = _lead_of(visit)
    context = {
        "visit": visit,
        "report": report,
        "lead": lead,
        "now": timezone.now(),
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
            add_service_errors(form, error)
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
    return render(
        request,
        "visits/actions.html",
        {
            "title": "My actions",
            "today": today,
            "show_owner": False,
            "reports_due": selectors.reports_due(request.user, timezone.now(), mine_only=True),
            "open_actions": actions.open(),
            "done_actions": actions.filter(completed_at__gte=recent).order_by("-completed_at")[:50],
            "senior": is_senior(request.user),
        },
    )


@login_required
def school_actions(request):
    if not is_senior(request.user):
        raise PermissionDenied("Only a DSL or the Principal sees the school's actions.")
    actions = ACTION_QS.for_user(request.user)
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
    if not may_see_family_records(request.user):
        raise Http404("No such child.")
    child = get_object_or_404(Child.objects.for_user(request.user).select_related("household", "school"), pk=pk)
    visits = list(
        visible_visits(request.user, child.visits.all())
        .select_related("household", "report")
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
        audit(
            actor=request.user,
            action="concern.view",
            obj=child,
            school=child.school,
            summary=f"Viewed {len(concerns)} concern(s) in the chronology of {child}",
        )
    entries.sort(key=lambda e: e["at"])
    return render(request, "visits/chronology.html", {"child": child, "entries": entries})


# --- The filtered visit list and its CSV export (issue 7) ------------------------------------------------------

SEARCH_PAGE_SIZE = 50

# What an export may hold: the list's columns, never free text (reasons, notes, concerns), because a
# spreadsheet leaves the system's need-to-know checks behind.
CSV_COLUMNS = [
    "Visit",
    "Date",
    "Start",
    "School",
    "Household",
    "Children",
    "Year groups",
    "Purpose",
    "Status",
    "Outcome",
    "Lead",
    "Other visitors",
    "Announced",
    "Form submitted",
    "Form on time",
]


def _search_queryset(user):
    return (
        visible_visits(user)
        .select_related("household", "school", "report")
        .prefetch_related("people__user", "children")
        .order_by("-scheduled_start", "-pk")
    )


def _csv_cell(value) -> str:
    """Neutralise spreadsheet formulas: a cell starting with = + - @ would run when the file is opened."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_row(visit) -> list[str]:
    report = getattr(visit, "report", None)
    submitted = report.submitted_at if report and report.submitted_at else None
    people = list(visit.people.all())
    start = timezone.localtime(visit.scheduled_start)
    return [
        _csv_cell(v)
        for v in [
            visit.pk,
            f"{start:%Y-%m-%d}",
            f"{start:%H:%M}",
            visit.school.name,
            visit.household.name,
            "; ".join(str(c) for c in visit.children.all()),
            "; ".join(sorted({c.get_year_group_display() for c in visit.children.all()})),
            visit.get_purpose_display(),
            visit.get_status_display(),
            report.get_outcome_display() if submitted else "",
            "; ".join(p.name for p in people if p.role == VisitRole.LEAD),
            "; ".join(p.name for p in people if p.role != VisitRole.LEAD),
            "yes" if visit.announced else "no",
            f"{timezone.localtime(submitted):%Y-%m-%d %H:%M}" if submitted else "",
            ("yes" if submitted <= report.due_at else "no") if submitted else "",
        ]
    ]


class _Echo:
    def write(self, value):
        return value


@login_required
def visit_search(request):
    """Visits the user may see, filtered; `?format=csv` exports exactly the filtered rows (every page)."""
    from django.core.paginator import Paginator

    from .filters import VisitFilter

    visit_filter = VisitFilter(request.GET or None, queryset=_search_queryset(request.user), user=request.user)
    visits = visit_filter.qs
    if request.GET.get("format") == "csv" and visit_filter.is_valid():
        import csv

        from django.http import StreamingHttpResponse

        writer = csv.writer(_Echo())
        applied = {k: v for k, v in visit_filter.form.cleaned_data.items() if v not in (None, "")}
        audit(
            actor=request.user,
            action="visit.export",
            obj=request.user,
            school=None,
            summary=f"Exported the visit list as CSV ({visits.count()} visits)",
            filters={k: str(v) for k, v in applied.items()},
        )

        def rows():
            yield writer.writerow(CSV_COLUMNS)
            for visit in visits.iterator(chunk_size=500):
                yield writer.writerow(_csv_row(visit))

        stamp = timezone.localtime().strftime("%Y-%m-%d-%H%M")
        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="visits-{stamp}.csv"'
        return response
    page = Paginator(visits, SEARCH_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return render(
        request,
        "visits/visit_search.html",
        {
            "filter": visit_filter,
            "page": page,
            "query": query.urlencode(),
        },
    )


# --- Governors' and trust figures (issue 7) -------------------------------------------------------------------


def _figure_schools(user):
    """Trust admins see every school of their trusts; DSLs and the Principal their own schools; nobody else."""
    from core.models import School
    from core.scoping import school_ids_for

    if user.is_superuser:
        return list(School.objects.order_by("name"))
    if has_role(user, Role.TRUST_ADMIN):
        trusts = School.objects.filter(pk__in=school_ids_for(user)).values("trust_id")
        return list(School.objects.filter(trust_id__in=trusts).order_by("name"))
    if is_senior(user):
        return list(School.objects.filter(pk__in=school_ids_for(user)).order_by("name"))
    raise PermissionDenied("The figures are for the DSLs, the Principal and the trust.")


def _figures_context(request):
    from . import charts, figures

    schools = _figure_schools(request.user)
    today = timezone.localdate()
    terms = figures.recent_terms(today)
    slug = request.GET.get("term")
    term = figures.Term.from_slug(slug) if slug else terms[0]
    term_error = "" if term else "Choose a term from the list."
    term = term or terms[0]
    if term not in terms:
        terms.append(term)
    results = figures.term_figures(schools, term)
    share_rows = [
        ("Home Visit Forms written within the policy's time", "reports_on_time"),
        ("Visits authorised before they began", "authorised_before"),
        ("Actions completed by their due date", "actions_on_time"),
    ]
    shares = [
        {
            "title": title,
            "cells": [(fig.school.name, getattr(fig, key)) for fig in results],
            "chart": charts.bar_chart(
                [(fig.school.name, getattr(fig, key).percent) for fig in results],
                title=f"{title}, {term.label}",
                unit="%",
                max_value=100,
            ),
        }
        for title, key in share_rows
    ]
    return {
        "term": term,
        "terms": terms,
        "term_error": term_error,
        "figures": results,
        "purpose_rows": figures.purpose_table(results, "by_purpose"),
        "outcome_rows": figures.purpose_table(results, "by_outcome"),
        "per_school": [
            {
                "fig": fig,
                "purpose_chart": charts.bar_chart(
                    list(fig.by_purpose.items()), title=f"Visits by purpose at {fig.school.name}, {term.label}"
                ),
                "outcome_chart": charts.bar_chart(
                    list(fig.by_outcome.items()), title=f"Visits by outcome at {fig.school.name}, {term.label}"
                ),
            }
            for fig in results
        ],
        "shares": shares,
        "decision_chart": charts.bar_chart(
            [(fig.school.name, fig.median_decision_hours) for fig in results],
            title=f"Median hours from request to decision, {term.label}",
            unit=" h",
        ),
        "declined_chart": charts.bar_chart(
            [(fig.school.name, fig.families_declined) for fig in results],
            title=f"Families who declined a visit, {term.label}",
        ),
        "generated": timezone.localtime(),
    }


@login_required
def figures_page(request):
    return render(request, "visits/figures.html", _figures_context(request))


@login_required
def figures_print(request):
    return render(request, "visits/figures_print.html", _figures_context(request))
