"""Engine errors. Each carries a stable `code` so the service can map it to an HTTP status."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any


class FlowError(Exception):
    """Base of every error the engine raises on purpose."""

    code = "FLOW_ERROR"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.details}


@dataclass
class Problem:
    """One validation finding, located by node id and (when relevant) field name."""

    kind: str
    message: str
    node_id: str | None = None
    field: str | None = None
    extra: dict[str, Any] = dc_field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "message": self.message}
        if self.node_id is not None:
            out["node_id"] = self.node_id
        if self.field is not None:
            out["field"] = self.field
        out.update(self.extra)
        return out


class InvalidFlowError(FlowError):
    """The flow JSON is malformed or its graph is inconsistent. All problems are reported at once."""

    code = "INVALID_FLOW"

    def __init__(self, problems: list[Problem]) -> None:
        summary = "; ".join(p.message for p in problems[:10])
        more = f" (+{len(problems) - 10} more)" if len(problems) > 10 else ""
        super().__init__(f"Invalid flow: {summary}{more}", problems=[p.to_dict() for p in problems])
        self.problems = problems


class UnsupportedComponentsError(FlowError):
    """The flow names component types Flowless does not implement natively."""

    code = "UNSUPPORTED_COMPONENTS"

    def __init__(self, unsupported: dict[str, list[str]]) -> None:
        listing = ", ".join(f"{t} ({', '.join(ids)})" for t, ids in sorted(unsupported.items()))
        super().__init__(
            f"This flow uses components Flowless does not support: {listing}",
            unsupported=[{"type": t, "node_ids": ids} for t, ids in sorted(unsupported.items())],
        )
        self.unsupported = unsupported


class TweaksRefusedError(FlowError):
    """Tweaks touched protected fields; nothing was applied (all-or-nothing)."""

    code = "TWEAKS_REFUSED"

    def __init__(self, fields: list[str], reason: str | None = None) -> None:
        super().__init__(reason or f"Tweaks may not change protected fields: {', '.join(fields)}", fields=fields)
        self.fields = fields


class CodeNotApprovedError(FlowError):
    """The flow holds code (custom components, edited stock code, executed code inputs) whose
    SHA-256 the tenant has not approved. Nothing ran."""

    code = "CODE_NOT_APPROVED"

    def __init__(self, nodes: list[dict[str, Any]], reason: str | None = None) -> None:
        listing = ", ".join(f"{n['node_id']} ({n['field']} sha256 {n['sha256'][:12]}…)" for n in nodes[:10])
        super().__init__(
            reason or f"This flow holds code that has not been approved for this tenant: {listing}. "
            "An admin approves it with `flowless components approve` or POST /api/v1/custom_code/approvals.",
            nodes=nodes,
        )
        self.nodes = nodes


class CustomCodeError(FlowError):
    """Approved code failed, timed out, or its sandbox did. Mapped to 502 naming the node."""

    code = "CUSTOM_CODE_ERROR"

    def __init__(self, node_id: str, display_name: str, message: str) -> None:
        super().__init__(f"Custom code of component {display_name} ({node_id}) failed: {message}", node_id=node_id)
        self.node_id = node_id
        self.display_name = display_name
        self.reason = message


class InputClashError(FlowError):
    """input_value was sent together with a tweak of the same input component's input_value."""

    code = "INPUT_CLASH"


class ComponentError(FlowError):
    """A component failed while building. `node_id` names it."""

    code = "COMPONENT_ERROR"

    def __init__(self, node_id: str, display_name: str, message: str) -> None:
        super().__init__(f"Error building Component {display_name}: {message}", node_id=node_id)
        self.node_id = node_id
        self.display_name = display_name
        self.reason = message


class ConfigurationError(FlowError):
    """A component is configured in a way that cannot run (missing credential, unknown provider...)."""

    code = "CONFIGURATION_ERROR"


class MissingVariableError(ConfigurationError):
    code = "MISSING_VARIABLE"

    def __init__(self, name: str, field: str | None = None) -> None:
        where = f" (field '{field}')" if field else ""
        super().__init__(f"Variable '{name}' is not defined{where}", variable=name)
        self.name = name


class ProviderError(FlowError):
    """The model provider failed (HTTP error, bad response). Mapped to 502 by the service."""

    code = "PROVIDER_ERROR"

    def __init__(self, message: str, *, provider: str = "", status: int | None = None, retryable: bool = False) -> None:
        super().__init__(message, provider=provider, status=status, retryable=retryable)
        self.provider = provider
        self.status = status
        self.retryable = retryable


class ProviderTimeoutError(ProviderError):
    """The model provider did not answer in time. Mapped to 504 by the service."""

    code = "PROVIDER_TIMEOUT"


class ProviderAuthError(ProviderError):
    """The provider refused the credentials (401/403): the flow's key is wrong, not the service.
    Mapped to 422 by the service, naming the provider."""

    code = "PROVIDER_AUTH_FAILED"


class BlockedURLError(FlowError):
    """An outbound URL was refused by the network guard (SSRF protection)."""

    code = "URL_BLOCKED"


class FileRefusedError(FlowError, PermissionError):
    """A file path the file store will not read (absolute, traversal, another tenant's, outside
    the root). Bad input, so a 4xx naming the path; an OSError too, so `silent_errors` skips it."""

    code = "FILE_REFUSED"


class FileMissingError(FlowError, FileNotFoundError):
    """A file path the tenant's file store does not hold (never uploaded, deleted, or another
    tenant's: lookups never leave the tenant's prefix). Bad input, so a 4xx naming the path; an
    OSError too, so `silent_errors` skips it."""

    code = "FILE_NOT_FOUND"


class LimitExceededError(FlowError):
    """A configured limit (input length, node count, iterations...) was exceeded."""

    code = "LIMIT_EXCEEDED"
