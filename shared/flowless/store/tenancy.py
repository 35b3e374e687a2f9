"""Tenant ids: the first part of every partition key."""

from __future__ import annotations


def check_tenant(tenant: str) -> str:
    # '#' separates key parts; a tenant containing it could forge another tenant's key prefix.
    if not tenant or "#" in tenant:
        raise ValueError(f"invalid tenant id: {tenant!r}")
    return tenant
