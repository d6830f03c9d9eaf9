from django.urls import path

from . import views

# At /setup/ (homevisits/urls.py).
urlpatterns = [
    path("", views.setup_page, name="setup"),
    path("<int:pk>/policy/", views.setup_policy, name="setup_policy"),
    path("<int:pk>/no-prohibited/", views.setup_no_prohibited, name="setup_no_prohibited"),
]
