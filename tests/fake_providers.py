"""GOV.UK Notify and Twilio as a tiny HTTP server on 127.0.0.1 in the test process: the real client libraries talk
to it (NOTIFY_BASE_URL, TWILIO_API_BASE_URL), so what is tested is what the libraries send, and nothing reaches the
network. It records every request and answers as the provider does; `fail_next` makes its next answer an error.

Also here: what the providers send us (a signed Twilio webhook, a Notify callback with its bearer token).
"""

import base64
import json
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from twilio.request_validator import RequestValidator

NOTIFY_SERVICE = "26785a09-ab16-4eb0-8407-a37497a57506"
NOTIFY_API_KEY = f"homevisits_test-{NOTIFY_SERVICE}-3d844edf-8d35-48ac-975b-e847b4f122b0"
NOTIFY_TEMPLATE = "f33517ff-2a88-4f6e-b855-c550268ce08a"
NOTIFY_CALLBACK_TOKEN = "notify-callback-token-for-tests-0123456789"
TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "twilio-auth-token-for-tests"
TWILIO_FROM = "+442079460999"
SITE = "https://visits.example.org"


@dataclass
class Call:
    method: str
    path: str
    headers: dict
    json: dict | None
    form: dict | None


class FakeProviders:
    def __init__(self):
        self.calls: list[Call] = []
        self._failures: list[tuple[str, int, dict]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, path_part: str, status: int, body: dict) -> None:
        """The next request whose path contains `path_part` is answered with this error."""
        self._failures.append((path_part, status, body))

    def sent(self, path_part: str) -> list[Call]:
        return [c for c in self.calls if path_part in c.path]

    def _answer(self, call: Call) -> tuple[int, dict]:
        for failure in self._failures:
            if failure[0] in call.path:
                self._failures.remove(failure)
                return failure[1], failure[2]
        if call.path == "/v2/notifications/sms":
            return 201, {"id": str(uuid.uuid4()), "reference": call.json.get("reference"), "content": {}}
        if call.path == "/v2/notifications/letter":
            return 201, {"id": str(uuid.uuid4()), "reference": call.json.get("reference"), "postage": "second"}
        if call.path.endswith("/Messages.json"):
            sid = "SM" + uuid.uuid4().hex
            return 201, {"sid": sid, "status": "queued", "to": call.form["To"][0], "body": call.form["Body"][0]}
        return 404, {"message": "not found"}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                kind = self.headers.get("Content-Type", "")
                call = Call(
                    method="POST",
                    path=self.path,
                    headers=dict(self.headers),
                    json=json.loads(raw) if "json" in kind else None,
                    form=parse_qs(raw.decode()) if "form" in kind else None,
                )
                fake.calls.append(call)
                status, payload = fake._answer(call)
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


@pytest.fixture
def providers(settings):
    """Both providers' test double, with the settings a school would set (and the site's https address)."""
    with FakeProviders() as fake:
        settings.SITE_URL = SITE
        settings.NOTIFY_API_KEY, settings.NOTIFY_BASE_URL = NOTIFY_API_KEY, fake.url
        settings.NOTIFY_SMS_TEMPLATE_ID, settings.NOTIFY_CALLBACK_TOKEN = NOTIFY_TEMPLATE, NOTIFY_CALLBACK_TOKEN
        settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = TWILIO_SID, TWILIO_TOKEN
        settings.TWILIO_FROM_NUMBER, settings.TWILIO_API_BASE_URL = TWILIO_FROM, fake.url
        settings.PROVIDER_TIMEOUT_SECONDS = 5
        yield fake


def twilio_post(client, path: str, params: dict, *, token: str = TWILIO_TOKEN, signature: str | None = None):
    """POST as Twilio does: form-encoded, signed with the auth token over the full address and the parameters."""
    if signature is None:
        signature = RequestValidator(token).compute_signature(SITE + path, params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


def notify_post(client, path: str, payload: dict, *, token: str = NOTIFY_CALLBACK_TOKEN):
    """POST as Notify's callbacks do: JSON, with the bearer token the school gave Notify."""
    return client.post(path, json.dumps(payload), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")


def letter_pdf(call: Call) -> bytes:
    return base64.b64decode(call.json["content"])
