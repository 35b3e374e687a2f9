"""Short-lived copies of the records every run reads (a flow's record, the tenant's variables),
kept by a warm process so that a run's only DynamoDB call is its write.

A copy lives `FLOWLESS_READ_CACHE_SECONDS` (default 2; 0 turns it off). Writes made through this
process (the local server, a test) drop every copy at once; another Lambda container sees a saved
flow or variable at most that many seconds late — the same trade as the API-key cache. Keys start
with the tenant, like the storage keys they stand for.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")
MAX_ENTRIES = 4096


class ReadCache:
    def __init__(self) -> None:
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        self._generation = 0
        self._lock = threading.Lock()

    def get_or_load(self, key: Hashable, load: Callable[[], T]) -> T:
        """The copy of `key` younger than the configured lifetime, else `load()` (kept unless a
        write happened while it loaded: then it may already be outdated)."""
        lifetime = _lifetime()
        if lifetime <= 0:
            return load()
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]  # type: ignore[no-any-return]
        generation = self._generation
        value = load()
        with self._lock:
            if generation == self._generation:
                if len(self._entries) >= MAX_ENTRIES:
                    self._entries.clear()
                self._entries[key] = (now + lifetime, value)
        return value

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()


def _lifetime() -> float:
    from flowless.settings import get_settings

    return get_settings().read_cache_seconds


FLOWS = ReadCache()  # (tenant, id or endpoint name) -> Flow without its data, or None
VARIABLES = ReadCache()  # (tenant, name) -> decrypted value, or None
APPROVALS = ReadCache()  # (tenant,) -> frozenset of the SHA-256s of the tenant's approved code


def clear_read_caches() -> None:
    """Forget every copy (tests that empty the tables directly)."""
    FLOWS.invalidate()
    VARIABLES.invalidate()
    APPROVALS.invalidate()
