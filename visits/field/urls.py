from django.urls import path

from . import views

# Under /visits/, in the "visits" namespace (visits/urls.py).
urlpatterns = [
    path("<int:pk>/field/", views.field, name="field"),
]
