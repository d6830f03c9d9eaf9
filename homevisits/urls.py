from allauth.account import views as account_views
from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from core import membership_pages, staff_pages
from core.signin import urls as signin_urls
from core.signin.views import SignInView, TrustBrowserView
from visits.after import urls as after_urls
from visits.alerts import urls as alerts_urls
from visits.field import urls as field_urls
from visits.reporting import urls as reporting_urls
from visits.requests import urls as requests_urls

from . import views

admin.site.site_header = "Home visits administration"
admin.site.site_title = "Home visits admin"
# The admin signs in through the same page as everyone (second factor, lockout and audit included).
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # allauth's pages; "login" and "logout" are the names the templates and tests have always used.
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/login/", SignInView.as_view(), name="account_login"),
    path("accounts/logout/", account_views.logout, name="logout"),
    path("accounts/2fa/trust/", TrustBrowserView.as_view(), name="mfa_trust"),
    path("accounts/invitation/<uidb64>/<token>/", staff_pages.invitation, name="invitation"),
    path("accounts/", include("allauth.urls")),
    path("accounts/", include(signin_urls)),
    path("admin/", admin.site.urls),
    path("memberships/", membership_pages.membership_list, name="memberships"),
    path("memberships/<int:pk>/end/", membership_pages.membership_end_view, name="membership-end"),
    path("imports/pupils/", include("families.imports.urls")),
    path("setup/", include("safeguarding.setup.urls")),
    path("staff/import/", staff_pages.staff_import, name="staff_import"),
    path("staff/import/template.csv", staff_pages.staff_import_template, name="staff_import_template"),
    path("staff/import/<int:pk>/", staff_pages.staff_import_preview, name="staff_import_preview"),
    path("staff/<int:pk>/deactivate/", staff_pages.staff_deactivate_view, name="staff_deactivate"),
    path("visits/", include("visits.urls")),
    path("records/", include("visits.records.urls")),
    path("safeguarding/", include("safeguarding.urls")),
    path("safeguarding/", include("visits.departure.urls")),
    path("safeguarding/", include(after_urls.restricted_urlpatterns)),
    path("approvals/", include(requests_urls.approvals_urlpatterns)),
    path("board/", include("visits.board.urls")),
    # The text providers' callbacks (no sign-in; each checks the provider's signature or token).
    path("webhooks/", include(field_urls.webhook_urlpatterns)),
    path("webhooks/", include(alerts_urls.webhook_urlpatterns)),
    path("", include(reporting_urls.site_urlpatterns)),
] + static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Refusals in the site's layout, in words (homevisits/refusals.py).
handler400 = "homevisits.refusals.bad_request"
handler403 = "homevisits.refusals.permission_denied"
handler404 = "homevisits.refusals.page_not_found"
