"""Tenant-scoped storage on DynamoDB (PynamoDB models, repositories, the hot path's write).

Names resolve lazily so that importing one repository does not load them all.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY = {
    "configure": "flowless.store.connection",
    "create_tables": "flowless.store.tables",
    "delete_tables": "flowless.store.tables",
    "table_definitions": "flowless.store.tables",
    "StoreError": "flowless.store.errors",
    "NotFound": "flowless.store.errors",
    "Conflict": "flowless.store.errors",
    "InvalidTransition": "flowless.store.errors",
    "FlowTooLargeError": "flowless.store.errors",
    "Flow": "flowless.store.flows",
    "FlowPage": "flowless.store.flows",
    "FlowRepository": "flowless.store.flows",
    "MessageRepository": "flowless.store.messages",
    "Session": "flowless.store.sessions",
    "SessionRepository": "flowless.store.sessions",
    "persist_run": "flowless.store.runs",
    "RunMessageStore": "flowless.store.runs",
    "ApiKeyRecord": "flowless.store.api_keys",
    "ApiKeyRepository": "flowless.store.api_keys",
    "Variable": "flowless.store.variables",
    "VariableRepository": "flowless.store.variables",
    "TenantVariableResolver": "flowless.store.variables",
    "Job": "flowless.store.jobs",
    "JobEvent": "flowless.store.jobs",
    "JobStatus": "flowless.store.jobs",
    "JobRepository": "flowless.store.jobs",
}

__all__ = sorted(_LAZY)

if TYPE_CHECKING:  # pragma: no cover
    from flowless.store.api_keys import ApiKeyRecord, ApiKeyRepository
    from flowless.store.connection import configure
    from flowless.store.errors import Conflict, FlowTooLargeError, InvalidTransition, NotFound, StoreError
    from flowless.store.flows import Flow, FlowPage, FlowRepository
    from flowless.store.jobs import Job, JobEvent, JobRepository, JobStatus
    from flowless.store.messages import MessageRepository
    from flowless.store.runs import RunMessageStore, persist_run
    from flowless.store.sessions import Session, SessionRepository
    from flowless.store.tables import create_tables, delete_tables, table_definitions
    from flowless.store.variables import TenantVariableResolver, Variable, VariableRepository


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flowless.store' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
