from django.urls import path

from . import board_views, views
from .after import urls as after_urls
from .requests import urls as requests_urls

app_name = "visits"
urlpatterns = (
    requests_urls.urlpatterns
    + after_urls.urlpatterns
    + [
        path("search/", views.visit_search, name="search"),
        path("<int:pk>/field/", board_views.field, name="field"),
        path("households/<int:pk>/", views.HouseholdPage.as_view(), name="household"),
        path("children/<int:pk>/", views.ChildPage.as_view(), name="child"),
    ]
)

urlpatterns += [
    path("children/<int:pk>/chronology/", views.child_chronology, name="chronology"),
]
