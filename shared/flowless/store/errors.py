"""Domain errors of the storage layer. Each has a stable `code` for the API's error mapping."""

from __future__ import annotations


class StoreError(Exception):
    code = "STORE_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(StoreError):
    """The item does not exist for this tenant (another tenant's id is simply not found)."""

    code = "NOT_FOUND"


class Conflict(StoreError):
    """A uniqueness or optimistic-concurrency condition failed. `field` names the clash."""

    code = "CONFLICT"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidTransition(Conflict):
    """A job status change that its current status does not allow."""

    code = "INVALID_TRANSITION"


class InvalidKey(StoreError):
    """An id that cannot be part of a DynamoDB key (too long for the key size limits)."""

    code = "INVALID_KEY"


class FlowTooLargeError(StoreError):
    code = "FLOW_TOO_LARGE"
