"""`/variables` routes: the tenant's global variables and credentials.

Values are encrypted at rest by the repository. A Credential's value is never returned (and
never decrypted to answer a listing); flows reach it by name (`load_from_db`) at run time.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from flowless.api.auth import Caller, requires
from flowless.api.errors import ApiError
from flowless.store.errors import Conflict, NotFound
from flowless.store.variables import Variable, VariableRepository

router = APIRouter(prefix="/variables", tags=["Variables"])
CREDENTIAL = "Credential"
MAX_NAME_CHARS = 250  # a variable's name is its DynamoDB sort key (1024 bytes at most)
VARIABLE_NOT_FOUND = "Variable not found"
NAME_TAKEN = "Variable name already exists"


class VariableCreate(BaseModel):
    name: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    value: str | None = None
    type: Literal["Credential", "Generic"] = "Credential"  # as in Langflow: secret unless said otherwise
    default_fields: list[str] = Field(default_factory=list)


class VariableUpdate(BaseModel):
    id: UUID | None = None  # Langflow's clients send it; the path names the variable
    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME_CHARS)
    value: str | None = Field(default=None, min_length=1)
    type: Literal["Credential", "Generic"] | None = None
    default_fields: list[str] | None = None


def variable_read(variable: Variable) -> dict[str, Any]:
    return {
        "id": variable.id,
        "name": variable.name,
        "type": variable.type,
        "value": None if variable.type == CREDENTIAL else variable.value,
        "default_fields": variable.default_fields,
    }


@router.post("/", status_code=201)
def create_variable(body: VariableCreate, caller: Caller = Depends(requires("write"))) -> dict[str, Any]:
    if not body.name and not body.value:
        raise ApiError(400, "Variable name and value cannot be empty")
    if not body.name:
        raise ApiError(400, "Variable name cannot be empty")
    if not body.value:
        raise ApiError(400, "Variable value cannot be empty")
    try:
        variable = VariableRepository(caller.tenant).create(body.name, body.value, type=body.type, default_fields=body.default_fields)
    except Conflict:
        raise ApiError(400, NAME_TAKEN) from None
    return variable_read(variable)


@router.get("/")
def list_variables(caller: Caller = Depends(requires("read"))) -> list[dict[str, Any]]:
    repo = VariableRepository(caller.tenant)
    answers = []
    for variable in repo.list(include_values=False):
        if variable.type != CREDENTIAL:  # only shown values are decrypted
            variable = repo.get(variable.name) or variable
        answers.append(variable_read(variable))
    return answers


@router.patch("/{variable_id}")
def update_variable(variable_id: UUID, body: VariableUpdate, caller: Caller = Depends(requires("write"))) -> dict[str, Any]:
    changes = body.model_dump(exclude={"id"}, exclude_none=True)
    try:
        variable = VariableRepository(caller.tenant).update(str(variable_id), **changes)
    except NotFound:
        raise ApiError(404, VARIABLE_NOT_FOUND) from None
    except Conflict:
        raise ApiError(400, NAME_TAKEN) from None
    return variable_read(variable)


@router.delete("/{variable_id}", status_code=204)
def delete_variable(variable_id: UUID, caller: Caller = Depends(requires("write"))) -> Response:
    try:
        VariableRepository(caller.tenant).delete(str(variable_id))
    except NotFound:
        raise ApiError(404, VARIABLE_NOT_FOUND) from None
    return Response(status_code=204)
