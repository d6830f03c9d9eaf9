from django.urls import path

from . import views

# Under /visits/, in the "visits" namespace (visits/urls.py).
urlpatterns = [
    path("", views.visit_list, name="list"),
    path("new/", views.visit_new, name="new"),
    path("children/search/", views.child_search, name="child_search"),
    path("new/household-needs/", views.household_needs, name="household_needs"),
    path("<int:pk>/", views.visit_detail, name="detail"),
    path("<int:pk>/edit/", views.visit_edit, name="edit"),
    path("<int:pk>/submit/", views.visit_submit, name="submit"),
    path("<int:pk>/cancel/", views.visit_cancel, name="cancel"),
    path("<int:pk>/parents/", views.parent_notification, name="parent_notification"),
]

# Under /approvals/ (homevisits/urls.py).
approvals_urlpatterns = [
    path("", views.approvals, name="approvals"),
    path("<int:pk>/", views.approval_decide, name="approval_decide"),
]
