from django.urls import path

from . import views

# At /imports/pupils/ (homevisits/urls.py).
urlpatterns = [
    path("", views.pupil_import, name="pupil_import"),
    path("template.csv", views.pupil_import_template, name="pupil_import_template"),
    path("<int:pk>/", views.pupil_import_preview, name="pupil_import_preview"),
]
