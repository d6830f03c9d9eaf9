from django.urls import path

from . import views, webhooks

# Under /visits/, in the "visits" namespace (visits/urls.py).
urlpatterns = [
    path("<int:pk>/field/", views.field, name="field"),
    path("texts/", views.texts, name="texts"),
]

# Under /webhooks/ (homevisits/urls.py): the texts people send to the school's number. No sign-in: each view
# checks the provider's signature or token first.
webhook_urlpatterns = [
    path("twilio/inbound/", webhooks.twilio_inbound, name="webhook-twilio-inbound"),
    path("notify/inbound/", webhooks.notify_inbound, name="webhook-notify-inbound"),
]
