from django.contrib import admin

from core.admin import SchoolScopedAdmin

from .models import Child, Household, ParentCarer


class ParentCarerInline(admin.StackedInline):
    model = ParentCarer
    extra = 0


@admin.register(ParentCarer)
class ParentCarerAdmin(SchoolScopedAdmin):
    school_path = "household__school"
    list_display = ["__str__", "relationship", "household", "parental_responsibility", "literacy_support_needed"]
    list_filter = ["household__school", "parental_responsibility", "literacy_support_needed"]
    search_fields = ["first_name", "last_name", "household__name"]
    autocomplete_fields = ["household"]


@admin.register(Household)
class HouseholdAdmin(SchoolScopedAdmin):
    list_display = ["name", "postcode", "school", "interpreter_needed"]
    list_filter = ["school", "interpreter_needed"]
    search_fields = ["name", "postcode", "address_line1"]
    inlines = [ParentCarerInline]


@admin.register(Child)
class ChildAdmin(SchoolScopedAdmin):
    list_display = ["__str__", "year_group", "school", "household"]
    list_filter = ["school", "year_group"]
    search_fields = ["first_name", "last_name"]
    autocomplete_fields = ["household"]
    raw_id_fields = ["key_worker"]
