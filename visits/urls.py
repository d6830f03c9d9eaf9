"""The visit's pages under /visits/, in the "visits" namespace; each part of its life brings its own."""

from .after import urls as after_urls
from .field import urls as field_urls
from .reporting import urls as reporting_urls
from .requests import urls as requests_urls

app_name = "visits"
urlpatterns = [
    *requests_urls.urlpatterns,
    *field_urls.urlpatterns,
    *after_urls.urlpatterns,
    *reporting_urls.urlpatterns,
]
