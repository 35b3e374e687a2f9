"""Projects in the flows table: the default project, unique names, moves, cascading deletes."""

from __future__ import annotations

import pytest
from flowless.settings import Settings
from flowless.store.errors import Conflict, NotFound
from flowless.store.flows import FlowRepository
from flowless.store.models import FlowItem
from flowless.store.projects import DEFAULT_PROJECT_NAME, ProjectRepository
from flowless.store.tenancy import default_project_id, tenant_user_id

DATA = {"nodes": [], "edges": []}


@pytest.fixture
def projects(ddb: Settings) -> ProjectRepository:
    return ProjectRepository("tenant-a")


def test_identities_are_stable_uuids_per_tenant() -> None:
    assert tenant_user_id("tenant-a") == tenant_user_id("tenant-a") != tenant_user_id("tenant-b")
    assert default_project_id("tenant-a") != default_project_id("tenant-b") != tenant_user_id("tenant-b")


def test_the_default_project_is_written_on_first_use_and_listed_first(projects: ProjectRepository) -> None:
    projects.create("Alpha")
    listed = projects.list()
    assert [p.name for p in listed] == [DEFAULT_PROJECT_NAME, "Alpha"] and listed[0].id == default_project_id("tenant-a")
    assert ProjectRepository("tenant-b").get(listed[1].id) is None  # another tenant's project is not found


def test_names_are_unique_per_tenant(projects: ProjectRepository) -> None:
    first = projects.create("Work")
    assert projects.create("Work").name == "Work (1)" and projects.create("Work").name == "Work (2)"
    with pytest.raises(Conflict):
        projects.create("Work", rename=False)
    other = projects.create("Play")
    with pytest.raises(Conflict):
        projects.update(other.id, name="Work")
    assert projects.update(first.id, name="Job").name == "Job"
    assert projects.create("Work").name == "Work"  # the old name was released


def test_flows_saved_before_projects_belong_to_the_default_one(projects: ProjectRepository) -> None:
    flows = FlowRepository("tenant-a")
    legacy = flows.create(name="Old", data=DATA)
    item = FlowItem.get("tenant-a", f"FLOW#{legacy.id}")
    item.folder_id = None  # as stored before projects existed
    item.save()
    assert flows.get(legacy.id).folder_id == default_project_id("tenant-a")
    assert [f.id for f in flows.list(folder_id=default_project_id("tenant-a")).items] == [legacy.id]
    assert projects.delete(default_project_id("tenant-a")) == 1  # deleting the default project deletes them too
    assert flows.get(legacy.id) is None
    assert projects.get(default_project_id("tenant-a")).name == DEFAULT_PROJECT_NAME  # and it comes back, empty


def test_delete_takes_only_the_projects_flows(projects: ProjectRepository) -> None:
    flows = FlowRepository("tenant-a")
    project = projects.create("Doomed")
    inside = [flows.create(name=f"in {i}", data=DATA, folder_id=project.id) for i in range(3)]
    outside = flows.create(name="out", data=DATA)
    assert projects.delete(project.id) == 3
    assert all(flows.get(f.id) is None for f in inside) and flows.get(outside.id) is not None
    with pytest.raises(NotFound):
        projects.delete(project.id)
    assert projects.create("Doomed").name == "Doomed"  # its name is free again


def test_resolve_falls_back_to_the_default_project(projects: ProjectRepository) -> None:
    mine = projects.create("Mine")
    theirs = ProjectRepository("tenant-b").create("Theirs")
    assert projects.resolve(mine.id) == mine.id
    assert projects.resolve(theirs.id) == projects.resolve(None) == projects.resolve("not-a-uuid") == default_project_id("tenant-a")
