from django.contrib import admin
from django.db.models import Q

from core import admin as core_admin
from core.admin import PersonalDataAdmin, RecordAdmin
from core.models import School, StaffProfile
from core.scoping import school_ids_for

from .models import ProhibitedAddress, ProhibitedAddressImport, TrainingRecord

# Not here: risk assessments (and their rows), address judgements and concerns are casework, kept on their own
# pages for the staff in their need-to-know circle.


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
class ProhibitedAddressAdmin(PersonalDataAdmin):
    """Read-only here: DSLs keep the list on its own pages (add, expire, import), every change audited."""

    view_action = "prohibited.view"

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


@admin.register(ProhibitedAddressImport)
class ProhibitedAddressImportAdmin(PersonalDataAdmin, RecordAdmin):
    view_action = "prohibited_import.view"
    list_display = ["filename", "school", "uploaded_by", "uploaded_at", "status"]
    list_filter = ["status"]


@admin.register(TrainingRecord)
class TrainingRecordAdmin(PersonalDataAdmin, RecordAdmin):
    view_action = "training.view"
    school_path = "profile__user__memberships__school"
    list_display = ["profile", "course", "completed_on", "expires_on", "recorded_by"]
    list_select_related = ["profile__user", "recorded_by"]
    list_filter = ["course"]
