from django.urls import path

from . import webhooks

# Under /webhooks/ (homevisits/urls.py): the text providers' delivery receipts. No sign-in: each view checks the
# provider's signature or token first.
webhook_urlpatterns = [
    path("twilio/status/", webhooks.twilio_status, name="webhook-twilio-status"),
    path("notify/status/", webhooks.notify_status, name="webhook-notify-status"),
]
