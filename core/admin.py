"""Admin bases that keep each admin to their own schools and audit their changes and views, and the foundation's
pages. The admin never shows casework: what it shows of people is audited when viewed, and what it changes of
them goes through the services."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from .audit import audit
from .models import (
    AuditEntry,
    BoardScreen,
    EffectivePolicy,
    EscalationStep,
    HomeVisitPolicy,
    IdentityProvider,
    School,
    StaffProfile,
    Trust,
    TrustSignInPolicy,
    review_warning,
)
from .permissions import may_manage_settings
from .scoping import school_ids_for
from .selectors import contact_gaps
from .services import setting_delete, setting_save, staff_profile_create, staff_profile_update


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

    # Changes go through the settings verbs, which check the actor and audit in the same transaction.

    def save_model(self, request, obj, form, change):
        setting_save(obj=obj, actor=request.user, changed=list(form.changed_data))

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            setting_delete(obj=obj, actor=request.user)
        changed = {id(obj): fields for obj, fields in formset.changed_objects}
        for obj in instances:
            setting_save(obj=obj, actor=request.user, changed=changed.get(id(obj), []))
        formset.save_m2m()

    def delete_model(self, request, obj):
        setting_delete(obj=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:  # one at a time, each checked and audited (the bulk delete would skip both)
            setting_delete(obj=obj, actor=request.user)


class PersonalDataAdmin(admin.ModelAdmin):
    """Pages that show people's details: each list and change page leaves an audit entry, as the product's views
    do. `view_action` names it ("staff_profile.view"); a list is "<thing>.list" with the rows shown."""

    view_action = ""

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        if isinstance(response, TemplateResponse) and "cl" in response.context_data:
            # Evaluated here, the page's own rows: the template reuses them (no second query).
            shown = [row.pk for row in response.context_data["cl"].result_list]
            audit(
                actor=request.user,
                action=self.view_action.replace(".view", ".list"),
                obj=request.user,
                school=None,
                summary=f"Listed {len(shown)} {self.model._meta.verbose_name_plural} in the admin",
                ids=[str(pk) for pk in shown],
            )
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        original = (
            getattr(response, "context_data", {}).get("original") if isinstance(response, TemplateResponse) else None
        )
        if original is not None:
            audit(
                actor=request.user,
                action=self.view_action,
                obj=original,
                school=self.audit_school(original),
                summary=f"Viewed {original._meta.verbose_name} {original} in the admin",
            )
        return response

    def audit_school(self, obj):
        return getattr(obj, "school", None)


class RecordAdmin(SchoolScopedAdmin):
    """Read-only: records of what happened (decisions, timelines, the audit trail) are evidence."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Trust)
class TrustAdmin(SchoolScopedAdmin):
    school_path = "schools"
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def has_add_permission(self, request):
        return request.user.is_superuser  # a trust admin belongs to a trust that already exists


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
                    "location_keep_days",
                ],
            },
        ),
        ("After the visit", {"fields": ["report_due_hours", "debrief_before_sign_off", "review_date"]}),
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
    # Check-in by text message. Its one value, the duress word, is shown to the policy's trust admins only.
    TEXTS_FIELDSET = (
        "Check-in by text message",
        {
            "description": "The pair may text OUT, ARRIVED, LEFT, BACK or LATE 15 to the school's number. "
            "Keep the duress word among the people who must know it.",
            "fields": ["duress_word"],
        },
    )

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        trust = obj.trust if obj is not None else None
        school = obj.school if obj is not None else None
        if obj is None or may_manage_settings(request.user, school=school, trust=trust):
            fieldsets.insert(3, self.TEXTS_FIELDSET)
        return fieldsets

    def change_view(self, request, object_id, form_url="", extra_context=None):
        policy = self.get_object(request, object_id) if request.method == "GET" else None
        if policy is not None:
            # A school's row with no date of its own is reviewed on the trust's date.
            review_date = policy.school.policy().review_date if policy.school_id else policy.review_date
            warning = review_warning(review_date, today=timezone.localdate())
            if warning:
                messages.warning(request, f"{warning} Set the next review date once it is done.")
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="Who the escalation steps reach")
    def contact_warnings(self, obj):
        """Warned before it matters: a step whose people at a school have no email, or no mobile for texts."""
        if obj is None or obj.pk is None:
            return "Saved policies list any step that would reach nobody."
        schools = [obj.school] if obj.school_id else list(obj.trust.schools.all())
        policies = EffectivePolicy.for_schools(schools)
        gaps = [gap for school in schools for gap in contact_gaps(school=school, policy=policies[school.pk])]
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
class StaffProfileAdmin(PersonalDataAdmin, SchoolScopedAdmin):
    """Contact details and vehicle, changed through the staff-profile verbs. The training dates follow the
    training records (recorded on the training page), so a lapsed date cannot be made valid here. Roles and
    schools are memberships, kept on the product's Roles page."""

    view_action = "staff_profile.view"
    school_path = "user__memberships__school"
    list_display = ["__str__", "job_title", "mobile", "training_expires_on", "business_insurance_confirmed"]
    list_select_related = ["user"]
    list_filter = ["user__memberships__school", "user__memberships__role"]
    search_fields = ["user__first_name", "user__last_name", "user__username"]
    autocomplete_fields = ["user"]
    readonly_fields = ["training_completed_on", "training_expires_on"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        # Who the profile is for is settled when it is made.
        return [*self.readonly_fields, "user"]

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in form.changed_data if name != "user"}
        if change:
            saved = staff_profile_update(profile=obj, actor=request.user, **fields)
        else:
            saved = staff_profile_create(user=form.cleaned_data["user"], actor=request.user, **fields)
        obj.pk = saved.pk

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        raise PermissionDenied("A staff profile is kept: its training records and the audit trail refer to it.")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(RecordAdmin):
    """Who did what to which record, and when. An entry's summary and details quote the casework it is about (a
    household's name, an action's words), which a trust admin is not in the need to know for: only a superuser
    (the data-protection officer's account) reads them here."""

    list_display = ["created_at", "actor_name", "action", "object_type", "object_id"]
    list_filter = ["action", "school"]
    search_fields = ["object_id", "actor_name"]
    CASEWORK = ("summary", "details")

    def get_list_display(self, request):
        return [*self.list_display, "summary"] if request.user.is_superuser else self.list_display

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return fields if request.user.is_superuser else [f for f in fields if f not in self.CASEWORK]


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
