from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from core.admin import RecordAdmin, SchoolScopedAdmin
from core.scoping import school_ids_for
from families.models import Child

from .access import sync_visit_access
from .alerts.services import visit_times_corrected
from .models import (
    AlertNotification,
    AuthorisationDecision,
    CheckIn,
    ChecklistOverride,
    ParentNotification,
    SweepHeartbeat,
    Visit,
    VisitAlert,
    VisitPerson,
    VisitPreparation,
    VisitRole,
    VisitTransition,
)


class VisitPersonFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        live = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        leads = sum(1 for f in live if f.cleaned_data.get("role") == VisitRole.LEAD)
        if leads != 1:
            raise ValidationError("A visit has exactly one lead.")


class VisitPersonInline(admin.TabularInline):
    model = VisitPerson
    formset = VisitPersonFormSet
    extra = 0
    min_num = 1
    raw_id_fields = ["user"]


@admin.register(VisitPerson)
class VisitPersonAdmin(RecordAdmin):
    """The pair is changed on the visit, which keeps exactly one lead and the grants in step."""

    school_path = "visit__school"
    list_display = ["__str__", "visit", "role"]
    list_filter = ["role", "visit__school"]


@admin.register(VisitTransition)
class VisitTransitionAdmin(RecordAdmin):
    school_path = "visit__school"
    list_display = ["visit", "from_status", "to_status", "actor", "at"]
    list_filter = ["to_status", "visit__school"]


@admin.register(ParentNotification)
class ParentNotificationAdmin(RecordAdmin):
    school_path = "visit__school"
    list_display = ["visit", "__str__"]
    list_filter = ["visit__school"]


class VisitTransitionInline(admin.TabularInline):
    model = VisitTransition
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "actor", "at", "note"]

    def has_add_permission(self, request, obj=None):
        return False


class VisitAdminForm(forms.ModelForm):
    class Meta:
        model = Visit
        fields = "__all__"

    def clean(self):
        data = super().clean()
        school, household = data.get("school"), data.get("household")
        for child in data.get("children") or []:
            if school and child.school_id != school.pk:
                self.add_error("children", f"{child} is not on {school}'s roll.")
            elif household and child.household_id != household.pk:
                self.add_error("children", f"{child} does not live in this household.")
        return data


@admin.register(Visit)
class VisitAdmin(SchoolScopedAdmin):
    """For corrections by admins. The status is read-only here: it moves only through the visit's life."""

    form = VisitAdminForm
    list_display = ["__str__", "status", "school", "scheduled_start", "requested_by"]
    list_filter = ["school", "status", "purpose"]
    date_hierarchy = "scheduled_start"
    # The visit's life is moved by its verbs only (visits/lifecycle.py): here its fields can be read, not set.
    readonly_fields = [
        "status",
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
        "safety_chain",
        "created_at",
        "updated_at",
    ]
    autocomplete_fields = ["household"]
    raw_id_fields = ["requested_by"]
    filter_horizontal = ["children"]
    inlines = [VisitPersonInline, VisitTransitionInline]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "children" and not request.user.is_superuser:
            kwargs["queryset"] = Child.objects.filter(school_id__in=school_ids_for(request.user))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        sync_visit_access(form.instance)
        if change and {"scheduled_start", "expected_return"} & set(form.changed_data):
            # A visit that is out works to a due time derived from these: recompute it, never leave it stale.
            visit_times_corrected(visit=form.instance, actor=request.user)


# --- Staff safety records: evidence of who checked in, which alerts were raised and how they were met --


@admin.register(CheckIn)
class CheckInAdmin(RecordAdmin):
    school_path = "visit__school"
    list_display = ["visit", "kind", "at", "recorded_by", "on_behalf"]
    list_filter = ["kind", "on_behalf", "visit__school"]


@admin.register(VisitAlert)
class VisitAlertAdmin(RecordAdmin):
    school_path = "visit__school"
    list_display = ["visit", "kind", "action", "due_at", "raised_at", "acknowledged_at", "outcome"]
    list_filter = ["kind", "outcome", "visit__school"]


@admin.register(AlertNotification)
class AlertNotificationAdmin(RecordAdmin):
    school_path = "visit__school"
    list_display = ["visit", "key", "channel", "recipient", "created_at", "sent_at", "failed_at", "attempts"]
    list_filter = ["channel"]


@admin.register(SweepHeartbeat)
class SweepHeartbeatAdmin(RecordAdmin):
    """The alert sweep's last run: what /healthz and the board read to say whether alerting is working."""

    list_display = ["name", "last_run_at", "runs"]

    def get_queryset(self, request):
        return admin.ModelAdmin.get_queryset(self, request)  # not a school's record: one row per sweep


@admin.register(AuthorisationDecision)
class AuthorisationDecisionAdmin(RecordAdmin):
    school_path = "visit__school"
    list_display = ["visit", "decision", "decided_by", "decided_as", "decided_at"]
    list_filter = ["decision", "visit__school"]


@admin.register(VisitPreparation)
class VisitPreparationAdmin(RecordAdmin):
    school_path = "visit__school"
    list_display = ["visit", "headteacher_informed_at", "social_worker_informed_at"]


@admin.register(ChecklistOverride)
class ChecklistOverrideAdmin(RecordAdmin):
    school_path = "visit__school"
    list_display = ["visit", "item", "role", "by", "at"]
    list_filter = ["item", "role"]
