# Mounted at /safeguarding/ (homevisits/urls.py), where these pages have always been.
from django.urls import path

from . import views

urlpatterns = [
    path("visits/<int:pk>/safe-word/", views.safe_word, name="safe_word"),
    path("visits/<int:pk>/checklist/<slug:action>/", views.checklist_action, name="checklist_action"),
]
