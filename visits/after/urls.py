from django.urls import path

from . import views

# Under /visits/, in the "visits" namespace (visits/urls.py).
urlpatterns = [
    path("<int:pk>/report/", views.report, name="report"),
    path("<int:pk>/report/autosave/", views.report_autosave, name="report_autosave"),
    path("<int:pk>/report/debrief/", views.report_debrief, name="report_debrief"),
    path("<int:pk>/report/review/", views.report_review, name="report_review"),
    path("<int:pk>/parent-copy.pdf", views.parent_copy_pdf, name="parent_copy_pdf"),
    path("<int:pk>/missed-you.pdf", views.missed_you_pdf, name="missed_you_pdf"),
    path("<int:pk>/email/<slug:document>/", views.email_letter, name="email_letter"),
    path("<int:pk>/post/<slug:document>/", views.post_letter, name="post_letter"),
    path("actions/mine/", views.my_actions, name="my_actions"),
    path("actions/", views.school_actions, name="school_actions"),
    path("actions/<int:pk>/complete/", views.action_complete, name="action_complete"),
]

# Under /safeguarding/ (homevisits/urls.py): the restricted records' pages, where they have always been.
restricted_urlpatterns = [
    path("concerns/", views.concern_list, name="concerns"),
    path("concerns/new/", views.concern_new, name="concern_new"),
    path("concerns/<int:pk>/", views.concern_detail, name="concern"),
    path("concerns/<int:pk>/close/", views.concern_close, name="concern_close"),
    path("concerns/<int:pk>/actions/", views.concern_action_add, name="concern_action_add"),
    path("incidents/new/", views.incident_new, name="incident_new"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident"),
]
