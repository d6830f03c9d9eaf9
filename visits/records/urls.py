"""Records pages under /records/, in the "records" namespace."""

from django.urls import path

from . import views

app_name = "records"
urlpatterns = [
    path("retention/", views.retention_review, name="retention"),
    path("retention/confirm/", views.retention_confirm_view, name="retention_confirm"),
    path("retention/<int:pk>/hold/", views.retention_hold_view, name="retention_hold"),
    path("retention/<int:pk>/release/", views.retention_release_view, name="retention_release"),
    path("children/<int:pk>/file.pdf", views.child_file, name="child_file"),
    path("children/<int:pk>/left/", views.child_transfer, name="child_transfer"),
    path("transfers/", views.transfer_list, name="transfers"),
    path("transfers/<int:pk>/receipt/", views.transfer_receipt, name="transfer_receipt"),
    path("subject-access/", views.access_requests, name="access_requests"),
    path("subject-access/new/", views.access_new, name="access_new"),
    path("subject-access/<int:pk>/", views.access_review, name="access_review"),
    path("subject-access/<int:pk>/export.<str:fmt>", views.access_export, name="access_export"),
]
