"""Helpers for store tests: move the store's clock (`ddb_calls` is in tests/conftest.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flowless.store import clock


class Clock:
    def __init__(self) -> None:
        self.offset = timedelta()
        self._real_now = clock.now

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)

    def now(self) -> datetime:
        return self._real_now() + self.offset


@pytest.fixture
def travel(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """`travel.advance(minutes=31)` moves the store's notion of now forward."""
    fake = Clock()
    monkeypatch.setattr(clock, "now", fake.now)
    return fake
