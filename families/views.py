"""A household's page and a child's page: their details, for the staff who need to know (families/access.py).

The visits app adds the visits each person may see (visits/views.py subclasses these), so this app never
needs to know about visits.
"""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import DetailView

from core.audit import audit

from .access import get_child_for, get_household_for
from .models import Child, Household
from .selectors import household_history


class FamilyRecordView(LoginRequiredMixin, DetailView):
    """Only the families this user needs to know about; a 404 for anyone else. Every view is audited."""

    find = None  # get_household_for or get_child_for
    audit_action = ""

    def get_object(self, queryset=None):
        obj = self.find(self.request.user, self.kwargs["pk"], self.get_queryset())
        audit(actor=self.request.user, action=self.audit_action, obj=obj, summary=f"Viewed the record of {obj}")
        return obj


class HouseholdDetail(FamilyRecordView):
    model = Household
    queryset = Household.objects.select_related("school").prefetch_related("carers", "children")
    template_name = "families/household_detail.html"
    find = staticmethod(get_household_for)
    audit_action = "household.view"

    def get_context_data(self, **kwargs):
        return super().get_context_data(history=household_history(household=self.object), **kwargs)


class ChildDetail(FamilyRecordView):
    model = Child
    queryset = Child.objects.select_related("household", "school", "key_worker")
    template_name = "families/child_detail.html"
    find = staticmethod(get_child_for)
    audit_action = "child.view"
