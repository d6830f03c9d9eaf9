from django.urls import path

from . import board_views, views

app_name = "visits"
urlpatterns = [
    path("", views.visit_list, name="list"),
    path("new/", views.visit_new, name="new"),
    path("<int:pk>/", views.visit_detail, name="detail"),
    path("<int:pk>/field/", board_views.field, name="field"),
    path("households/<int:pk>/", views.household_detail, name="household"),
    path("children/<int:pk>/", views.child_detail, name="child"),
]
