"""`/knowledge_bases` routes: Langflow's knowledge-base API, per tenant.

  POST   /knowledge_bases                      create (name, embedding_provider, embedding_model) → 201
  GET    /knowledge_bases                      list
  GET    /knowledge_bases/{kb}                 one (Langflow's KnowledgeBaseInfo)
  DELETE /knowledge_bases/{kb}                 delete it and its vectors
  DELETE /knowledge_bases                      bulk delete {"kb_names": [...]}
  POST   /knowledge_bases/{kb}/ingest          multipart `files` and/or `file_paths` (paths the
                                               files API returned), + chunk_size, chunk_overlap,
                                               separator, metadata JSON: 201 with counts, or 202
                                               with a job id when the files make more than
                                               `ingest_async_chunks` chunks
  GET    /knowledge_bases/{kb}/jobs/{job_id}   an ingest job: status, progress, result
  GET    /knowledge_bases/{kb}/chunks          stored chunks, paginated (page, limit, search)

Scopes: reading needs `read`, the rest `write`. Another tenant's knowledge base answers 404,
exactly like a missing one, and is never searched.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile

from flowless.api.auth import Caller, requires
from flowless.api.errors import ApiError
from flowless.store.errors import Conflict
from flowless.store.knowledge import InvalidKnowledgeBaseName, KnowledgeBase, KnowledgeBaseRepository, knowledge_base_name
from flowless.uploads import UploadRefused, check_size, upload_name

router = APIRouter(prefix="/knowledge_bases", tags=["Knowledge Bases"])

MAX_FILES = 32
_FRAMING_ALLOWANCE = 64 * 1024


class CreateKnowledgeBase(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    embedding_provider: str = "OpenAI"
    embedding_model: str = "text-embedding-3-small"
    dimensions: int | None = Field(default=None, ge=1, le=4096)
    column_config: list[dict[str, Any]] | None = None


class BulkDelete(BaseModel):
    kb_names: list[str]


def not_found(name: str) -> ApiError:
    return ApiError(404, f"Knowledge base '{name}' not found")


def tenant_kb(caller: Caller, name: str) -> KnowledgeBase:
    kb = KnowledgeBaseRepository(caller.tenant).get(name) if _valid(name) else None
    if kb is None:
        raise not_found(name)
    return kb


def _valid(name: str) -> bool:
    try:
        return knowledge_base_name(name) == name
    except InvalidKnowledgeBaseName:
        return False


@router.post("", status_code=201)
@router.post("/", status_code=201, include_in_schema=False)
def create_knowledge_base(payload: CreateKnowledgeBase, caller: Caller = Depends(requires("write"))) -> dict[str, Any]:
    from flowless_engine.llm.embeddings import is_supported_provider

    try:
        name = knowledge_base_name(payload.name)
    except InvalidKnowledgeBaseName as exc:
        raise ApiError(400, str(exc)) from None
    if not is_supported_provider(payload.embedding_provider):
        raise ApiError(400, f"Embedding provider '{payload.embedding_provider}' is not supported; use OpenAI or an OpenAI-compatible service "
                            "(Azure OpenAI, Mistral, NVIDIA, LM Studio...), Google Generative AI, Cohere, IBM watsonx.ai, Hugging Face, Amazon Bedrock or Ollama")
    if not payload.embedding_model.strip():
        raise ApiError(400, "embedding_model is required")
    try:
        kb = KnowledgeBaseRepository(caller.tenant).create(
            name, payload.embedding_provider, payload.embedding_model.strip(),
            dimensions=payload.dimensions, source="api", column_config=payload.column_config,
        )
    except Conflict:
        raise ApiError(409, f"Knowledge base '{name}' already exists") from None
    return kb.info()


@router.get("")
@router.get("/", include_in_schema=False)
def list_knowledge_bases(caller: Caller = Depends(requires("read"))) -> list[dict[str, Any]]:
    return [kb.info() for kb in KnowledgeBaseRepository(caller.tenant).list()]


@router.get("/{kb_name}")
def get_knowledge_base(kb_name: str, caller: Caller = Depends(requires("read"))) -> dict[str, Any]:
    return tenant_kb(caller, kb_name).info()


async def _delete(caller: Caller, kb: KnowledgeBase) -> None:
    from flowless.vectors import vector_store

    await vector_store(caller.tenant).delete_kb(kb.spec().index())
    await asyncio.to_thread(KnowledgeBaseRepository(caller.tenant).delete, kb.name)


@router.delete("/{kb_name}")
async def delete_knowledge_base(kb_name: str, caller: Caller = Depends(requires("write"))) -> dict[str, str]:
    kb = await asyncio.to_thread(tenant_kb, caller, kb_name)
    await _delete(caller, kb)
    return {"message": f"Knowledge base '{kb_name}' deleted successfully"}


@router.delete("")
@router.delete("/", include_in_schema=False)
async def delete_knowledge_bases(payload: BulkDelete, caller: Caller = Depends(requires("write"))) -> dict[str, Any]:
    repository = KnowledgeBaseRepository(caller.tenant)
    deleted, missing = 0, []
    for name in payload.kb_names:
        kb = await asyncio.to_thread(repository.get, name) if _valid(name) else None
        if kb is None:
            missing.append(name)
            continue
        await _delete(caller, kb)
        deleted += 1
    if missing and not deleted:
        raise ApiError(404, "Knowledge bases not found: " + ", ".join(missing))
    result: dict[str, Any] = {"message": f"Successfully deleted {deleted} knowledge base(s)", "deleted_count": deleted}
    if missing:
        result["not_found"] = ", ".join(missing)
    return result


@router.post("/{kb_name}/ingest")
async def ingest(kb_name: str, request: Request, caller: Caller = Depends(requires("write"))) -> JSONResponse:
    from flowless import ingest as ingestion
    from flowless.store.connection import store_settings

    kb = await asyncio.to_thread(tenant_kb, caller, kb_name)
    files, options = await _read_ingest_form(request, caller.tenant)
    try:
        chunks = await asyncio.to_thread(ingestion.chunk_files, files, options)
    except ingestion.UnreadableFile as exc:
        raise ApiError(415, str(exc)) from None
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    counts = {"kb_name": kb.name, "files": len(files), "chunks": len(chunks)}
    if len(chunks) > store_settings().ingest_async_chunks:
        from flowless.store.blobs import PayloadTooLarge

        try:
            job_id = await asyncio.to_thread(ingestion.start_ingest_job, caller.tenant, kb, chunks, options)
        except PayloadTooLarge as exc:
            raise ApiError(413, f"Too much text for one ingest here: {exc}") from None
        except Exception as exc:
            raise ApiError(503, "The ingestion could not be started; please retry.", headers={"Retry-After": "1"}) from exc
        href = f"{request.url.path.rsplit('/ingest', 1)[0]}/jobs/{job_id}"
        return JSONResponse({"id": job_id, "href": href, "status": "queued", **counts}, status_code=202)
    result = await ingestion.ingest_chunks(caller.tenant, kb, chunks, options)
    return JSONResponse({**counts, **result, "status": "completed"}, status_code=201)


async def _read_ingest_form(request: Request, tenant: str) -> tuple[list[tuple[str, bytes]], Any]:
    from flowless.ingest import IngestOptions

    def missing() -> ApiError:
        return ApiError(422, [{"type": "missing", "loc": ["body", "files"], "msg": "Field required"}])

    # A form: multipart with files, or urlencoded when it names stored files only.
    if not request.headers.get("content-type", "").lower().startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        raise missing()
    try:
        declared = int(request.headers.get("content-length") or 0)
        if declared > _FRAMING_ALLOWANCE:
            check_size(declared - _FRAMING_ALLOWANCE)
        form = await request.form(max_files=MAX_FILES, max_fields=16 + MAX_FILES)
        uploads = [u for u in form.getlist("files") if isinstance(u, UploadFile)]
        paths = [p for p in form.getlist("file_paths") if isinstance(p, str) and p.strip()]
        if not uploads and not paths:
            raise missing()
        files = []
        for upload in uploads:
            check_size(upload.size or 0)
            files.append((upload_name(upload.filename), await upload.read()))
        files += await _stored_files(tenant, paths[:MAX_FILES])
    except UploadRefused as refused:
        raise ApiError(refused.status, refused.message) from None

    def number(field: str, default: int) -> int:
        raw = form.get(field)
        if raw in (None, ""):
            return default
        try:
            return int(str(raw))
        except ValueError:
            raise ApiError(422, [{"type": "int_parsing", "loc": ["body", field], "msg": "Input should be a valid integer"}]) from None

    raw_metadata = form.get("metadata")
    metadata: Any = {}
    if isinstance(raw_metadata, str) and raw_metadata.strip():
        try:
            metadata = json.loads(raw_metadata)
        except ValueError:
            metadata = None
        if not isinstance(metadata, dict):
            raise ApiError(422, [{"type": "json_invalid", "loc": ["body", "metadata"], "msg": "metadata must be a JSON object"}])
    separator = form.get("separator")
    options = IngestOptions(
        chunk_size=number("chunk_size", 1000),
        chunk_overlap=number("chunk_overlap", 200),
        separator=separator if isinstance(separator, str) else "",
        metadata=metadata,
    )
    return files, options


async def _stored_files(tenant: str, paths: list[str]) -> list[tuple[str, bytes]]:
    """Files uploaded through the files API, by the paths it returned (the tenant's only)."""
    from flowless.store.files import PathRefused, S3FileStore

    store = S3FileStore(tenant)
    found = []
    for path in paths:
        try:
            content = await store.read(path.strip())
        except (PathRefused, FileNotFoundError):
            raise ApiError(404, f"File not found: {path}") from None
        check_size(len(content))
        found.append((path.strip().rsplit("/", 1)[-1], content))
    return found


@router.get("/{kb_name}/jobs/{job_id}")
def ingest_job(kb_name: str, job_id: str, caller: Caller = Depends(requires("read"))) -> dict[str, Any]:
    from flowless.ingest import job_view

    tenant_kb(caller, kb_name)
    view = job_view(caller.tenant, job_id, kb_name)
    if view is None:
        raise ApiError(404, "Job not found")
    return view


@router.get("/{kb_name}/chunks")
async def chunks(
    kb_name: str,
    caller: Caller = Depends(requires("read")),
    page: int = Query(1, ge=1),
    limit: int = Query(50, ge=1, le=100),
    search: str = Query("", max_length=500),
) -> dict[str, Any]:
    """Chunks in storage order (searching looks through the first 10,000 of them)."""
    from flowless.vectors import vector_store

    kb = await asyncio.to_thread(tenant_kb, caller, kb_name)
    store = vector_store(caller.tenant)
    term = search.strip()
    wanted = 10_000 if term else page * limit
    found = await store.scan(kb.spec().index(), wanted)
    if term:
        found = [m for m in found if term in m.text]
    total = len(found) if term else kb.chunks
    rows = found[(page - 1) * limit : page * limit]
    return {
        "chunks": [{"id": m.id, "content": m.text, "char_count": len(m.text), "metadata": m.metadata} for m in rows],
        "total": total,
        "page": page,
        "limit": limit,
        "total_pages": (total + limit - 1) // limit if total else 0,
    }
