"""A tiny OpenID Connect provider on 127.0.0.1 in the test process, standing in for Microsoft or Google.

It answers discovery, the token exchange and userinfo; the test plays the browser's part of the authorisation
step itself (it reads `state` from the redirect and calls the callback with a code the provider will accept).
"""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import jwt


class FakeIdentityProvider:
    def __init__(self, client_id: str):
        self.client_id = client_id
        self.claims_for_code: dict[str, dict] = {}
        self.token_requests: list[dict] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def issue_code(self, **claims) -> str:
        """The code the provider will exchange for a token carrying these claims (sub, email, tid/hd ...)."""
        code = uuid.uuid4().hex
        self.claims_for_code[code] = claims
        return code

    def _id_token(self, claims: dict) -> str:
        now = int(time.time())
        body = {"iss": self.url, "aud": self.client_id, "iat": now, "exp": now + 300, **claims}
        # allauth checks the signature only of tokens it did not fetch itself (it fetches these directly).
        return jwt.encode(body, "fake-idp-signing-key-for-tests-only-000000", algorithm="HS256")

    def _handler(self):
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, payload, status=200):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path == "/.well-known/openid-configuration":
                    return self._json(
                        {
                            "issuer": idp.url,
                            "authorization_endpoint": f"{idp.url}/authorize",
                            "token_endpoint": f"{idp.url}/token",
                            "userinfo_endpoint": f"{idp.url}/userinfo",
                            "jwks_uri": f"{idp.url}/jwks",
                        }
                    )
                if self.path == "/userinfo":
                    token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    return self._json(idp.claims_for_code.get(token, {}) if token else {}, 200 if token else 401)
                if self.path == "/jwks":
                    return self._json({"keys": []})
                return self._json({"error": "not_found"}, 404)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                idp.token_requests.append(form)
                claims = idp.claims_for_code.get(form.get("code", ""))
                if self.path != "/token" or claims is None:
                    return self._json({"error": "invalid_grant"}, 400)
                # The access token is the code itself, so /userinfo can answer for it.
                return self._json(
                    {
                        "access_token": form["code"],
                        "token_type": "Bearer",
                        "expires_in": 300,
                        "id_token": idp._id_token(claims),
                    }
                )

        return Handler
