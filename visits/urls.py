from django.urls import path

from . import views

app_name = "visits"
urlpatterns = [
    path("", views.visit_list, name="list"),
    path("new/", views.visit_new, name="new"),
    path("children/search/", views.child_search, name="child_search"),
    path("<int:pk>/", views.visit_detail, name="detail"),
    path("<int:pk>/edit/", views.visit_edit, name="edit"),
    path("<int:pk>/submit/", views.visit_submit, name="submit"),
    path("<int:pk>/parents/", views.parent_notification, name="parent_notification"),
    path("households/<int:pk>/", views.household_detail, name="household"),
    path("children/<int:pk>/", views.child_detail, name="child"),
]
