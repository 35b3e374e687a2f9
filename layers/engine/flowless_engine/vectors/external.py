"""What the engine asks of a vector store a flow names itself (Astra DB, Qdrant, FAISS...), as
opposed to the tenant's own knowledge-base store in `base.py`.

A store component maps its fields to a `Collection`: documents go in (`add`), ranked hits come
out (`search`). Every adapter keeps Langflow's document shape for its store, so a collection
filled by Langflow is searched by Flowless and the other way round. Scores are similarities,
higher is closer, as the store reports them.

Failures of the store are `ProviderError`s naming it (the service answers 502, 504 on a timeout);
a store that cannot be reached because of the network guard stays a `BlockedURLError`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from flowless_engine.errors import BlockedURLError, FlowError, ProviderError, ProviderTimeoutError


@dataclass
class Document:
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    id: str = ""
    vector: list[float] | None = None  # None when the store embeds the text itself


@dataclass
class Hit:
    text: str
    metadata: dict[str, Any]
    score: float | None
    id: str = ""
    vector: list[float] | None = None  # asked for by MMR


@dataclass
class SearchResult:
    hits: list[Hit]
    query_vector: list[float] | None = None  # the store's embedding of the query, when it embeds


class Collection(Protocol):
    label: str  # the store's name in errors ("Astra DB")
    embeds_server_side: bool  # the store computes vectors from text (Astra vectorize)

    async def add(self, documents: Sequence[Document]) -> int:
        """Store the documents (ids set; vectors set unless the store embeds). Returns how many are new."""

    async def search(
        self, *, vector: Sequence[float] | None, text: str | None, k: int, filter: dict[str, Any] | None, with_vectors: bool
    ) -> SearchResult:
        """The `k` closest documents to `vector` (or to `text` when the store embeds), best first."""

    async def scan(self, k: int, filter: dict[str, Any] | None) -> list[Hit]:
        """Up to `k` documents matching `filter`, unranked."""

    async def delete_where(self, key: str, values: Sequence[Any]) -> int:
        """Delete the documents whose metadata `key` is one of `values`."""


def store_failure(label: str, exc: BaseException, action: str) -> FlowError:
    """An HTTP/driver failure as the engine error naming the store."""
    from flowless_engine.http import HttpError, HttpTimeout

    if isinstance(exc, FlowError):
        return exc
    if isinstance(exc, HttpTimeout):
        return ProviderTimeoutError(f"{label} did not answer in time while {action}", provider=label)
    if isinstance(exc, HttpError):
        detail = _error_detail(exc.text) if exc.body else ""
        status = f" (HTTP {exc.status})" if exc.status else ""
        return ProviderError(f"{label} failed while {action}{status}{': ' + detail if detail else ''}", provider=label, status=exc.status,
                             retryable=exc.status in (429, 502, 503, 504) if exc.status else True)
    if isinstance(exc, BlockedURLError):
        return exc
    return ProviderError(f"{label} failed while {action}: {type(exc).__name__}: {exc}", provider=label)


def _error_detail(text: str) -> str:
    """The message of a JSON error body, whatever its shape; never more than 300 characters."""
    import json

    try:
        body = json.loads(text)
    except ValueError:
        return text.strip()[:300]
    found = _first_message(body)
    return (found or text.strip())[:300]


def _first_message(body: Any) -> str:
    if isinstance(body, str):
        return body
    if isinstance(body, list):
        return next((m for m in map(_first_message, body) if m), "")
    if isinstance(body, dict):
        for key in ("errors", "error", "message", "msg", "detail", "reason", "status"):
            if key in body:
                found = _first_message(body[key])
                if found:
                    return found
    return ""


# ---- ranking helpers ------------------------------------------------------------------------


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def mmr(query: Sequence[float], hits: Sequence[Hit], k: int, lambda_mult: float = 0.5) -> list[Hit]:
    """Maximal marginal relevance: each pick balances closeness to the query (weight
    `lambda_mult`) against its closeness to what was already picked. Hits without vectors are
    ranked by their score alone."""
    candidates = [h for h in hits if h.vector is not None]
    if not candidates:
        return list(hits[:k])
    relevance = [cosine(query, h.vector or ()) for h in candidates]
    chosen: list[int] = []
    while len(chosen) < min(k, len(candidates)):
        best, best_value = -1, -math.inf
        for i, hit in enumerate(candidates):
            if i in chosen:
                continue
            redundancy = max((cosine(hit.vector or (), candidates[j].vector or ()) for j in chosen), default=0.0)
            value = lambda_mult * relevance[i] - (1 - lambda_mult) * redundancy
            if value > best_value:
                best, best_value = i, value
        chosen.append(best)
    return [candidates[i] for i in chosen]


class RestStore:
    """What the HTTP stores share: one JSON call through the guarded client, failures named."""

    label = ""
    embeds_server_side = False

    def __init__(self, http: Any, base_url: str, headers: dict[str, str], timeout: float | None = None) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.headers = {"Content-Type": "application/json", "Accept": "application/json", **headers}
        self.timeout = timeout

    async def call(self, method: str, path: str, action: str, body: Any = None, *, missing_ok: bool = False) -> Any:
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        return await json_call(self.http, self.label, method, url, action, headers=self.headers, body=body, timeout=self.timeout,
                               missing_ok=missing_ok)


async def json_call(http: Any, label: str, method: str, url: str, action: str, *, headers: dict[str, str], body: Any = None,
                    content: bytes | None = None, timeout: float | None = None, missing_ok: bool = False) -> Any:
    """One JSON request of an HTTP store through the guarded client: a transport failure or a non-2xx
    answer is the store's failure while `action`; a 404 is None when `missing_ok`."""
    from flowless_engine.http import HttpError, HttpTimeout

    options: dict[str, Any] = {"content": content} if content is not None else {}
    try:
        response = await http.request(method, url, headers=headers, json=body, timeout=timeout, raise_for_status=False, **options)
    except (HttpError, HttpTimeout) as exc:
        raise store_failure(label, exc, action) from exc
    if missing_ok and response.status == 404:
        return None
    if not 200 <= response.status < 300:
        raise store_failure(label, HttpError("", status=response.status, body=response.content), action)
    try:
        return response.json() if response.content else {}
    except ValueError as exc:
        raise ProviderError(f"{label} answered with something that is not JSON while {action}", provider=label) from exc


def uuid_of(document_id: str) -> str:
    """A content id (hex) as the UUID some stores require for point ids."""
    import uuid

    return str(uuid.UUID(hex=(document_id + "0" * 32)[:32]))
