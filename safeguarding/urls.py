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
    path("visits/<int:pk>/safe-word/", views.safe_word, name="safe_word"),
    path("visits/<int:pk>/checklist/<slug:action>/", views.checklist_action, name="checklist_action"),
    path("concerns/", views.concern_list, name="concerns"),
    path("concerns/new/", views.concern_new, name="concern_new"),
    path("concerns/<int:pk>/", views.concern_detail, name="concern"),
    path("concerns/<int:pk>/close/", views.concern_close, name="concern_close"),
    path("concerns/<int:pk>/actions/", views.concern_action_add, name="concern_action_add"),
    path("incidents/new/", views.incident_new, name="incident_new"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident"),
]
