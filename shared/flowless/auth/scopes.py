"""What an API key may do. `admin` implies every other scope."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Scope(str, Enum):
    READ = "read"
    EXECUTE = "execute"
    WRITE = "write"
    ADMIN = "admin"


DEFAULT_SCOPES: tuple[Scope, ...] = (Scope.READ, Scope.EXECUTE, Scope.WRITE)


class Forbidden(Exception):
    code = "FORBIDDEN"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Principal:
    """Who is calling: the tenant and the API key that authenticated the request."""

    tenant: str
    key_id: str
    name: str | None
    scopes: frozenset[str]

    def has(self, scope: Scope | str) -> bool:
        return Scope.ADMIN.value in self.scopes or Scope(scope).value in self.scopes


def parse_scopes(scopes: list[str] | tuple[str | Scope, ...] | None) -> list[str]:
    """Validated scope names (DEFAULT_SCOPES when None); raises ValueError on unknown ones."""
    chosen = DEFAULT_SCOPES if scopes is None else scopes
    return sorted({Scope(scope).value for scope in chosen})


def require(principal: Principal, scope: Scope | str) -> None:
    if not principal.has(scope):
        raise Forbidden(f"API key lacks the '{Scope(scope).value}' scope")
