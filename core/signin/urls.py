from django.urls import path

from . import views

app_name = "signin"

urlpatterns = [
    path("lockouts/", views.lockout_list, name="lockouts"),
    path("lockouts/<int:entry_id>/lift/", views.lockout_lift, name="lift_lockout"),
]
