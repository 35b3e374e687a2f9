"""Projects (Langflow's folders) of one tenant, kept in the flows table beside the flows.

Items: sk PROJECT#<id> (the project) and PROJECTNAME#<name> (a guard that keeps names unique per
tenant, written in the same transaction). Every tenant has a default project whose id is derived
from the tenant name; it is written the first time it is needed, and flows saved without a
project (or before projects existed) belong to it. Deleting a project deletes its flows, as
Langflow does.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from flowless.store import clock
from flowless.store.errors import Conflict, NotFound
from flowless.store.flows import FlowRepository, canonical_flow_id
from flowless.store.models import FlowItem
from flowless.store.tenancy import check_tenant, default_project_id
from flowless.store.transact import ConditionsFailed, Transaction

PROJECT_PREFIX = "PROJECT#"
PROJECT_NAME_PREFIX = "PROJECTNAME#"
DEFAULT_PROJECT_NAME = "Starter Project"  # Langflow's DEFAULT_FOLDER_NAME
DEFAULT_PROJECT_DESCRIPTION = "Manage your own flows. Download and upload projects."
NAME_CLASH = "Project name must be unique"


@dataclass
class Project:
    id: str
    name: str
    description: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class ProjectRepository:
    def __init__(self, tenant: str) -> None:
        self.tenant = check_tenant(tenant)
        self.default_id = default_project_id(tenant)

    # --- reads -------------------------------------------------------------------------------

    def get(self, project_id: str) -> Project | None:
        canonical = canonical_flow_id(project_id)
        if canonical is None:
            return None
        if canonical == self.default_id:
            return self.default()
        try:
            return _to_project(FlowItem.get(self.tenant, PROJECT_PREFIX + canonical))
        except FlowItem.DoesNotExist:
            return None

    def list(self) -> list[Project]:
        """The default project first, then the others by name."""
        default = self.default()
        others = [_to_project(item) for item in FlowItem.query(self.tenant, FlowItem.sk.startswith(PROJECT_PREFIX))]
        return [default, *sorted((p for p in others if p.id != default.id), key=lambda p: p.name.casefold())]

    def default(self) -> Project:
        """The default project, written on first use."""
        try:
            return _to_project(FlowItem.get(self.tenant, PROJECT_PREFIX + self.default_id))
        except FlowItem.DoesNotExist:
            pass
        name = self.free_name(DEFAULT_PROJECT_NAME)
        try:
            return self.create(name, DEFAULT_PROJECT_DESCRIPTION, project_id=self.default_id, rename=False)
        except Conflict:  # written meanwhile by a concurrent request
            return _to_project(FlowItem.get(self.tenant, PROJECT_PREFIX + self.default_id))

    def resolve(self, project_id: str | None) -> str:
        """The project a flow is saved in: `project_id` when it is one of the tenant's projects,
        else the default project (Langflow falls back to it for a missing or stale folder)."""
        if project_id and (canonical := canonical_flow_id(project_id)) is not None:
            if canonical == self.default_id or self._exists(canonical):
                return canonical
        return self.default_id

    def free_name(self, name: str) -> str:
        """`name` if unused, else `"<name> (N)"` with N one above the highest taken (Langflow's rule)."""
        if not self._name_taken(name):
            return name
        pattern = re.compile(rf"^{re.escape(name)} \((\d+)\)$")
        taken = FlowItem.query(self.tenant, FlowItem.sk.startswith(f"{PROJECT_NAME_PREFIX}{name} ("))
        numbers = [int(m.group(1)) for item in taken if (m := pattern.match(item.sk[len(PROJECT_NAME_PREFIX) :]))]
        return f"{name} ({max(numbers, default=0) + 1})"

    # --- writes ------------------------------------------------------------------------------

    def create(self, name: str, description: str | None = None, *, project_id: str | None = None, rename: bool = True) -> Project:
        """A new project; a taken name becomes "<name> (N)" with `rename`, else raises Conflict."""
        if rename:
            name = self.free_name(name)
        now = clock.now()
        project = Project(id=project_id or str(uuid.uuid4()), name=name, description=description, created_at=now, updated_at=now)
        tx = Transaction()
        tx.put(self._item(project), condition=FlowItem.sk.does_not_exist(), label="id")
        tx.put(self._guard(name, project.id), condition=FlowItem.sk.does_not_exist(), label="name")
        self._commit(tx)
        return project

    def update(self, project_id: str, *, name: str | None = None, description: str | None = None) -> Project:
        current = self.get(project_id)
        if current is None:
            raise NotFound("Project not found")
        updated = Project(
            id=current.id,
            name=name or current.name,
            description=description if description is not None else current.description,
            created_at=current.created_at,
            updated_at=clock.now(),
        )
        tx = Transaction()
        tx.put(self._item(updated), condition=FlowItem.sk.exists(), label="id")
        if updated.name != current.name:
            tx.put(self._guard(updated.name, current.id), condition=FlowItem.sk.does_not_exist(), label="name")
            tx.delete(self._guard(current.name, current.id), FlowItem.sk.does_not_exist() | (FlowItem.flow_id == current.id))
        self._commit(tx)
        return updated

    def delete(self, project_id: str) -> int:
        """Delete the project and its flows; returns how many flows went with it."""
        project = self.get(project_id)
        if project is None:
            raise NotFound("Project not found")
        flows = FlowRepository(self.tenant)
        deleted = flows.delete_many(f.id for f in flows.list(include_data=False, folder_id=project.id).items)
        tx = Transaction()
        tx.delete(FlowItem(self.tenant, PROJECT_PREFIX + project.id))
        tx.delete(self._guard(project.name, project.id), FlowItem.sk.does_not_exist() | (FlowItem.flow_id == project.id))
        tx.commit()
        return deleted

    # --- helpers -----------------------------------------------------------------------------

    def _exists(self, project_id: str) -> bool:
        try:
            FlowItem.get(self.tenant, PROJECT_PREFIX + project_id, attributes_to_get=["sk"])
        except FlowItem.DoesNotExist:
            return False
        return True

    def _name_taken(self, name: str) -> bool:
        try:
            FlowItem.get(self.tenant, PROJECT_NAME_PREFIX + name, attributes_to_get=["sk"])
        except FlowItem.DoesNotExist:
            return False
        return True

    def _item(self, project: Project) -> FlowItem:
        return FlowItem(
            self.tenant,
            PROJECT_PREFIX + project.id,
            flow_id=project.id,
            name=project.name,
            description=project.description,
            created_at=project.created_at,
            updated_at=project.updated_at,
        )

    def _guard(self, name: str, project_id: str) -> FlowItem:
        return FlowItem(self.tenant, PROJECT_NAME_PREFIX + name, flow_id=project_id)

    @staticmethod
    def _commit(tx: Transaction) -> None:
        try:
            tx.commit()
        except ConditionsFailed as failed:
            label = failed.labels[0]
            raise Conflict(NAME_CLASH if label == "name" else "The project changed meanwhile", field=label) from failed


def _to_project(item: FlowItem) -> Project:
    return Project(id=item.flow_id, name=item.name or "", description=item.description, created_at=item.created_at, updated_at=item.updated_at)
