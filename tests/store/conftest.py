"""Helpers for store tests: count DynamoDB calls, move the store's clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from flowless.store import clock
from pynamodb.connection.base import Connection


@pytest.fixture
def ddb_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Names of the DynamoDB operations made from here on (every PynamoDB call goes through here)."""
    calls: list[str] = []
    original = Connection._make_api_call

    def spy(self: Connection, operation_name: str, operation_kwargs: dict) -> dict:
        calls.append(operation_name)
        return original(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "_make_api_call", spy)
    yield calls


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
