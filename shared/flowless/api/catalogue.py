"""`/all` (the component catalogue: what Flowless runs natively) and `/config` (what a
Langflow client should assume about this server)."""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import APIRouter, Depends, Request

from flowless.api.auth import Caller, api_key_from, authenticate, requires
from flowless.api.body import MAX_BODY_BYTES
from flowless.api.errors import ApiError

router = APIRouter(tags=["Base"])

PUBLIC_CONFIG: dict[str, Any] = {
    "feature_flags": {},
    "max_file_size_upload": MAX_BODY_BYTES // (1024 * 1024),  # MB; a Lambda request body's limit
    "event_delivery": "streaming",
    "voice_mode_available": False,
    "frontend_timeout": 0,
    "mcp_base_url": None,
    "enable_extension_reload": False,
    "authz_enabled": False,
    "catalog_governance_enabled": False,
    # Flowless never runs a flow's `code`: every component is its own native implementation.
    "substitute_outdated_component_code": True,
}
FULL_CONFIG: dict[str, Any] = {
    "serialization_max_items_length": 1000,
    "serialization_max_text_length": 20000,
    "auto_saving": True,
    "auto_saving_interval": 1000,
    "health_check_max_retries": 5,
    "webhook_polling_interval": 5000,
    "public_flow_cleanup_interval": 3600,
    "public_flow_expiration": 86400,
    "webhook_auth_enable": True,  # webhooks need an API key, like every other route
    "default_folder_name": "Starter Project",
    "hide_getting_started_progress": False,
    "allow_custom_components": False,
    "embedded_mode": False,
    "custom_component_admin_only": False,
    "a2a_enabled": False,
    "agentic_experience": False,
}


@cache
def component_catalogue() -> dict[str, Any]:
    """Langflow's `/all` shape, built once per container: the registry does not change at run time."""
    from flowless_engine.components.registry import catalogue

    categories = catalogue()
    names = {type_name: template.get("display_name") or type_name for group in categories.values() for type_name, template in group.items()}
    return {**categories, "component_display_names": names}


def optional_caller(request: Request) -> Caller | None:
    """The caller when a usable key is sent; None when no key or an unusable one."""
    if not api_key_from(request):
        return None
    try:
        return authenticate(request)
    except ApiError as exc:
        if exc.status == 403:
            return None
        raise


@router.get("/all")
def all_components(caller: Caller = Depends(requires("read"))) -> dict[str, Any]:
    return component_catalogue()


@router.get("/config")
def config(caller: Caller | None = Depends(optional_caller)) -> dict[str, Any]:
    if caller is None:
        return {"type": "public", **PUBLIC_CONFIG}
    return {"type": "full", **PUBLIC_CONFIG, **FULL_CONFIG}
