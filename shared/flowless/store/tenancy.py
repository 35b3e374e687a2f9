"""Tenant ids: the first part of every partition key; session ids: part of sort keys."""

from __future__ import annotations

import uuid

from flowless.store.errors import InvalidKey

# A session's sort key is "<flow id>#<session id>" and DynamoDB allows 1024 bytes per sort key:
# 200 characters stay within it however many bytes each takes in UTF-8.
MAX_SESSION_ID_CHARS = 200


def check_tenant(tenant: str) -> str:
    # '#' separates key parts; a tenant containing it could forge another tenant's key prefix.
    if not tenant or "#" in tenant:
        raise ValueError(f"invalid tenant id: {tenant!r}")
    return tenant


def check_session_id(session_id: str) -> str:
    """Raises InvalidKey (422) for a session id longer than MAX_SESSION_ID_CHARS."""
    if len(session_id) > MAX_SESSION_ID_CHARS:
        raise InvalidKey(f"session_id has {len(session_id)} characters; the limit is {MAX_SESSION_ID_CHARS}")
    return session_id


# Langflow types owners and projects as UUIDs (its SDK validates them): a tenant's user id and its
# default project's id are derived from the tenant name, so they are stable without being stored.
_IDENTITY_NAMESPACE = uuid.UUID("6f3c2a0e-3d1b-5c7e-9a4f-1b2d3e4f5a6b")


def tenant_user_id(tenant: str) -> str:
    """The tenant's `user_id` in Langflow's shapes: a UUID derived from the tenant name."""
    return str(uuid.uuid5(_IDENTITY_NAMESPACE, f"user/{tenant}"))


def default_project_id(tenant: str) -> str:
    """The id of the tenant's default project, where flows without a project live."""
    return str(uuid.uuid5(_IDENTITY_NAMESPACE, f"project/{tenant}/default"))
