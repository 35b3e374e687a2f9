"""Time for the store. One function to patch when a test needs to travel in time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


def now() -> datetime:
    return datetime.now(timezone.utc)


def after(*, minutes: float = 0, hours: float = 0, start: datetime | None = None) -> datetime:
    return (start or now()) + timedelta(minutes=minutes, hours=hours)


def parse_timestamp(value: str | datetime) -> datetime:
    """Langflow's 'YYYY-MM-DD HH:MM:SS.ffffff UTC' or ISO 8601, as an aware UTC datetime."""
    if isinstance(value, datetime):
        parsed = value
    else:
        text = value.strip()
        if text.endswith(" UTC"):
            text = text[:-4] + "+00:00"
        elif text.endswith("Z"):
            text = text[:-1] + "+00:00"
        parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def langflow_timestamp(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def sortable_timestamp(value: datetime) -> str:
    """Fixed-width ISO with microseconds, so string order is time order (sort keys)."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
