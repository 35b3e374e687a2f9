from __future__ import annotations

import pytest
from flowless.settings import Settings, get_settings, reset_settings_cache


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.region == "us-east-1"
    assert settings.dynamodb_endpoint is None
    assert settings.table_names() == {
        "flows": "flowless-flows",
        "messages": "flowless-messages",
        "sessions": "flowless-sessions",
        "api-keys": "flowless-api-keys",
        "variables": "flowless-variables",
        "jobs": "flowless-jobs",
    }
    assert (settings.session_ttl_minutes, settings.message_retention_hours) == (30, 168)
    assert (settings.auth_cache_seconds, settings.flow_cache_size) == (30, 256)
    assert (settings.stage, settings.version) == ("dev", "0.1.0")
    assert settings.kms_key_id is None


def test_environment_overrides() -> None:
    settings = Settings.from_env(
        {
            "AWS_REGION": "eu-west-1",
            "AWS_DEFAULT_REGION": "us-west-2",
            "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000",
            "FLOWLESS_TABLE_PREFIX": "flowless-prod",
            "MESSAGES_TABLE": "custom-messages",
            "FLOWLESS_SESSION_TTL_MINUTES": "5",
            "FLOWLESS_MESSAGE_RETENTION_HOURS": "24",
            "FLOWLESS_AUTH_CACHE_SECONDS": "0",
            "FLOWLESS_FLOW_CACHE_SIZE": "10",
            "FLOWLESS_STAGE": "prod",
            "FLOWLESS_KMS_KEY_ID": "alias/flowless",
        }
    )
    assert settings.region == "eu-west-1"
    assert settings.dynamodb_endpoint == "http://127.0.0.1:8000"
    assert settings.flows_table == "flowless-prod-flows"
    assert settings.messages_table == "custom-messages"
    assert settings.api_keys_table == "flowless-prod-api-keys"
    assert (settings.session_ttl_minutes, settings.message_retention_hours) == (5, 24)
    assert (settings.auth_cache_seconds, settings.flow_cache_size) == (0, 10)
    assert settings.stage == "prod"
    assert settings.kms_key_id == "alias/flowless"


def test_default_region_fallback() -> None:
    assert Settings.from_env({"AWS_DEFAULT_REGION": "ap-south-1"}).region == "ap-south-1"


def test_settings_are_frozen() -> None:
    with pytest.raises(AttributeError):
        Settings().region = "x"  # type: ignore[misc]


def test_cached_until_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWLESS_STAGE", "one")
    reset_settings_cache()
    assert get_settings().stage == "one"
    monkeypatch.setenv("FLOWLESS_STAGE", "two")
    assert get_settings().stage == "one"
    reset_settings_cache()
    assert get_settings().stage == "two"
    monkeypatch.undo()
    reset_settings_cache()
