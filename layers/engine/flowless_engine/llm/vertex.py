"""Google Vertex AI without the Google Cloud SDK: a service account's key signs a JWT (RS256, in
pure Python: the key's modular exponent, no crypto library), exchanged at the account's
`token_uri` for a bearer token (cached per account until shortly before it expires). Chat is
Gemini's protocol on Vertex's publisher-model URL (`:generateContent`,
`:streamGenerateContent?alt=sse`); embeddings are `:predict`."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any
from urllib.parse import quote, urlencode

from flowless_engine.errors import ConfigurationError
from flowless_engine.http import HttpClient
from flowless_engine.llm._wire import credential_exchange, loads_object, malformed, provider_errors
from flowless_engine.llm.base import ChatMessage, ChatResult, ModelConfig, ToolSpec
from flowless_engine.llm.gemini import GeminiChatModel

PROVIDER = "Vertex AI"
# {location} and {project} filled per call; tests point it at a local server.
VERTEX_ENDPOINT = "https://{location}-aiplatform.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
_TOKENS: dict[str, tuple[str, float]] = {}


def service_account(raw: str | bytes | dict[str, Any]) -> dict[str, Any]:
    """The service account key (the JSON file Google issues), checked for what signing needs."""
    try:
        info = raw if isinstance(raw, dict) else json.loads(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{PROVIDER} credentials are not a service account JSON key", provider=PROVIDER) from exc
    if not isinstance(info, dict) or info.get("type") != "service_account" or not info.get("private_key") or not info.get("client_email"):
        raise ConfigurationError(f"{PROVIDER} credentials must be a service account key (type, client_email, private_key)", provider=PROVIDER)
    return info


# ---- RS256 ------------------------------------------------------------------------------------

def _der(data: bytes, offset: int = 0) -> tuple[int, bytes, int]:
    """(tag, value, next offset) of the DER element at `offset`."""
    tag, length = data[offset], data[offset + 1]
    offset += 2
    if length & 0x80:
        size = length & 0x7F
        length = int.from_bytes(data[offset : offset + size], "big")
        offset += size
    return tag, data[offset : offset + length], offset + length


def _sequence(value: bytes) -> list[tuple[int, bytes]]:
    items, offset = [], 0
    while offset < len(value):
        tag, item, offset = _der(value, offset)
        items.append((tag, item))
    return items


def rsa_private_key(pem: str) -> tuple[int, int, int, int, int, int, int]:
    """(n, e, d, p, q, dp, dq) of a PKCS#8 or PKCS#1 PEM key. A JSON key stores newlines escaped."""
    lines = pem.replace("\\n", "\n").strip().splitlines()
    body = "".join(line.strip() for line in lines if line.strip() and not line.startswith("-----"))
    try:
        der = base64.b64decode(body)
        _, outer, _ = _der(der)
        items = _sequence(outer)
        if len(items) == 3 and items[1][0] == 0x30:  # PKCS#8: version, algorithm, OCTET STRING(PKCS#1)
            _, outer, _ = _der(items[2][1])
            items = _sequence(outer)
        numbers = [int.from_bytes(value, "big") for tag, value in items if tag == 0x02]
        _, n, e, d, p, q, dp, dq = numbers[:8]
    except (ValueError, IndexError) as exc:
        raise ConfigurationError(f"{PROVIDER} credentials hold no readable RSA private key", provider=PROVIDER) from exc
    return n, e, d, p, q, dp, dq


