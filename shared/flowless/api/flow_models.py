"""Flow bodies and answers in Langflow's shapes (FlowCreate, FlowUpdate, FlowRead, FlowHeader)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from flowless.store.flows import Flow
from flowless.store.tenancy import tenant_user_id

ENDPOINT_NAME = re.compile(r"^[a-zA-Z0-9_-]+$")
# Names are kept unique through DynamoDB sort keys ("NAME#<name>", 1024 bytes at most): 250
# characters fit however many bytes each takes.
MAX_NAME_CHARS = 250
COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


class FlowFields(BaseModel):
    """Fields a client may set. Unknown keys (exports carry `last_tested_version`, `user_id`...)
    are ignored, as Langflow ignores them."""

    model_config = ConfigDict(extra="ignore")

    description: str | None = None
    icon: str | None = None
    icon_bg_color: str | None = None
    gradient: str | None = None
    data: dict[str, Any] | None = None
    is_component: bool | None = False
    endpoint_name: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    tags: list[str] | None = None
    locked: bool | None = False
    mcp_enabled: bool | None = False
    action_name: str | None = None
    action_description: str | None = None
    access_type: Literal["PRIVATE", "PUBLIC"] | None = "PRIVATE"
    flow_type: Literal["workflow", "agent"] | None = None
    folder_id: UUID | None = None

    @field_validator("endpoint_name")
    @classmethod
    def _endpoint_name(cls, value: str | None) -> str | None:
        if value and not ENDPOINT_NAME.match(value):
            raise ValueError("Endpoint name must only contain letters, numbers, hyphens, and underscores")
        return value or None

    @field_validator("icon_bg_color")
    @classmethod
    def _color(cls, value: str | None) -> str | None:
        if value and not COLOR.match(value):
            raise ValueError("Icon background color must be a hex color like #1a2b3c")
        return value

    @field_validator("data")
    @classmethod
    def _data(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            if "nodes" not in value:
                raise ValueError("Flow must have nodes")
            if "edges" not in value:
                raise ValueError("Flow must have edges")
        return value


class FlowCreate(FlowFields):
    id: UUID | None = None
    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)


class FlowUpdate(FlowFields):
    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME_CHARS)


class FlowBatch(BaseModel):
    flows: list[FlowCreate]


def stored_fields(payload: FlowFields, *, exclude: set[str] | None = None, unset: bool = True) -> dict[str, Any]:
    """The payload as repository fields. Nulls mean "leave as is", except that a null (or empty)
    `endpoint_name` clears it, as in Langflow."""
    values = payload.model_dump(mode="json", exclude_unset=unset, exclude=(exclude or set()) | {"id"})
    return {key: value for key, value in values.items() if value is not None or key == "endpoint_name"}


def timestamp(value: datetime | None) -> str | None:
    """Langflow's flow timestamps: ISO 8601, whole seconds, explicit offset."""
    return value.replace(microsecond=0).isoformat() if value else None


def flow_header(flow: Flow) -> dict[str, Any]:
    return {
        "id": flow.id,
        "name": flow.name,
        "folder_id": flow.folder_id,
        "is_component": flow.is_component,
        "endpoint_name": flow.endpoint_name,
        "description": flow.description,
        "access_type": flow.access_type,
        "tags": flow.tags,
        "mcp_enabled": flow.mcp_enabled,
        "action_name": flow.action_name,
        "action_description": flow.action_description,
    }


def flow_read(flow: Flow) -> dict[str, Any]:
    """Langflow's FlowRead; the owner (`user_id`) is the tenant's UUID, `version_token` the store version."""
    return {
        "id": flow.id,
        "name": flow.name,
        "description": flow.description,
        "icon": flow.icon,
        "icon_bg_color": flow.icon_bg_color,
        "gradient": flow.gradient,
        "data": flow.data,
        "is_component": flow.is_component,
        "updated_at": timestamp(flow.updated_at),
        "webhook": flow.webhook,
        "endpoint_name": flow.endpoint_name,
        "tags": flow.tags,
        "locked": flow.locked,
        "mcp_enabled": flow.mcp_enabled,
        "action_name": flow.action_name,
        "action_description": flow.action_description,
        "access_type": flow.access_type,
        "flow_type": flow.flow_type or "workflow",
        "a2a_enabled": False,
        "a2a_card_overrides": None,
        "user_id": tenant_user_id(flow.tenant),
        "folder_id": flow.folder_id,
        "workspace_id": None,
        "version_token": str(flow.version),
    }
