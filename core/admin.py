"""Admin bases that keep each admin to their own schools and audit their changes, and the foundation's pages."""

from django.contrib import admin
from django.db.models import Q
from django.utils.html import format_html, format_html_join

from .audit import audit
from .models import (
    AuditEntry,
    BoardScreen,
    EscalationStep,
    HomeVisitPolicy,
    IdentityProvider,
    School,
    StaffProfile,
    Trust,
    TrustSignInPolicy,
)
from .scoping import school_ids_for
from .selectors import contact_gaps


class SchoolScopedAdmin(admin.ModelAdmin):
    """Admin pages for trust and school admins: only rows of their own schools, changes audited."""

    school_path = "school"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(**{f"{self.school_path}__in": school_ids_for(request.user)}).distinct()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not request.user.is_superuser and db_field.related_model is School:
            kwargs["queryset"] = School.objects.filter(pk__in=school_ids_for(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if not request.user.is_superuser and db_field.related_model is School:
            kwargs["queryset"] = School.objects.filter(pk__in=school_ids_for(request.user))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        verb = "changed" if change else "added"
        audit(
            actor=request.user,
            action=f"admin.{verb}",
            obj=obj,
            school=obj if isinstance(obj, School) else None,
            summary=f"{obj._meta.verbose_name} {verb} in admin: {obj}",
            fields=list(form.changed_data),
        )

    def delete_model(self, request, obj):
        audit(actor=request.user, action="admin.deleted", obj=obj, summary=f"{obj._meta.verbose_name} deleted: {obj}")
        super().delete_model(request, obj)


class RecordAdmin(SchoolScopedAdmin):
    """Read-only: records of what happened (decisions, timelines, the audit trail) are evidence."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Trust)
class TrustAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(School)
class SchoolAdmin(SchoolScopedAdmin):
    school_path = "pk"
    list_display = ["name", "trust", "town", "postcode", "phone"]
    list_filter = ["trust"]
    search_fields = ["name", "postcode"]
    prepopulated_fields = {"slug": ["name"]}


class EscalationStepInline(admin.TabularInline):
    model = EscalationStep
    extra = 0


@admin.register(HomeVisitPolicy)
class HomeVisitPolicyAdmin(SchoolScopedAdmin):
    list_display = ["__str__", "max_visit_minutes", "wait_if_late_minutes", "latest_start", "review_date"]
    inlines = [EscalationStepInline]
    fieldsets = [
        (None, {"fields": ["trust", "school"]}),
        (
            "Visits",
            {
                "fields": [
                    "max_visit_minutes",
                    "wait_if_late_minutes",
                    "earliest_start",
                    "latest_start",
                    "unannounced_needs_principal",
                    "authorisers",
                ]
            },
        ),
        (
            "Staff safety",
            {
                "description": "A visit works to these values and the escalation steps as they are when its pair "
                "check out: an edit changes nothing for visits already out.",
                "fields": [
                    "contact_warnings",
                    "earliest_checkout_minutes",
                    "overdue_grace_minutes",
                    "max_extension_minutes",
                    "remind_before_minutes",
                    "repeat_after_minutes",
                ],
            },
        ),
        ("After the visit", {"fields": ["report_due_hours", "review_date"]}),
        (
            "Risk, training and the pre-departure checklist",
            {
                "classes": ["collapse"],
                "fields": [
                    "risk_matrix",
                    "standard_hazards",
                    "risk_review_days",
                    "training_warning_days",
                    "checklist_override_roles",
                ],
            },
        ),
    ]

    readonly_fields = ["contact_warnings"]

    @admin.display(description="Who the escalation steps reach")
    def contact_warnings(self, obj):
        """Warned before it matters: a step whose people at a school have no email, or no mobile for texts."""
        if obj is None or obj.pk is None:
            return "Saved policies list any step that would reach nobody."
        schools = [obj.school] if obj.school_id else list(obj.trust.schools.all())
        gaps = [gap for school in schools for gap in contact_gaps(school=school, policy=school.policy())]
        if not gaps:
            return "Every step reaches someone with an email, and a mobile where the step sends texts."
        items = format_html_join("", "<li>{}</li>", ((gap,) for gap in gaps))
        return format_html('<ul class="errornote" style="list-style: disc inside">{}</ul>', items)

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return qs
        schools = school_ids_for(request.user)
        trusts = School.objects.filter(pk__in=schools).values("trust")
        # The trust default of the user's trust, and the overrides of the user's own schools.
        return qs.filter(Q(trust__in=trusts, school__isnull=True) | Q(school__in=schools))


@admin.register(EscalationStep)
class EscalationStepAdmin(SchoolScopedAdmin):
    school_path = "policy__school"
    list_display = ["policy", "order", "action", "delay_minutes"]

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return qs
        visible_policies = HomeVisitPolicyAdmin(HomeVisitPolicy, self.admin_site).get_queryset(request)
        return qs.filter(policy__in=visible_policies)


@admin.register(StaffProfile)
class StaffProfileAdmin(SchoolScopedAdmin):
    # Roles and schools are memberships, managed on the product's memberships page (core.views).
    school_path = "user__memberships__school"
    list_display = ["__str__", "job_title", "mobile", "training_expires_on", "business_insurance_confirmed"]
    list_filter = ["user__memberships__school", "user__memberships__role"]
    search_fields = ["user__first_name", "user__last_name", "user__username"]
    autocomplete_fields = ["user"]


@admin.register(AuditEntry)
class AuditEntryAdmin(RecordAdmin):
    list_display = ["created_at", "actor", "action", "object_type", "object_id", "summary"]
    list_filter = ["action", "school"]
    search_fields = ["summary", "object_id"]


@admin.register(BoardScreen)
class BoardScreenAdmin(RecordAdmin):
    """Read-only: screens are registered and switched off on /board/screens/, through the audited verbs."""

    list_display = ["name", "school", "created_at", "enrolled_at", "revoked_at"]
    list_filter = ["school"]
    exclude = ["enrolment_code_hash", "device_token_hash"]


class TrustScopedAdmin(SchoolScopedAdmin):
    """A trust's own settings: its admins see and change only their trust's."""

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return qs
        return qs.filter(trust__schools__in=school_ids_for(request.user)).distinct()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not request.user.is_superuser and db_field.related_model is Trust:
            kwargs["queryset"] = Trust.objects.filter(schools__in=school_ids_for(request.user)).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(TrustSignInPolicy)
class TrustSignInPolicyAdmin(TrustScopedAdmin):
    list_display = ["trust", "second_factor_for_all_staff", "trusted_browser_days"]


@admin.register(IdentityProvider)
class IdentityProviderAdmin(TrustScopedAdmin):
    list_display = ["trust", "kind", "tenant", "enforces_second_factor", "enabled"]
