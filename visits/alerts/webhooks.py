"""Delivery receipts: the providers tell us whether each text, email or letter arrived. Each request is verified
(Twilio's signature, Notify's bearer token) before anything is read from it; a forged one is refused with 403 and
a log line, and changes nothing. A receipt sent again changes nothing either (the first final word stands)."""

import json
import logging

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ..after.services import posted_letter_receipt_record
from .delivery import notification_receipt_record
from .providers import Receipt, govuk_notify, twilio_sms

logger = logging.getLogger(__name__)


def refuse_forged(request, what: str) -> HttpResponse:
    """403, and a line for whoever watches the logs: someone is posting to a webhook without the provider's key.
    The body is left empty so the site's refusal page says in words what this address is for."""
    logger.warning(
        "Refused a %s webhook that failed its provider check (from %s)", what, request.META.get("REMOTE_ADDR", "?")
    )
    return HttpResponse(status=403)


def _record(receipt: Receipt) -> None:
    if receipt.reference.startswith("letter-"):
        posted_letter_receipt_record(
            reference=receipt.reference, provider_id=receipt.provider_id, status=receipt.status, reason=receipt.reason
        )
    else:
        notification_receipt_record(
            reference=receipt.reference, provider_id=receipt.provider_id, status=receipt.status, reason=receipt.reason
        )


@csrf_exempt
@require_POST
def twilio_status(request):
    """Twilio's status callback for a text we sent (the address each send gives Twilio, with our reference)."""
    if not twilio_sms.signature_ok(request):
        return refuse_forged(request, "Twilio status")
    _record(twilio_sms.parse_receipt(request.POST, reference=request.GET.get("ref", "")))
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def notify_status(request):
    """Notify's delivery receipts callback, for texts and letters (one address per Notify service)."""
    if not govuk_notify.token_ok(request):
        return refuse_forged(request, "Notify delivery receipt")
    try:
        payload = json.loads(request.body)
    except ValueError:
        return HttpResponse("Expected JSON.\n", status=400)
    if not isinstance(payload, dict):
        return HttpResponse("Expected a JSON object.\n", status=400)
    _record(govuk_notify.parse_receipt(payload))
    return HttpResponse(status=204)
