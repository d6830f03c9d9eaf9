from django.urls import path

from . import views, webhooks

# Under /visits/, in the "visits" namespace (visits/urls.py).
urlpatterns = [
    path("<int:pk>/field/", views.field, name="field"),
    path("<int:pk>/field/send/", views.field_send, name="field-send"),
    path("field/token/", views.field_token, name="field-token"),
    path("field-sw.js", views.field_service_worker, name="field-sw"),
    path("texts/", views.texts, name="texts"),
]

# Under /webhooks/ (homevisits/urls.py): the texts people send to the school's number. No sign-in: each view
# checks the provider's signature or token first.
webhook_urlpatterns = [
    path("twilio/inbound/", webhooks.twilio_inbound, name="webhook-twilio-inbound"),
    path("notify/inbound/", webhooks.notify_inbound, name="webhook-notify-inbound"),
]
