"""Vertex builds of a flow (Langflow's /monitor/builds): what each vertex produced in a build.

One item per build step in the jobs table, partition `<tenant>#BUILDS#<flow id>`, sort key
`<time>#<job id>#<step>`, holding the step's builds as compressed JSON; written in the step's own
transaction (so a replayed step cannot log twice) and expiring with the jobs.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flowless.store import blobs, clock
from flowless.store.connection import store_settings
from flowless.store.models import JobItem
from flowless.store.tenancy import check_tenant

BUILDS_SEGMENT = "BUILDS"
# Items read at most per listing (each holds one step's builds).
MAX_ITEMS_READ = 500


def builds_pk(tenant: str, flow_id: str) -> str:
    return f"{tenant}#{BUILDS_SEGMENT}#{flow_id}"


class VertexBuildRepository:
    def __init__(self, tenant: str) -> None:
        self.tenant = check_tenant(tenant)

    def item(self, flow_id: str, job_id: str, step: str, builds: list[dict[str, Any]], *, at: datetime | None = None) -> JobItem:
        """The item logging `builds` of one step (to be written with the step)."""
        at = at or clock.now()
        expires = clock.after(hours=store_settings().job_retention_hours, start=at)
        blob = blobs.place(builds, f"{self.tenant}/builds/{flow_id}")
        return JobItem(
            builds_pk(self.tenant, flow_id),
            f"{clock.sortable_timestamp(at)}#{job_id}#{step}",
            job_id=job_id,
            tenant=self.tenant,
            flow_id=flow_id,
            payload=blob.inline,
            payload_key=blob.key,
            expires_at=expires,
        )

    def list(self, flow_id: str, *, per_vertex: int | None = None) -> dict[str, list[dict[str, Any]]]:
        """Vertex id → its latest builds (at most `per_vertex`, oldest first)."""
        limit = per_vertex or store_settings().max_vertex_builds_per_vertex
        found: dict[str, list[dict[str, Any]]] = {}
        for index, item in enumerate(self._items(flow_id, newest_first=True)):
            if index >= MAX_ITEMS_READ:
                break
            for build in reversed(blobs.load(item.payload, item.payload_key) or []):
                kept = found.setdefault(build["id"], [])
                if len(kept) < limit:
                    kept.append(build)
        return {vertex: list(reversed(builds)) for vertex, builds in found.items()}

    def delete(self, flow_id: str) -> int:
        items = list(self._items(flow_id, newest_first=False, live_only=False))
        with JobItem.batch_write() as batch:
            for item in items:
                batch.delete(item)
        return len(items)

    def _items(self, flow_id: str, *, newest_first: bool, live_only: bool = True) -> Iterable[JobItem]:
        return JobItem.query(
            builds_pk(self.tenant, flow_id),
            filter_condition=(JobItem.expires_at > clock.now()) if live_only else None,
            scan_index_forward=not newest_first,
        )
