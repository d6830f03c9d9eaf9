from django.urls import path

from . import views

# Under /visits/, in the "visits" namespace (visits/urls.py).
urlpatterns = [
    path("search/", views.visit_search, name="search"),
    path("households/<int:pk>/", views.HouseholdPage.as_view(), name="household"),
    path("children/<int:pk>/", views.ChildPage.as_view(), name="child"),
    path("children/<int:pk>/chronology/", views.child_chronology, name="chronology"),
]

# At the site's root (homevisits/urls.py).
site_urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("figures/", views.figures_page, name="figures"),
    path("figures/print/", views.figures_print, name="figures_print"),
]
