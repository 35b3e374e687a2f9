"""The one outbound HTTP client: timeouts, bounded retries, redirects we follow ourselves,
and an SSRF guard applied to every hop and again at connect time (so a DNS answer that
changes between the check and the connection cannot slip through).

httpx is imported inside the methods: importing this module must cost nothing on a cold start.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import ipaddress
import json as jsonlib
import socket
import sys
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flowless_engine.errors import BlockedURLError

if TYPE_CHECKING:  # pragma: no cover
    import httpx

    from flowless_engine.settings import EngineSettings

# httpx's __init__ imports its command line (`httpx._main`: click, rich, pygments, ~50 ms) when
# those happen to be installed. The engine never uses it: without the entry, `import httpx` skips
# it as it does where they are missing (the Lambda layers). The `httpx` console script is unaffected.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[assignment]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
USER_AGENT = "flowless/0.1"

# Cloud metadata services: refused whatever the configuration says.
_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
_METADATA_HOSTS = frozenset(
    {"metadata.google.internal", "metadata.goog", "metadata", "instance-data", "instance-data.ec2.internal"}
)
_PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7", "fec0::/10")
)
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Headers that must not follow a redirect to another origin.
_CREDENTIAL_MARKERS = ("auth", "key", "token", "secret", "cookie")


class HttpTimeout(Exception):
    """The remote did not answer (or stopped sending) within the timeout."""


class HttpError(Exception):
    """A non-2xx answer (`status` set) or a transport failure (`status` None)."""

    def __init__(self, message: str, *, status: int | None = None, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body
        self.headers = headers or {}

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names
    content: bytes = b""

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)


# --- the SSRF guard -------------------------------------------------------------------------


# What a refusal tells the user to change (the service reads the environment; a library user
# may pass EngineSettings). Metadata, link-local and multicast addresses have no such setting.
LOOPBACK_SETTING = "set FLOWLESS_ALLOW_LOOPBACK=true (EngineSettings(allow_loopback=True)) to allow it"
PRIVATE_SETTING = "set FLOWLESS_ALLOW_PRIVATE_NETWORKS=true (EngineSettings(allow_private_networks=True)) to allow it"


def address_refusal(ip: IPAddress, *, allow_private: bool = False, allow_loopback: bool = False) -> str | None:
    """Why connecting to `ip` is refused, or None when it is allowed."""
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv4 address wrapped in IPv6 reaches the IPv4 host: judge that host.
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return address_refusal(embedded, allow_private=allow_private, allow_loopback=allow_loopback)
    if ip in _METADATA_ADDRESSES:
        return "it is a cloud metadata address; no setting allows it"
    if ip.is_link_local:
        return "it is link-local; no setting allows it"
    if ip.is_multicast:
        return "it is multicast; no setting allows it"
    if ip.is_loopback:
        return None if allow_loopback or allow_private else f"it is a loopback address, not allowed here; {LOOPBACK_SETTING}"
    if ip.is_unspecified or ip in _THIS_NETWORK or ip.is_reserved:
        return "it is not a routable address; no setting allows it"
    if any(ip in net for net in _PRIVATE_NETWORKS):
        return None if allow_private else f"it is a private address, not allowed here; {PRIVATE_SETTING}"
    return None


def _split_host(url: str) -> tuple[str, int]:
    """Scheme and host checks that need no DNS. Returns (host, port)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BlockedURLError(f"Refusing malformed URL: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        # Details never carry the URL itself: its query may hold a credential.
        raise BlockedURLError(f"Refusing URL with scheme '{parts.scheme}': only http and https are allowed", scheme=parts.scheme)
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise BlockedURLError("Refusing URL without a host")
    if host in _METADATA_HOSTS:
        raise BlockedURLError(f"Refusing to connect to '{host}': it is a cloud metadata host; no setting allows it", host=host)
    return host, port or (443 if parts.scheme == "https" else 80)


def _vet_addresses(host: str, infos: list[tuple[Any, ...]], *, allow_private: bool, allow_loopback: bool) -> list[str]:
    """Refuse the host if ANY of its addresses is refused; return the addresses to connect to."""
    addresses: list[str] = []
    for info in infos:
        raw = info[4][0].split("%", 1)[0]  # drop an IPv6 zone id
        reason = address_refusal(ipaddress.ip_address(raw), allow_private=allow_private, allow_loopback=allow_loopback)
        if reason is not None:
            raise BlockedURLError(f"Refusing to connect to '{host}' ({raw}): {reason}", host=host, address=raw)
        if raw not in addresses:
            addresses.append(raw)
    return addresses


def check_url(url: str, *, allow_private: bool = False, allow_loopback: bool = False) -> None:
    """Blocking form of the guard (resolves the host). Raises BlockedURLError."""
    host, port = _split_host(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise HttpError(f"cannot resolve host '{host}': {exc}") from exc
    _vet_addresses(host, infos, allow_private=allow_private, allow_loopback=allow_loopback)


async def resolve_vetted(host: str, port: int, *, allow_private: bool, allow_loopback: bool) -> list[str]:
    """The host's addresses, resolved off the event loop; BlockedURLError if any is refused."""
    literal = _ip_literal(host)
    if literal is not None:  # nothing to resolve: no trip through the executor's thread
        return _vet_addresses(host, [(None, None, None, None, (literal,))], allow_private=allow_private, allow_loopback=allow_loopback)
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return _vet_addresses(host, infos, allow_private=allow_private, allow_loopback=allow_loopback)


def _ip_literal(host: str) -> str | None:
    """`host` when it is an IP address (v6 without brackets, as urlsplit gives it), else None."""
    try:
        return str(ipaddress.ip_address(host.split("%", 1)[0]))
    except ValueError:
        return None


def _cache_missing_sniffio() -> None:
    """httpcore runs `import sniffio` several times per request to learn the async library, and
    falls back to asyncio when it is missing (anyio 4 no longer installs it; the engine layer
    does not ship it). A failed import is not cached: each one searched every sys.path entry
    again. Recording the absence once makes those imports fail at once, with the same result."""
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


# --- the client -----------------------------------------------------------------------------


def _origin(url: "httpx.URL") -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


def _redirect_request(method: str, status: int, headers: dict[str, str], same_origin: bool) -> tuple[str, dict[str, str], bool]:
    """Method, headers and whether the body is kept when following a redirect (as browsers do)."""
    keep_body = status in (307, 308)
    if not keep_body and method != "HEAD":
        method = "GET"
    if not same_origin:
        headers = {k: v for k, v in headers.items() if not any(m in k.lower() for m in _CREDENTIAL_MARKERS)}
    if not keep_body:
        headers = {k: v for k, v in headers.items() if k.lower() not in ("content-type", "content-length")}
    return method, headers, keep_body


class HttpClient:
    """Shared by every component and provider. Safe to use from several event loops in turn."""

    def __init__(
        self,
        timeout_s: float = 60,
        retries: int = 2,
        allow_private: bool = False,
        allow_loopback: bool = False,
        *,
        backoff_s: float = 0.5,
        max_retry_wait_s: float = 10.0,
        max_response_bytes: int = 32 * 1024 * 1024,
    ) -> None:
        self.timeout_s = timeout_s
        self.retries = max(0, retries)
        self.allow_private = allow_private
        self.allow_loopback = allow_loopback or allow_private
        self.backoff_s = backoff_s
        self.max_retry_wait_s = max_retry_wait_s
        self.max_response_bytes = max_response_bytes
        # One httpx client per event loop: a pooled connection is bound to the loop that opened it.
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = weakref.WeakKeyDictionary()

    async def check_url(self, url: str) -> None:
        """The SSRF guard; resolves the host off the event loop. Raises BlockedURLError."""
        host, port = _split_host(url)
        try:
            await resolve_vetted(host, port, allow_private=self.allow_private, allow_loopback=self.allow_loopback)
        except socket.gaierror as exc:
            raise HttpError(f"cannot resolve host '{host}': {exc}") from exc

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        json: Any = None,
        content: bytes | str | None = None,
        timeout: float | None = None,
        raise_for_status: bool = True,
        follow_redirects: bool = True,
    ) -> HttpResponse:
        import httpx

        response = await self._open(method, url, headers, json, content, timeout, follow_redirects)
        try:
            body = await self._read_body(response)
        except httpx.TimeoutException as exc:
            raise HttpTimeout(f"{response.url.host} did not finish answering in time") from exc
        except httpx.TransportError as exc:
            raise HttpError(f"reading the answer from {response.url.host} failed: {exc}") from exc
        finally:
            await response.aclose()
        result = HttpResponse(response.status_code, {k.lower(): v for k, v in response.headers.items()}, body)
        if raise_for_status and not 200 <= result.status < 300:
            raise HttpError(f"{response.url.host} returned {result.status}", status=result.status, body=body, headers=result.headers)
        return result

    async def stream_lines(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        json: Any = None,
        timeout: float | None = None,
    ) -> AsyncIterator[str]:
        """Lines of a streamed body (SSE, NDJSON). Retries happen only before the first byte;
        `timeout` bounds connecting and every wait between two chunks."""
        # aclosing: a consumer that stops early closes the response now, not when the generator is collected.
        async with contextlib.aclosing(self._stream(method, url, headers, json, None, timeout, lines=True)) as lines:
            async for line in lines:
                yield line

    async def stream_bytes(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        timeout: float | None = None,
    ) -> AsyncIterator[bytes]:
        """Chunks of a 2xx body, for callers that enforce their own size limit (git packs).
        Non-2xx answers raise HttpError as `request` does."""
        async with contextlib.aclosing(self._stream(method, url, headers, None, content, timeout, lines=False)) as chunks:
            async for chunk in chunks:
                yield chunk

    async def _stream(self, method: str, url: str, headers: dict[str, str] | None, json: Any, content: bytes | None,
                      timeout: float | None, *, lines: bool) -> AsyncIterator[Any]:
        import httpx

        response = await self._open(method, url, headers, json, content, timeout)
        try:
            host = response.url.host
            if not 200 <= response.status_code < 300:
                body = await self._read_body(response)
                raise HttpError(f"{host} returned {response.status_code}", status=response.status_code, body=body,
                                headers={k.lower(): v for k, v in response.headers.items()})
            try:
                async for part in (response.aiter_lines() if lines else response.aiter_bytes()):
                    yield part
            except httpx.TimeoutException as exc:
                raise HttpTimeout(f"{host} stopped sending for longer than the timeout") from exc
            except httpx.TransportError as exc:
                raise HttpError(f"the stream from {host} was interrupted: {exc}") from exc
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        """Close the client of the running loop (a client is bound to the loop that opened it)."""
        loop = asyncio.get_running_loop()
        client = self._clients.pop(loop, None)
        if client is not None:
            await client.aclose()

    # -- internals --

    def _client(self) -> "httpx.AsyncClient":
        import httpx

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None or client.is_closed:
            from flowless_engine._guarded_transport import GuardedTransport

            _cache_missing_sniffio()

            client = httpx.AsyncClient(
                transport=GuardedTransport(allow_private=self.allow_private, allow_loopback=self.allow_loopback),
                follow_redirects=False,
                trust_env=False,
                headers={"user-agent": USER_AGENT},
            )
            self._clients[loop] = client
        return client

    async def _open(self, method: str, url: str, headers: dict[str, str] | None, json: Any, content: bytes | str | None, timeout: float | None,
                    follow_redirects: bool = True) -> "httpx.Response":
        """Send with retries and checked redirects; the returned response is open (streaming)."""
        import httpx

        limit = timeout if timeout is not None else self.timeout_s
        for attempt in range(self.retries + 1):
            try:
                response = await self._follow(method, url, dict(headers or {}), json, content, httpx.Timeout(limit),
                                               MAX_REDIRECTS if follow_redirects else 0)
            except httpx.TimeoutException as exc:
                raise HttpTimeout(f"{urlsplit(url).hostname} did not answer within {limit:g}s") from exc
            except httpx.TransportError as exc:
                if attempt == self.retries:
                    raise HttpError(f"request to {urlsplit(url).hostname} failed: {exc!r}") from exc
                await asyncio.sleep(self._backoff(attempt))
                continue
            if response.status_code in RETRYABLE_STATUSES and attempt < self.retries:
                delay = self._retry_delay(response, attempt)
                if delay is not None:
                    await response.aclose()
                    await asyncio.sleep(delay)
                    continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    async def _follow(self, method: str, url: str, headers: dict[str, str], json: Any, content: bytes | str | None, timeout: "httpx.Timeout",
                      max_redirects: int = MAX_REDIRECTS) -> "httpx.Response":
        """Send, following up to `max_redirects` redirects (0: the redirect itself is the answer)."""
        client = self._client()
        for hop in range(MAX_REDIRECTS + 1):
            await self.check_url(url)
            request = client.build_request(method, url, headers=headers, json=json, content=content, timeout=timeout)
            response = await client.send(request, stream=True)
            location = response.headers.get("location")
            if response.status_code not in REDIRECT_STATUSES or not location or hop >= max_redirects < MAX_REDIRECTS:
                return response
            await response.aclose()
            target = response.url.join(location)
            method, headers, keep_body = _redirect_request(
                method, response.status_code, headers, _origin(target) == _origin(response.url)
            )
            if not keep_body:
                json = content = None
            url = str(target)
        raise HttpError(f"too many redirects (more than {MAX_REDIRECTS}) from {urlsplit(url).hostname}", status=response.status_code)

    async def _read_body(self, response: "httpx.Response") -> bytes:
        parts: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.max_response_bytes:
                raise HttpError(f"the answer from {response.url.host} exceeds {self.max_response_bytes} bytes", status=response.status_code)
            parts.append(chunk)
        return b"".join(parts)

    def _backoff(self, attempt: int) -> float:
        import random

        delay = self.backoff_s * (2**attempt)
        return min(self.max_retry_wait_s, delay + random.uniform(0, self.backoff_s))

    def _retry_delay(self, response: "httpx.Response", attempt: int) -> float | None:
        """Seconds to wait before retrying, or None when the server asks for longer than we accept."""
        asked = _retry_after_s(response.headers)
        if asked is None:
            return self._backoff(attempt)
        return asked if asked <= self.max_retry_wait_s else None


def _retry_after_s(headers: "httpx.Headers") -> float | None:
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from datetime import datetime, timezone
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


@lru_cache(maxsize=16)
def default_client(settings: "EngineSettings") -> HttpClient:
    """The client configured by the engine settings, one per settings object."""
    return HttpClient(
        timeout_s=settings.http_timeout_s,
        retries=settings.http_retries,
        allow_private=settings.allow_private_networks,
        allow_loopback=settings.allow_loopback,
    )
