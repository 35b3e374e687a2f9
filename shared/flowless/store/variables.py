"""Tenant variables (Langflow's global variables and credentials), values encrypted at rest."""

from __future__ import annotations

import builtins  # the repository's own `list` method shadows the type in its class body
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from pynamodb.exceptions import PutError

from flowless.store import clock, read_cache
from flowless.store.connection import store_settings
from flowless.store.crypto import Encryptor, get_encryptor
from flowless.store.errors import Conflict, NotFound
from flowless.store.models import VariableItem
from flowless.store.tenancy import check_tenant
from flowless.store.transact import ConditionsFailed, Transaction

VARIABLE_TYPES = ("Credential", "Generic")


@dataclass
class Variable:
    id: str
    name: str
    type: str
    value: str | None  # None when listed without values
    default_fields: list[str] = field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None


class VariableRepository:
    def __init__(self, tenant: str, *, encryptor: Encryptor | None = None) -> None:
        self.tenant = check_tenant(tenant)
        self._encryptor = encryptor or get_encryptor(store_settings())

    def create(
        self, name: str, value: str, *, type: str = "Generic", default_fields: list[str] | None = None
    ) -> Variable:
        """Raises Conflict when the tenant already has a variable of that name."""
        _check_type(type)
        now = clock.now()
        variable = Variable(str(uuid.uuid4()), name, type, value, list(default_fields or []), now, now)
        try:
            self._to_item(variable).save(condition=VariableItem.name.does_not_exist())
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                raise Conflict(f"Variable {name} already exists", field="name") from error
            raise
        finally:
            read_cache.VARIABLES.invalidate()
        return variable

    def get(self, name: str) -> Variable | None:
        try:
            return self._to_variable(VariableItem.get(self.tenant, name), with_value=True)
        except VariableItem.DoesNotExist:
            return None

    def get_by_id(self, variable_id: str) -> Variable | None:
        item = self._find(variable_id)
        return self._to_variable(item, with_value=True) if item else None

    def list(self, *, include_values: bool = True) -> list[Variable]:
        return [self._to_variable(item, with_value=include_values) for item in VariableItem.query(self.tenant)]

    def update(
        self,
        variable_id: str,
        *,
        name: str | None = None,
        value: str | None = None,
        type: str | None = None,
        default_fields: builtins.list[str] | None = None,
    ) -> Variable:
        """Change any of the fields; a rename keeps names unique. Raises NotFound or Conflict."""
        item = self._find(variable_id)
        if item is None:
            raise NotFound("Variable not found")
        current = self._to_variable(item, with_value=True)
        if type is not None:
            _check_type(type)
        updated = Variable(
            id=current.id,
            name=name or current.name,
            type=type or current.type,
            value=current.value if value is None else value,
            default_fields=current.default_fields if default_fields is None else list(default_fields),
            created_at=current.created_at,
            updated_at=clock.now(),
        )
        tx = Transaction()
        if updated.name != current.name:
            tx.delete(item, condition=VariableItem.id == current.id)
            tx.put(self._to_item(updated), condition=VariableItem.name.does_not_exist(), label="name")
        else:
            tx.put(self._to_item(updated), condition=VariableItem.id == current.id, label="id")
        try:
            tx.commit()
        except ConditionsFailed as failed:
            if "name" in failed.labels:
                raise Conflict(f"Variable {updated.name} already exists", field="name") from failed
            raise NotFound("Variable not found") from failed
        finally:
            read_cache.VARIABLES.invalidate()
        return updated

    def delete(self, variable_id: str) -> None:
        item = self._find(variable_id)
        if item is None:
            raise NotFound("Variable not found")
        try:
            item.delete()
        finally:
            read_cache.VARIABLES.invalidate()

    def _find(self, variable_id: str) -> VariableItem | None:
        # A tenant has few variables: one partition query filtered by id.
        return next(iter(VariableItem.query(self.tenant, filter_condition=VariableItem.id == variable_id)), None)

    def _context(self, variable_id: str) -> dict[str, str]:
        return {"tenant": self.tenant, "variable_id": variable_id}

    def _to_item(self, variable: Variable) -> VariableItem:
        assert variable.value is not None
        return VariableItem(
            self.tenant,
            variable.name,
            id=variable.id,
            type=variable.type,
            value=self._encryptor.encrypt(variable.value.encode(), self._context(variable.id)),
            default_fields=variable.default_fields or None,
            created_at=variable.created_at,
            updated_at=variable.updated_at,
        )

    def _to_variable(self, item: VariableItem, *, with_value: bool) -> Variable:
        value = self._encryptor.decrypt(item.value, self._context(item.id)).decode() if with_value else None
        return Variable(
            id=item.id,
            name=item.name,
            type=item.type,
            value=value,
            default_fields=list(item.default_fields or []),
            created_at=item.created_at,
            updated_at=item.updated_at,
        )


def _check_type(type: str) -> None:
    if type not in VARIABLE_TYPES:
        raise ValueError(f"variable type must be one of {VARIABLE_TYPES}")


class TenantVariableResolver:
    """The engine's VariableResolver for one run: decrypted values, each read at most once."""

    def __init__(self, tenant: str, *, repository: VariableRepository | None = None) -> None:
        self._repository = repository or VariableRepository(tenant)
        self._values: dict[str, str | None] = {}

    async def get(self, name: str) -> str | None:
        if name not in self._values:
            self._values[name] = read_cache.VARIABLES.get_or_load((self._repository.tenant, name), lambda: self._value(name))
        return self._values[name]

    def _value(self, name: str) -> str | None:
        variable = self._repository.get(name)
        return variable.value if variable else None
