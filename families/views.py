"""A household's page and a child's page: their details, for the staff who may see family records.

The visits app adds the visits each person may see (visits/views.py subclasses these), so this app never
needs to know about visits.
"""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.views.generic import DetailView

from core.permissions import FIELD_ROLES, may_see_family_records, school_ids_where

from .models import Child, Household


class FamilyRecordView(LoginRequiredMixin, DetailView):
    """Only the user's own schools, and only for those who may see family records: anyone else gets a 404."""

    def get_queryset(self):
        user = self.request.user
        return super().get_queryset().filter(school_id__in=school_ids_where(user, *FIELD_ROLES))

    def get_object(self, queryset=None):
        obj = super().get_object(queryset)
        if not may_see_family_records(self.request.user, school=obj.school_id):
            raise Http404(f"No such {self.model._meta.verbose_name}.")
        return obj


class HouseholdDetail(FamilyRecordView):
    model = Household
    queryset = Household.objects.prefetch_related("carers", "children")
    template_name = "families/household_detail.html"


class ChildDetail(FamilyRecordView):
    model = Child
    queryset = Child.objects.select_related("household", "school", "key_worker")
    template_name = "families/child_detail.html"
