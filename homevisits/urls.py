from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from visits.after import urls as after_urls
from visits.reporting import urls as reporting_urls
from visits.requests import urls as requests_urls

from . import views

admin.site.site_header = "Home visits administration"
admin.site.site_title = "Home visits admin"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("visits/", include("visits.urls")),
    path("safeguarding/", include("safeguarding.urls")),
    path("safeguarding/", include("visits.departure.urls")),
    path("safeguarding/", include(after_urls.restricted_urlpatterns)),
    path("approvals/", include(requests_urls.approvals_urlpatterns)),
    path("board/", include("visits.board.urls")),
    path("", include(reporting_urls.site_urlpatterns)),
] + static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
