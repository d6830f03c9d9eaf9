"""The visit's pages under /visits/, in the "visits" namespace; each part of its life brings its own."""

from django.urls import path

from . import board_views
from .after import urls as after_urls
from .reporting import urls as reporting_urls
from .requests import urls as requests_urls

app_name = "visits"
urlpatterns = [
    *requests_urls.urlpatterns,
    path("<int:pk>/field/", board_views.field, name="field"),
    *after_urls.urlpatterns,
    *reporting_urls.urlpatterns,
]
