"""Texts the pair send to the school's number, as the provider forwards them. Each request is verified (Twilio's
signature, Notify's bearer token) before anything is read from it; a forged one is refused with 403 and a log
line. The same message again (the provider retrying, or a replay) changes nothing: the text is kept once, by
the provider's id, and its reply was queued once."""

import json

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ..alerts.providers import govuk_notify, twilio_sms
from ..alerts.webhooks import refuse_forged
from .texts import inbound_text_receive

# Twilio expects TwiML back: an empty response sends nothing, as the reply goes through the outbox (retried, with
# its own delivery receipt) whichever provider carries it.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@csrf_exempt
@require_POST
def twilio_inbound(request):
    """The address set as "A message comes in" on the school's Twilio number."""
    if not twilio_sms.signature_ok(request):
        return refuse_forged(request, "Twilio incoming text")
    text = twilio_sms.parse_received_text(request.POST)
    if not text.provider_id:
        return HttpResponse("No MessageSid.\n", status=400)
    inbound_text_receive(text=text)
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@csrf_exempt
@require_POST
def notify_inbound(request):
    """Notify's "received text messages" callback for the school's inbound number."""
    if not govuk_notify.token_ok(request):
        return refuse_forged(request, "Notify received text")
    try:
        payload = json.loads(request.body)
    except ValueError:
        return HttpResponse("Expected JSON.\n", status=400)
    if not isinstance(payload, dict) or not payload.get("id"):
        return HttpResponse("Expected a JSON object with an id.\n", status=400)
    inbound_text_receive(text=govuk_notify.parse_received_text(payload))
    return HttpResponse(status=204)
