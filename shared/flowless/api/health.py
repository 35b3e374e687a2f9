"""Liveness, readiness and version."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from flowless.settings import get_settings

# The Langflow API release whose contract Flowless implements.
LANGFLOW_API_VERSION = "1.13.0"

root_router = APIRouter(tags=["Health"])
router = APIRouter(tags=["Base"])


@root_router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@root_router.get("/health_check")
async def health_check() -> JSONResponse:
    db = "ok" if _database_reachable() else "error check the server logs"
    body = {"status": "ok" if db == "ok" else "error", "chat": "ok", "db": db}
    if db != "ok":
        return JSONResponse({"detail": body}, status_code=500)
    return JSONResponse(body)


def _database_reachable() -> bool:
    from flowless.store.connection import connection, store_settings

    try:
        connection().describe_table(store_settings().flows_table)
    except Exception:  # any failure means not ready; the detail is in the logs
        return False
    return True


@router.get("/version")
async def version() -> dict[str, str]:
    return {
        "version": LANGFLOW_API_VERSION,
        "main_version": LANGFLOW_API_VERSION,
        "package": "Flowless",
        "flowless_version": get_settings().version,
    }
