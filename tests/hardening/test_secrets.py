"""Secrets: API keys are stored only as SHA-256 hashes, variable values only encrypted (the raw
DynamoDB items are read and searched for the plaintext), and nothing secret reaches the logs: all
logging output (every logger at DEBUG, and the Powertools JSON lines on stdout) during runs that
carry a literal API key tweak, a credential variable and the x-api-key header is searched for
those strings."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
import pytest
from fastapi.testclient import TestClient

from tests.hardening.conftest import CHAT_FLOW, headers, raw_dump, raw_items, run_body

LITERAL_MODEL_KEY = "sk-literal-model-key-tweaked-0123456789"
CREDENTIAL_VALUE = "sk-credential-from-variable-9876543210"
GENERIC_VALUE = "generic-variable-plaintext-value-42"
MODEL_NODE = "LanguageModelComponent-bc003"


def test_api_keys_are_stored_only_as_hashes(app_client, api_env):
    made = app_client.post("/api/v1/api_key/", json={"name": "extra"}, headers=headers(api_env["key"])).json()["api_key"]
    plaintexts = [api_env["key"], api_env["other_key"], api_env["run_only_key"], made]
    stored = raw_dump("api-keys")
    for plaintext in plaintexts:
        assert plaintext not in stored
        assert plaintext[8:] not in stored  # not even the part after the shown prefix
        assert hashlib.sha256(plaintext.encode()).hexdigest() in stored
    assert len(raw_items("api-keys")) == len(plaintexts)


def test_variable_values_are_stored_only_encrypted(app_client, api_env):
    for name, value, kind in (("CRED", CREDENTIAL_VALUE, "Credential"), ("GEN", GENERIC_VALUE, "Generic")):
        assert app_client.post("/api/v1/variables/", json={"name": name, "value": value, "type": kind}, headers=headers(api_env["key"])).status_code == 201
    items = raw_items("variables")
    assert len(items) == 2
    for item in items:
        blob = item["value"]["B"]
        assert CREDENTIAL_VALUE.encode() not in blob and GENERIC_VALUE.encode() not in blob
        assert len(blob) > len(GENERIC_VALUE)  # nonce + ciphertext + tag
    dump = raw_dump("variables")
    assert CREDENTIAL_VALUE not in dump and GENERIC_VALUE not in dump
    # The API never shows a credential's value either; a generic one it does.
    listed = {v["name"]: v["value"] for v in app_client.get("/api/v1/variables/", headers=headers(api_env["key"])).json()}
    assert listed == {"CRED": None, "GEN": GENERIC_VALUE}


class Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
            self.lines.append(repr(record.__dict__))  # extra fields too (tenant, flow, session...)
        except Exception as exc:  # a record that cannot format is itself worth seeing
            self.lines.append(f"unformattable record: {exc!r}")


@pytest.fixture
def all_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Everything]:
    """Every logger (including non-propagating ones, like Powertools') at DEBUG into one handler."""
    handler = Everything()
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    loggers = [logging.getLogger()] + [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    for each in loggers:
        monkeypatch.setattr(each, "level", logging.DEBUG)
        each.addHandler(handler)
    monkeypatch.setattr(logging.root.manager, "disable", 0)
    yield handler
    for each in loggers:
        each.removeHandler(handler)


def test_nothing_secret_is_logged(api_env, files_bucket, all_logs, capfd, monkeypatch):
    from flowless.api.app import create_app
    from flowless.observability import instrument

    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")
    with TestClient(instrument(create_app()), raise_server_exceptions=False) as client:
        all_logs.lines.clear()  # from here on: the requests
        key = headers(api_env["key"])
        flow_id = api_env["flows"][CHAT_FLOW]
        assert client.post("/api/v1/variables/", json={"name": "MY_MODEL_KEY", "value": CREDENTIAL_VALUE, "type": "Credential"}, headers=key).status_code == 201
        runs = [
            run_body("with a literal key", tweaks={MODEL_NODE: {"api_key": LITERAL_MODEL_KEY}}),
            run_body("with a credential", tweaks={MODEL_NODE: {"api_key": {"value": "MY_MODEL_KEY", "load_from_db": True}}}),
        ]
        for body in runs:
            for stream in ("false", "true"):
                answer = client.post(f"/api/v1/run/{flow_id}?stream={stream}", json=body, headers=key)
                assert answer.status_code == 200, answer.text
        # Failures log more (warnings, stack traces): a failing model, a bad key, a 404.
        api_env["server"].fail_next(1, status=401)
        assert client.post(f"/api/v1/run/{flow_id}", json=runs[0], headers=key).status_code == 422  # the provider refused the key
        assert client.post(f"/api/v1/run/{flow_id}", json=runs[0], headers={"x-api-key": api_env["key"] + "x"}).status_code == 403
        assert client.post("/api/v1/run/nope", json=runs[1], headers={"Authorization": f"Bearer {api_env['key']}"}).status_code == 404
        assert client.get("/api/v1/variables/", headers=key).status_code == 200

    # The secrets really were used: the model server saw both as bearer tokens.
    seen = [r.headers.get("authorization", "") for r in api_env["server"].requests]
    assert f"Bearer {LITERAL_MODEL_KEY}" in seen and f"Bearer {CREDENTIAL_VALUE}" in seen
    out, err = capfd.readouterr()
    logged = "\n".join(all_logs.lines) + out + err
    assert len(all_logs.lines) > 20, "nothing was captured"
    for secret in (LITERAL_MODEL_KEY, CREDENTIAL_VALUE, api_env["key"], api_env["key"][8:]):
        assert secret not in logged, f"{secret[:12]}… appears in the logs"


def test_a_failing_provider_error_does_not_echo_the_key(app_client, api_env):
    """Provider errors go back to the caller and into logs: they name the provider, not the key."""
    api_env["server"].fail_next(1, status=401)
    answer = app_client.post(f"/api/v1/run/{api_env['flows'][CHAT_FLOW]}", json=run_body("x", tweaks={MODEL_NODE: {"api_key": LITERAL_MODEL_KEY}}), headers=headers(api_env["key"]))
    assert answer.status_code == 422 and answer.json()["detail"]["code"] == "PROVIDER_AUTH_FAILED"
    assert LITERAL_MODEL_KEY not in answer.text
