from django.urls import path

from . import views

app_name = "safeguarding"
urlpatterns = [
    path("prohibited/", views.prohibited_list, name="prohibited_list"),
    path("prohibited/add/", views.prohibited_add, name="prohibited_add"),
    path("prohibited/<int:pk>/expire/", views.prohibited_expire, name="prohibited_expire"),
    path("prohibited/import/", views.prohibited_import, name="prohibited_import"),
    path("prohibited/import/<int:pk>/", views.prohibited_import_report, name="prohibited_import_report"),
    path("households/<int:pk>/address-check/", views.household_address_check, name="address_check"),
    path("households/<int:pk>/risk/", views.household_risk, name="household_risk"),
    path("households/<int:pk>/risk/new/", views.risk_new, name="risk_new"),
    path("risk/<int:pk>/", views.risk_detail, name="risk_detail"),
    path("risk/<int:pk>/sign-off/", views.risk_sign_off, name="risk_sign_off"),
    path("training/", views.training_due, name="training_due"),
    path("training/add/", views.training_add, name="training_add"),
]
