"""`/all` (the native component catalogue) and `/config` (public and full)."""

from __future__ import annotations

from tests.api.conftest import OTHER_TENANT, TENANT

PUBLIC_KEYS = {
    "type", "feature_flags", "max_file_size_upload", "event_delivery", "voice_mode_available", "frontend_timeout",
    "mcp_base_url", "enable_extension_reload", "authz_enabled", "catalog_governance_enabled", "substitute_outdated_component_code",
}


def auth(key: str) -> dict[str, str]:
    return {"x-api-key": key}


def test_all_lists_the_supported_components_as_node_templates(client, api_env):
    from flowless_engine.components.registry import is_supported

    response = client.get("/api/v1/all", headers=auth(api_env["key"]))
    assert response.status_code == 200
    body = response.json()
    names = body.pop("component_display_names")
    assert body["input_output"]["ChatInput"]["display_name"] == "Chat Input"
    types = {type_name for category in body.values() for type_name in category}
    assert {"ChatInput", "ChatOutput", "Prompt", "LanguageModelComponent", "Agent"} <= types
    assert all(is_supported(t) for t in types) and set(names) == types
    assert names["ChatInput"] == "Chat Input"
    for category in body.values():
        for template in category.values():
            assert {"template", "display_name", "base_classes", "outputs"} <= set(template)
            assert template["template"]["_type"] == "Component"
    assert client.get(f"/lf/{TENANT}/api/v1/all", headers=auth(api_env["key"])).json()["component_display_names"] == names


def test_all_needs_the_read_scope(client, api_env, scoped_keys):
    assert client.get("/api/v1/all").status_code == 403
    refused = client.get("/api/v1/all", headers=auth(scoped_keys["read"]["without"]))
    assert refused.status_code == 403 and refused.json() == {"detail": "This API key lacks the 'read' scope"}
    assert client.get("/api/v1/all", headers=auth(scoped_keys["read"]["with"])).status_code == 200


def test_config_without_a_key_is_public(client, api_env):
    for headers in ({}, auth("sk-not-a-real-key")):
        body = client.get("/api/v1/config", headers=headers).json()
        assert set(body) == PUBLIC_KEYS
        assert body["type"] == "public" and body["feature_flags"] == {} and body["event_delivery"] == "streaming"
        assert body["voice_mode_available"] is False and body["max_file_size_upload"] == 6


def test_config_with_a_key_is_full(client, api_env):
    body = client.get("/api/v1/config", headers=auth(api_env["run_only_key"])).json()
    assert body["type"] == "full" and PUBLIC_KEYS < set(body)
    assert body["webhook_auth_enable"] is True and body["allow_custom_components"] is False
    assert body["default_folder_name"] == "Starter Project" and body["agentic_experience"] is False
    assert client.get(f"/lf/{TENANT}/api/v1/config", headers=auth(api_env["key"])).json()["type"] == "full"
    assert client.get(f"/lf/{OTHER_TENANT}/api/v1/config", headers=auth(api_env["key"])).status_code == 404
