"""The httpx transport behind HttpClient: connections go only to addresses the SSRF guard
vetted at connect time, so a DNS answer that changes after the URL check (rebinding) cannot
reach a refused address. Imported on the first request, never at engine import.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from functools import lru_cache
from typing import Any

import httpcore
import httpx

from flowless_engine.errors import BlockedURLError
from flowless_engine.http import resolve_vetted


@lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle costs ~20 ms; one context serves every loop and thread.
    return httpx.create_ssl_context()


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, *, allow_private: bool, allow_loopback: bool) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._allow_private = allow_private
        self._allow_loopback = allow_loopback

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await asyncio.wait_for(
                resolve_vetted(host, port, allow_private=self._allow_private, allow_loopback=self._allow_loopback),
                timeout,
            )
        except asyncio.TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving '{host}' timed out") from exc
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"cannot resolve host '{host}': {exc}") from exc
        failure: Exception = httpcore.ConnectError(f"no address for host '{host}'")
        for address in addresses:
            try:
                # TLS still verifies `host`: httpcore takes the server name from the URL, not from here.
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure

    async def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> httpcore.AsyncNetworkStream:
        raise BlockedURLError("Refusing to connect to a unix socket", path=path)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport on a connection pool that uses the guarded backend."""

    def __init__(self, *, allow_private: bool, allow_loopback: bool) -> None:
        # No super().__init__(): it would build a pool (and a TLS context) only to be replaced.
        # httpx has no public hook for the network backend; `_pool` is all its methods use.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=_ssl_context(),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=30.0,
            network_backend=GuardedNetworkBackend(allow_private=allow_private, allow_loopback=allow_loopback),
        )

