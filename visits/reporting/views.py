"""The DSL's and the Principal's dashboard: everything they must act on, in a bounded number of queries."""

from django.shortcuts import render
from django.utils import timezone

from core.decorators import senior_required
from core.models import School
from core.scoping import school_ids_for
from safeguarding.selectors import risk_assessments_due, training_expiring, training_warning_days, visible_concerns

from .. import selectors as visit_selectors
from ..access import visible_visits
from ..after import selectors as after_selectors
from ..requests import policy

PANEL_ROWS = 8  # rows shown per dashboard panel; the panel's link opens the full list


def _panel(queryset, rows=PANEL_ROWS) -> dict:
    """The first rows of a list and how many there are in all: two queries whatever the list's size."""
    items = list(queryset[:rows])
    total = queryset.count()
    return {"items": items, "total": total, "more": total - len(items)}


@senior_required
def dashboard(request):
    """Everything a DSL or the Principal must act on, across their schools, in a bounded number of queries."""
    user, now = request.user, timezone.now()
    today = timezone.localdate(now)
    schools = list(School.objects.filter(pk__in=school_ids_for(user)).select_related("trust"))
    warning_days = training_warning_days(schools)

    pending = _panel(
        visible_visits(user, policy.pending_for(user)).select_related("household", "school", "requested_by")
    )
    for visit in pending["items"]:
        visit.age_text = policy.age_words(policy.age(visit, now))
    due = after_selectors.reports_due(user, now)
    late = [row for row in due if row.late]
    return render(
        request,
        "visits/dashboard.html",
        {
            "today": today,
            "now": now,
            "pending": pending,
            "today_visits": _panel(visit_selectors.todays_visits(user, today), rows=20),
            "out_now": _panel(visit_selectors.out_now(user), rows=20),
            "alerts": visit_selectors.open_alerts_for(user),
            "reports_late": {"items": late[:PANEL_ROWS], "total": len(late), "more": max(len(late) - PANEL_ROWS, 0)},
            "reports_due_count": len(due),
            "awaiting_review": _panel(after_selectors.reports_awaiting_review(user)),
            "actions_overdue": _panel(after_selectors.overdue_actions(user, today)),
            "concerns": _panel(
                visible_concerns(user)
                .filter(closed_at__isnull=True)
                .select_related("child", "school")
                .order_by("raised_at", "pk")
            ),
            "risk_due": _panel(risk_assessments_due(user, today)),
            "training": _panel(training_expiring(user, today, warning_days=warning_days)),
            "warning_days": warning_days,
        },
    )
