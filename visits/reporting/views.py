"""What has happened, read back: the DSL's dashboard, a household's or a child's visits and chronology, the
filtered visit list with its CSV export, and the governors' and trust figures."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Window
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from core.audit import audit, audit_listing
from core.decorators import senior_required
from core.keyset import keyset_page
from core.models import EffectivePolicy, School, review_warning
from core.permissions import may_keep_safeguarding_records, may_see_figures, school_ids_where
from core.roles import SENIOR
from core.signin.decorators import raise_if_sign_in_not_recent
from families.access import get_child_for
from families.models import Child
from families.views import ChildDetail, HouseholdDetail
from safeguarding.selectors import risk_assessments_due, training_expiring, training_warning_days, visible_concerns

from ..access import visible_visits
from ..after import selectors as after_selectors
from ..requests import selectors as requests_selectors
from . import charts, export, figures, selectors
from .filters import VisitFilter

PANEL_ROWS = 8  # rows shown per dashboard panel; the panel's link opens the full list


def _panel(queryset, rows=PANEL_ROWS) -> dict:
    """The first rows of a list and how many there are in all, in one query (a window count rides on each row)
    plus the list's prefetches, whatever the list's size."""
    items = list(queryset.annotate(panel_total=Window(Count("pk")))[:rows])
    total = items[0].panel_total if items else 0
    return {"items": items, "total": total, "more": total - len(items)}


def _list_panel(rows: list, limit=PANEL_ROWS) -> dict:
    return {"items": rows[:limit], "total": len(rows), "more": max(len(rows) - limit, 0)}


@senior_required
def dashboard(request):
    """Everything a DSL or the Principal must act on, across their schools, in a bounded number of queries."""
    user, now = request.user, timezone.now()
    today = timezone.localdate(now)
    schools = list(School.objects.filter(pk__in=school_ids_where(user, *SENIOR)).select_related("trust"))
    policies = EffectivePolicy.for_schools(schools)
    warning_days = training_warning_days(schools=schools)

    # Requests split by who decides them (requests/selectors.decision_queue, as on the approvals list).
    queue = requests_selectors.decision_queue(user=user, now=now)
    pending = {
        "total": len(queue.rows),
        "yours": _list_panel(queue.yours),
        "for_principal": _list_panel(queue.for_principal),
        "for_colleague": _list_panel(queue.for_colleague),
    }
    due = after_selectors.reports_due(user=user, now=now)
    late = [row for row in due if row.late]
    return render(
        request,
        "visits/dashboard.html",
        {
            "today": today,
            "now": now,
            "pending": pending,
            "today_visits": _panel(selectors.todays_visits(user=user, today=today), rows=20),
            "out_now": _panel(selectors.out_now(user=user), rows=20),
            "alerts": selectors.open_alerts_for(user=user),
            "duress": selectors.open_duress_for(user=user),
            "contact_gaps": selectors.contact_gaps_for(schools=schools, policies=policies),
            "policy_reviews": [
                (school, warning)
                for school in schools
                if (warning := review_warning(policies[school.pk].review_date, today=today))
            ],
            "reports_late": _list_panel(late),
            "reports_due_count": len(due),
            "awaiting_review": _panel(after_selectors.reports_awaiting_review(user=user)),
            "actions_overdue": _panel(after_selectors.overdue_actions(user=user, today=today)),
            "concerns": _panel(
                visible_concerns(user=user)
                .filter(closed_at__isnull=True)
                .select_related("child", "school")
                .order_by("raised_at", "pk")
            ),
            "risk_due": _panel(risk_assessments_due(user=user, today=today)),
            "training": _panel(training_expiring(user=user, today=today, warning_days=warning_days)),
            "warning_days": warning_days,
        },
    )


class HouseholdPage(HouseholdDetail):
    """The household's page, with the visits there that this user may see."""

    def get_context_data(self, **kwargs):
        visits = visible_visits(self.request.user, self.object.visits.all()).order_by("-scheduled_start")[:50]
        may_open_file = may_keep_safeguarding_records(self.request.user, self.object.school)
        return super().get_context_data(visits=visits, may_open_file=may_open_file, **kwargs)


class ChildPage(ChildDetail):
    """The child's page, with the visits to them that this user may see."""

    def get_context_data(self, **kwargs):
        visits = visible_visits(self.request.user, self.object.visits.all()).select_related("household")
        may_open_file = may_keep_safeguarding_records(self.request.user, self.object.school)
        return super().get_context_data(
            visits=visits.order_by("-scheduled_start")[:50], may_open_file=may_open_file, **kwargs
        )


@login_required
def child_chronology(request, pk):
    child = get_child_for(request.user, pk, Child.objects.select_related("household", "school"))
    entries = selectors.chronology(user=request.user, child=child)
    audit(
        actor=request.user,
        action="chronology.view",
        obj=child,
        school=child.school,
        summary=f"Viewed the chronology of {child} ({len(entries)} entries)",
    )
    concerns = [e for e in entries if e["kind"] == "Concern"]
    if concerns:
        audit(
            actor=request.user,
            action="concern.view",
            obj=child,
            school=child.school,
            summary=f"Viewed {len(concerns)} concern(s) in the chronology of {child}",
        )
    return render(request, "visits/chronology.html", {"child": child, "entries": entries})


SEARCH_PAGE_SIZE = 50


@login_required
def visit_search(request):
    """Visits the user may see, filtered; `?format=csv` exports exactly the filtered rows (every page)."""

    visit_filter = VisitFilter(
        request.GET or None, queryset=selectors.visit_search_queryset(user=request.user), user=request.user
    )
    visits = visit_filter.qs
    if request.GET.get("format") == "csv" and visit_filter.is_valid():
        raise_if_sign_in_not_recent(request)
        applied = {k: v for k, v in visit_filter.form.cleaned_data.items() if v not in (None, "")}
        audit(
            actor=request.user,
            action="visit.export",
            obj=request.user,
            school=None,
            summary=f"Exported the visit list as CSV ({visits.count()} visits)",
            filters={k: str(v) for k, v in applied.items()},
        )

        stamp = timezone.localtime().strftime("%Y-%m-%d-%H%M")
        response = StreamingHttpResponse(export.csv_lines(visits), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="visits-{stamp}.csv"'
        return response
    page = keyset_page(visits, field="scheduled_start", after=request.GET.get("after"), size=SEARCH_PAGE_SIZE)
    what = "the visit search" if page.first else "older visits in the visit search"
    audit_listing(actor=request.user, action="visit.list", what=what, objects=page.items)
    query = request.GET.copy()
    for paging in ("after", "page", "format"):
        query.pop(paging, None)
    return render(
        request,
        "visits/visit_search.html",
        {
            "filter": visit_filter,
            "page": page,
            "total": visits.count(),
            "query": query.urlencode(),
        },
    )


def _figures_context(request):
    if not may_see_figures(request.user):
        raise PermissionDenied("The figures are for the DSLs, the Principal and the trust.")
    schools = selectors.figure_schools(user=request.user)
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
