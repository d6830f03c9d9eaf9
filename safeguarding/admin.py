from django.contrib import admin
from django.db.models import Q

from core import admin as core_admin
from core.admin import RecordAdmin
from core.models import School, StaffProfile
from core.scoping import school_ids_for

from .models import (
    AddressJudgement,
    ProhibitedAddress,
    ProhibitedAddressImport,
    RiskAssessment,
    RiskRow,
    TrainingRecord,
)


class TrainingRecordInline(admin.TabularInline):
    model = TrainingRecord
    extra = 0
    fields = ["course", "provider", "completed_on", "expires_on", "recorded_by"]
    readonly_fields = ["course", "provider", "completed_on", "expires_on", "recorded_by"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # added through the training page, which keeps the profile's dates in step


# Training records are kept on the training page; the staff profile's admin page lists them.
admin.site.unregister(StaffProfile)


@admin.register(StaffProfile)
class StaffProfileAdmin(core_admin.StaffProfileAdmin):
    inlines = [TrainingRecordInline]


@admin.register(ProhibitedAddress)
class ProhibitedAddressAdmin(admin.ModelAdmin):
    """Read-only here: DSLs keep the list on its own pages (add, expire, import), every change audited."""

    list_display = ["address", "school", "note", "expires_on", "expired_at"]
    list_filter = ["school"]
    search_fields = ["address_line1", "postcode"]

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("school")
        if request.user.is_superuser:
            return qs
        schools = school_ids_for(request.user)
        trusts = School.objects.filter(pk__in=schools).values("trust")
        return qs.filter(Q(trust__in=trusts, school__isnull=True) | Q(school__in=schools))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RiskRowInline(admin.TabularInline):
    model = RiskRow
    extra = 0
    can_delete = False
    readonly_fields = ["hazard", "people", "severity", "likelihood", "level", "controls"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(RiskAssessment)
class RiskAssessmentAdmin(RecordAdmin):
    """Assessments are written and signed off on their own pages; here they can be looked up."""

    school_path = "household__school"
    list_display = ["household", "assessed_on", "review_on", "stale_since", "signed_off_by"]
    list_filter = ["household__school", "dangerous_animals", "aggressive_adult"]
    inlines = [RiskRowInline]


@admin.register(RiskRow)
class RiskRowAdmin(RecordAdmin):
    school_path = "assessment__household__school"
    list_display = ["assessment", "hazard", "level"]
    list_filter = ["level"]


@admin.register(ProhibitedAddressImport)
class ProhibitedAddressImportAdmin(RecordAdmin):
    list_display = ["filename", "school", "uploaded_by", "uploaded_at", "status"]
    list_filter = ["status"]


@admin.register(AddressJudgement)
class AddressJudgementAdmin(RecordAdmin):
    school_path = "household__school"
    list_display = ["household", "entry", "same_place", "decided_by", "decided_at"]


@admin.register(TrainingRecord)
class TrainingRecordAdmin(RecordAdmin):
    school_path = "profile__user__memberships__school"
    list_display = ["profile", "course", "completed_on", "expires_on", "recorded_by"]
    list_filter = ["course"]
