"""The visit in the admin, for lifecycle support only: where a visit is in its life and who is on it, read-only.

Casework is not here: no reasons, decisions, timelines, notes, reports, concerns, incidents, parent
notifications, safe words, checklist overrides or alert notes. Visitors, household, children and times are
changed by the visit's requester through the product (visits/requests/services.py), which keeps authorisation
and the alert timer in step; an edit here could do neither.
"""

from django.contrib import admin

from core.admin import PersonalDataAdmin, RecordAdmin

from .models import SweepHeartbeat, Visit, VisitPerson


class VisitPersonInline(admin.TabularInline):
    model = VisitPerson
    extra = 0
    can_delete = False
    fields = ["role", "user", "external_name", "external_organisation"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Visit)
class VisitAdmin(PersonalDataAdmin, RecordAdmin):
    view_action = "visit.view"
    list_display = ["__str__", "status", "school", "scheduled_start", "requested_by"]
    list_select_related = ["household", "school", "requested_by"]
    list_filter = ["school", "status"]
    date_hierarchy = "scheduled_start"
    fields = [
        "school",
        "household",
        "children",
        "status",
        "requested_by",
        "scheduled_start",
        "expected_duration_minutes",
        "expected_return",
        "submitted_at",
        "checked_out_at",
        "arrived_at",
        "due_back_at",
        "extended_minutes",
        "alert_due_at",
        "escalation_level",
        "overdue_round",
        "on_site_alert_raised",
        "reminder_queued",
        "alerting_failed_at",
        "alerting_error",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    inlines = [VisitPersonInline]


@admin.register(SweepHeartbeat)
class SweepHeartbeatAdmin(RecordAdmin):
    """The alert sweep's last run: what /healthz and the board read to say whether alerting is working."""

    list_display = ["name", "last_run_at", "runs"]

    def get_queryset(self, request):
        return admin.ModelAdmin.get_queryset(self, request)  # not a school's record: one row per sweep
