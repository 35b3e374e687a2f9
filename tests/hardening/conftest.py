"""Hardening fixtures: the API test environment (two tenants over moto, the example flows, the
model server), the files bucket, and helpers shared by the hardening tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

# The API suite's fixtures, reused as they are (pytest registers imported fixtures).
from tests.api.conftest import (  # noqa: F401
    OTHER_TENANT,
    TENANT,
    api_env,
    client,
    model_server,
    scoped_keys,
    store_flow,
    stream_frames,
)

ECHO_FLOW = "Echo Prompt"  # no model: ChatInput → Prompt → ChatOutput
CHAT_FLOW = "Basic Chat"  # ChatInput → Prompt → LanguageModel (the model server) → ChatOutput


@pytest.fixture
def files_bucket(api_env: dict[str, Any], moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The files bucket on the session's moto server (emptied with it before each test)."""
    from flowless.store.files import ensure_files_bucket

    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_endpoint)
    assert ensure_files_bucket()


@pytest.fixture
def app_client(api_env: dict[str, Any], files_bucket: None) -> Iterator[TestClient]:
    """The full app (every route group) with S3 available, server exceptions as 500 answers."""
    from flowless.api.app import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as test_client:
        yield test_client


def headers(key: str | None) -> dict[str, str]:
    return {"x-api-key": key} if key else {}


def run_body(text: str, **extra: Any) -> dict[str, Any]:
    return {"input_value": text, "input_type": "chat", "output_type": "chat", **extra}


def answer_text(response: Any) -> str:
    return response.json()["outputs"][0]["outputs"][0]["results"]["message"]["text"]


def messages_of(client: TestClient, key: str, **query: Any) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/monitor/messages", params={"limit": 200, **query}, headers=headers(key))
    assert answer.status_code == 200, answer.text
    return answer.json()


def raw_items(table: str) -> list[dict[str, Any]]:
    """Every item of a logical table as DynamoDB stores it (attribute-value JSON), by Scan."""
    from flowless.store.connection import connection, store_settings

    client = connection().client
    name = store_settings().table_names()[table]
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": name}
    while True:
        page = client.scan(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def raw_dump(*tables: str) -> str:
    """Tables' raw items as one text (binary values as their bytes, decoded leniently)."""

    def default(value: Any) -> str:
        return value.decode("latin-1") if isinstance(value, (bytes, bytearray)) else str(value)

    return json.dumps({table: raw_items(table) for table in tables}, default=default)
