"""Shared fixtures: fake AWS credentials and one in-memory DynamoDB (moto) for the session.

`ddb` gives each test empty tables (moto is reset, tables recreated: a few milliseconds) and
points the store at them through `flowless.store.configure`.
"""

from __future__ import annotations

import dataclasses
import urllib.request
from collections.abc import Iterator

import pytest
from flowless.settings import Settings

def pytest_configure(config: pytest.Config) -> None:
    """Every AWS call a function's code makes is recorded and checked against its IAM policy in
    template.yaml (tests/support/iam/recorder.py). FLOWLESS_IAM_RECORD=0 turns it off (to compare timings)."""
    import os

    if os.environ.get("FLOWLESS_IAM_RECORD", "1") == "0":
        return
    from tests.support.iam.recorder import Plugin

    config.pluginmanager.register(Plugin(), "flowless-iam")


FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def aws_env() -> Iterator[None]:
    """Fake credentials and region, so nothing can reach a real AWS account."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in FAKE_AWS_ENV.items():
            patch.setenv(name, value)
        patch.delenv("AWS_PROFILE", raising=False)
        yield


@pytest.fixture(scope="session")
def moto_endpoint(aws_env: None) -> Iterator[str]:
    from flowless.local.dynamodb import start_embedded_dynamodb

    endpoint, stop = start_embedded_dynamodb()
    yield endpoint
    stop()


@pytest.fixture
def ddb(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Empty tables on the session's moto server; yields the settings the store now uses."""
    from flowless.auth.keys import clear_auth_cache
    from flowless.store import configure, create_tables
    from flowless.store.read_cache import clear_read_caches

    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")).close()
    settings = dataclasses.replace(
        Settings.from_env(),
        dynamodb_endpoint=moto_endpoint,
        local_key_file=str(tmp_path_factory.getbasetemp() / "local.key"),
    )
    configure(settings)
    create_tables()
    clear_auth_cache()
    clear_read_caches()  # the tables were emptied behind the store's back
    yield settings
    clear_auth_cache()
    clear_read_caches()


@pytest.fixture
def ddb_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Names of the DynamoDB operations made from here on (every PynamoDB call goes through here)."""
    from pynamodb.connection.base import Connection

    calls: list[str] = []
    original = Connection._make_api_call

    def spy(self: Connection, operation_name: str, operation_kwargs: dict) -> dict:
        calls.append(operation_name)
        return original(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "_make_api_call", spy)
    yield calls
