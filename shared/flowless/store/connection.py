"""Where the store connects: one botocore client for every table, re-pointable after import.

Models read settings when first imported, so Lambda needs no call; tests and the local server
call `configure(settings)` to aim at moto or DynamoDB Local.
"""

from __future__ import annotations

from pynamodb.connection import Connection

from flowless.settings import Settings, get_settings

_settings: Settings | None = None
_connection: Connection | None = None


def configure(settings: Settings | None = None) -> Settings:
    """Point all models (and the shared connection) at `settings`; returns them."""
    from flowless.store.models import point_models  # models use this module's connection

    global _settings, _connection
    previous = store_settings()
    _settings = settings or get_settings()
    if (_settings.region, _settings.dynamodb_endpoint) != (previous.region, previous.dynamodb_endpoint):
        _connection = None
    point_models(_settings)
    return _settings


def store_settings() -> Settings:
    return _settings or get_settings()


def connection() -> Connection:
    """The shared low-level connection: multi-table calls (TransactWrite) and every model's client."""
    global _connection
    if _connection is None:
        settings = store_settings()
        _connection = Connection(region=settings.region, host=settings.dynamodb_endpoint)
    return _connection
