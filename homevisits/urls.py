from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from safeguarding import views as safeguarding_views
from visits import views as visit_views

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
    path("approvals/", safeguarding_views.approvals, name="approvals"),
    path("approvals/<int:pk>/", safeguarding_views.approval_decide, name="approval_decide"),
    path("dashboard/", safeguarding_views.dashboard, name="dashboard"),
    path("board/", include("visits.board_urls")),
    path("figures/", visit_views.figures_page, name="figures"),
    path("figures/print/", visit_views.figures_print, name="figures_print"),
] + static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
