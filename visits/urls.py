from django.urls import path

from . import board_views, views
from .requests import urls as requests_urls

app_name = "visits"
urlpatterns = requests_urls.urlpatterns + [
    path("search/", views.visit_search, name="search"),
    path("<int:pk>/field/", board_views.field, name="field"),
    path("households/<int:pk>/", views.HouseholdPage.as_view(), name="household"),
    path("children/<int:pk>/", views.ChildPage.as_view(), name="child"),
]

# After the visit (issue 6)
urlpatterns += [
    path("<int:pk>/report/", views.report, name="report"),
    path("<int:pk>/report/autosave/", views.report_autosave, name="report_autosave"),
    path("<int:pk>/report/debrief/", views.report_debrief, name="report_debrief"),
    path("<int:pk>/report/review/", views.report_review, name="report_review"),
    path("<int:pk>/parent-copy.pdf", views.parent_copy_pdf, name="parent_copy_pdf"),
    path("<int:pk>/missed-you.pdf", views.missed_you_pdf, name="missed_you_pdf"),
    path("<int:pk>/email/<slug:document>/", views.email_letter, name="email_letter"),
    path("actions/mine/", views.my_actions, name="my_actions"),
    path("actions/", views.school_actions, name="school_actions"),
    path("actions/<int:pk>/complete/", views.action_complete, name="action_complete"),
    path("children/<int:pk>/chronology/", views.child_chronology, name="chronology"),
]
