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


# The longest test files, started first: with `make test`'s workers (a file per worker) a long
# file left for the end keeps one worker busy while the other waits.
LONGEST_FIRST = (
    "tests/vectors/test_store_contract.py", "tests/hardening/test_fuzz_api.py", "tests/iam/test_least_privilege.py",
    "tests/hardening/test_soak.py", "tests/hardening/test_fuzz_engine.py", "tests/hardening/test_custom_code_api.py",
    "tests/e2e/test_local_server.py", "tests/integration/test_dynamodb_local.py", "tests/unit/components/test_langflow_fidelity.py",
    "tests/client/test_js_client.py", "tests/hardening/test_concurrency.py", "tests/handlers/test_invoke.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))  # stable: a file's tests stay in order


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