def rs256(message: bytes, pem: str) -> bytes:
    """RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §8.2), the CRT way."""
    n, _, _, p, q, dp, dq = rsa_private_key(pem)
    size = (n.bit_length() + 7) // 8
    digest_info = _SHA256_DIGEST_INFO + hashlib.sha256(message).digest()
    encoded = b"\x00\x01" + b"\xff" * (size - len(digest_info) - 3) + b"\x00" + digest_info
    m = int.from_bytes(encoded, "big")
    s1, s2 = pow(m, dp, p), pow(m, dq, q)
    h = (pow(q, -1, p) * (s1 - s2)) % p
    return (s2 + h * q).to_bytes(size, "big")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed_assertion(info: dict[str, Any], now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    header = {"alg": "RS256", "typ": "JWT", **({"kid": info["private_key_id"]} if info.get("private_key_id") else {})}
    claims = {"iss": info["client_email"], "scope": SCOPE, "aud": info.get("token_uri") or "https://oauth2.googleapis.com/token",
              "iat": issued, "exp": issued + 3600}
    signing_input = f"{_b64url(json.dumps(header, separators=(',', ':')).encode())}.{_b64url(json.dumps(claims, separators=(',', ':')).encode())}"
    return f"{signing_input}.{_b64url(rs256(signing_input.encode(), info['private_key']))}"


async def access_token(http: HttpClient, info: dict[str, Any], timeout: float | None = None) -> str:
    token_uri = info.get("token_uri") or "https://oauth2.googleapis.com/token"
    cache_key = hashlib.sha256(f"{token_uri}\0{info['client_email']}\0{info.get('private_key_id', '')}".encode()).hexdigest()
    cached = _TOKENS.get(cache_key)
    if cached and cached[1] > time.time():
        return cached[0]
    form = urlencode({"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": signed_assertion(info)})
    with credential_exchange(PROVIDER + " OAuth"):
        response = await http.request("POST", token_uri, headers={"content-type": "application/x-www-form-urlencoded"}, content=form, timeout=timeout)
    payload = loads_object(PROVIDER, response.content)
    token = payload.get("access_token")
    if not isinstance(token, str) or not token:
        raise malformed(PROVIDER, "the token endpoint answered without an access_token")
    _TOKENS[cache_key] = (token, time.time() + max(30.0, float(payload.get("expires_in") or 3600) - 300.0))
    return token


def _model_root(config: Any, info: dict[str, Any]) -> str:
    project = config.extra.get("project") or info.get("project_id")
    location = config.extra.get("location") or "us-central1"
    if not project:
        raise ConfigurationError(f"{PROVIDER} needs a project (the node's project, or the key's project_id)", provider=PROVIDER)
    base = (config.base_url or VERTEX_ENDPOINT.format(location=location)).rstrip("/")
    model = quote(config.model.removeprefix("models/"), safe="-._@")
    return f"{base}/v1/projects/{quote(project, safe='-')}/locations/{quote(location, safe='-')}/publishers/google/models/{model}"


class VertexChatModel(GeminiChatModel):
    provider = PROVIDER

    def __init__(self, config: ModelConfig, http: HttpClient) -> None:
        self.info = service_account(config.extra.get("credentials") or "")
        super().__init__(ModelConfig(config.provider, config.model, "service-account", config.base_url, config.temperature,
                                     config.max_tokens, config.extra), http)
        root = _model_root(config, self.info)
        self.url = root + ":generateContent"
        self.stream_url = root + ":streamGenerateContent?alt=sse"
        self._token = ""

    async def complete(self, messages: list[ChatMessage], *, tools: list[ToolSpec] | None = None, json_schema: dict[str, Any] | None = None) -> ChatResult:
        self._token = await access_token(self.http, self.info, self.timeout)
        return await super().complete(messages, tools=tools, json_schema=json_schema)

    async def stream(self, messages: list[ChatMessage], *, tools: list[ToolSpec] | None = None):  # type: ignore[override]
        self._token = await access_token(self.http, self.info, self.timeout)
        async for item in super().stream(messages, tools=tools):
            yield item

    def _headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self._token}"}


class VertexEmbeddings:
    """`:predict` with one instance per text (up to 100 a request)."""

    provider = PROVIDER
    batch_size = 100

    def __init__(self, config: Any, http: HttpClient) -> None:
        self.info = service_account(config.extra.get("credentials") or "")
        self.model = config.model
        self.config = config
        self.http = http
        self.url = _model_root(config, self.info) + ":predict"

    async def embed_batch(self, texts: list[str], query: bool) -> list[list[float]]:
        token = await access_token(self.http, self.info, self.config.timeout)
        task = "RETRIEVAL_QUERY" if query else "RETRIEVAL_DOCUMENT"
        body: dict[str, Any] = {"instances": [{"content": text, "task_type": task} for text in texts]}
        if self.config.dimensions:
            body["parameters"] = {"outputDimensionality": self.config.dimensions}
        with provider_errors(self.provider):
            response = await self.http.request("POST", self.url, headers={"authorization": f"Bearer {token}"}, json=body, timeout=self.config.timeout)
        payload = loads_object(self.provider, response.content)
        try:
            return [[float(x) for x in row["embeddings"]["values"]] for row in payload["predictions"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise malformed(self.provider, f"no embeddings ({exc!r})") from exc
