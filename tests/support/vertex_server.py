"""A fake Google Vertex AI (stdlib + the test key's public numbers), from the public references:
the OAuth 2.0 token endpoint for service accounts (`POST /token`, a JWT bearer assertion signed
RS256 with the account's key: verified here against its public key, with iss/aud/scope/exp
checked) and the publisher-model endpoints
`/v1/projects/{p}/locations/{l}/publishers/google/models/{m}:generateContent`,
`:streamGenerateContent?alt=sse` (Gemini's wire format) and `:predict` (embeddings)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from typing import Any
from urllib.parse import parse_qs

from tests.support.gemini_server import _GeminiHandler
from tests.support.model_server import ModelServer, embed

_MODEL_PATH = re.compile(r"^/v1/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/publishers/google/models/(?P<model>[^:/]+)"
                         r":(?P<method>generateContent|streamGenerateContent|predict)$")
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class _VertexHandler(_GeminiHandler):
    def _route_path(self, path: str) -> str:
        if path == "/token":
            return path
        match = _MODEL_PATH.match(path)
        return f"/gemini/{match.group('method')}" if match else path

    def _routes(self) -> dict[tuple[str, str], Any]:
        return {**super()._routes(), ("POST", "/token"): self._token, ("POST", "/gemini/predict"): self._predict}

    def _authorised(self) -> bool:
        token = (self.headers.get("authorization") or "").removeprefix("Bearer ")
        if token in self.model_server.tokens:
            return True
        self._send_json(401, self._error_body("", 401, "Request had invalid authentication credentials."))
        return False

    def _token(self, _: Any) -> None:
        server: VertexServer = self.model_server  # type: ignore[assignment]
        form = parse_qs(self.body if isinstance(self.body, str) else "")
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"] or not form.get("assertion"):
            self._send_json(400, {"error": "unsupported_grant_type"})
            return
        header, claims, signature = form["assertion"][0].split(".")
        encoded = pow(int.from_bytes(_unb64(signature), "big"), server.public_e, server.public_n)
        size = (server.public_n.bit_length() + 7) // 8
        digest = hashlib.sha256(f"{header}.{claims}".encode()).digest()
        expected = b"\x00\x01" + b"\xff" * (size - 54) + b"\x00" + _SHA256_DIGEST_INFO + digest
        body = json.loads(_unb64(claims))
        valid = (encoded.to_bytes(size, "big") == expected and json.loads(_unb64(header)).get("alg") == "RS256"
                 and body.get("iss") == server.client_email and body.get("aud") == server.token_uri
                 and "cloud-platform" in body.get("scope", "") and body.get("exp", 0) > time.time())
        if not valid:
            self._send_json(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
            return
        token = f"ya29.fake-{len(server.tokens)}"
        server.tokens.add(token)
        self._send_json(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def _predict(self, body: dict[str, Any]) -> None:
        if not self._authorised():
            return
        dimensions = int((body.get("parameters") or {}).get("outputDimensionality") or 64)
        self._send_json(200, {"predictions": [{"embeddings": {"values": embed(str(i.get("content", "")), dimensions),
                                                              "statistics": {"token_count": len(str(i.get("content", "")).split())}}}
                                              for i in body.get("instances") or []]})


class VertexServer(ModelServer):
    """`public_n`, `public_e` and `client_email`: the service account whose signatures it accepts."""

    handler = _VertexHandler

    def __init__(self, public_n: int, public_e: int, client_email: str, host: str = "127.0.0.1") -> None:
        self.public_n, self.public_e, self.client_email = public_n, public_e, client_email
        self.tokens: set[str] = set()
        super().__init__(host)
        self.base_url = self.url
        self.token_uri = self.url + "/token"
