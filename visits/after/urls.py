# Mounted at /safeguarding/ (homevisits/urls.py): the restricted records' pages.
from django.urls import path

from . import views

urlpatterns = [
    path("concerns/", views.concern_list, name="concerns"),
    path("concerns/new/", views.concern_new, name="concern_new"),
    path("concerns/<int:pk>/", views.concern_detail, name="concern"),
    path("concerns/<int:pk>/close/", views.concern_close, name="concern_close"),
    path("concerns/<int:pk>/actions/", views.concern_action_add, name="concern_action_add"),
    path("incidents/new/", views.incident_new, name="incident_new"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident"),
]
