"""`/files` routes: Langflow's files v1 (per flow) and v2 (per tenant), stored on S3.

Scopes: uploading needs `execute` (files are run inputs; Langflow's API-pane snippets upload with
the run key), listing and downloading `read`, deleting `write`. Another tenant's flow or file
answers 404, exactly like a missing one. Limits and accepted types: `flowless.uploads`.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile

from flowless.api.auth import Caller, requires
from flowless.api.errors import ApiError
from flowless.store.files import FileObjects, FileRecord, FileRepository, PathRefused, flow_file_key, flow_folder, user_file_key
from flowless.store.flows import FlowRepository
from flowless.uploads import HEAD_BYTES, UploadRefused, check_size, check_type, upload_name

router = APIRouter(prefix="/files", tags=["Files"])
v2_router = APIRouter(prefix="/files", tags=["Files"])

FLOW_NOT_FOUND = "Flow not found"
FILE_NOT_FOUND = "File not found"
# Multipart framing around the file part; a request this much larger than the limit is refused unread.
_FRAMING_ALLOWANCE = 64 * 1024


# --- helpers ------------------------------------------------------------------------------------


async def read_upload(request: Request) -> tuple[UploadFile, str, str]:
    """The multipart `file` part, its safe name and the content type to store it with."""
    try:
        declared_length = int(request.headers.get("content-length") or 0)
        if declared_length > _FRAMING_ALLOWANCE:
            check_size(declared_length - _FRAMING_ALLOWANCE)
        if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
            raise ApiError(422, [{"type": "missing", "loc": ["body", "file"], "msg": "Field required"}])
        form = await request.form(max_files=1, max_fields=16)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ApiError(422, [{"type": "missing", "loc": ["body", "file"], "msg": "Field required"}])
        check_size(upload.size or 0)
        name = upload_name(upload.filename)
        head = await upload.read(HEAD_BYTES)
        await upload.seek(0)
        content_type = check_type(name, upload.content_type, head)
    except UploadRefused as refused:
        raise ApiError(refused.status, refused.message) from None
    return upload, name, content_type


def tenant_flow_id(caller: Caller, flow_id: str) -> str:
    """The flow's canonical id when it is the caller's; 404 otherwise."""
    flow = FlowRepository(caller.tenant).get(flow_id, include_data=False)
    if flow is None:
        raise ApiError(404, FLOW_NOT_FOUND)
    return flow.id


def object_key_of(build: Any, *args: str) -> str:
    try:
        return build(*args)
    except PathRefused:
        raise ApiError(404, FILE_NOT_FOUND) from None


async def download(objects: FileObjects, key: str, file_name: str, *, inline: bool = False) -> Response:
    try:
        stored = await asyncio.to_thread(objects.get, key)
    except FileNotFoundError:
        raise ApiError(404, FILE_NOT_FOUND) from None
    disposition = "inline" if inline else "attachment"
    ascii_name = file_name.encode("ascii", "replace").decode().replace('"', "_")
    headers = {
        "Content-Disposition": f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name)}",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(stored.content, media_type=stored.content_type, headers=headers)


def record_json(record: FileRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "name": record.name,
        "path": record.path,
        "size": record.size,
        "content_type": record.content_type,
        "provider": "s3",
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
    }


# --- v1: files of a flow ------------------------------------------------------------------------


@router.post("/upload/{flow_id}", status_code=201)
async def upload_flow_file(flow_id: str, request: Request, caller: Caller = Depends(requires("execute"))) -> JSONResponse:
    canonical = tenant_flow_id(caller, flow_id)
    upload, name, content_type = await read_upload(request)
    stamped = f"{datetime.now(timezone.utc):%Y-%m-%d_%H-%M-%S}_{name}"
    key = object_key_of(flow_file_key, caller.tenant, canonical, stamped)
    await asyncio.to_thread(FileObjects(caller.tenant).put, key, upload.file, content_type)
    return JSONResponse({"flowId": canonical, "file_path": f"{canonical}/{stamped}"}, status_code=201)


@router.get("/download/{flow_id}/{file_name}")
async def download_flow_file(flow_id: str, file_name: str, caller: Caller = Depends(requires("read"))) -> Response:
    canonical = tenant_flow_id(caller, flow_id)
    key = object_key_of(flow_file_key, caller.tenant, canonical, file_name)
    return await download(FileObjects(caller.tenant), key, file_name)


@router.get("/images/{flow_id}/{file_name}")
async def flow_image(flow_id: str, file_name: str, caller: Caller = Depends(requires("read"))) -> Response:
    canonical = tenant_flow_id(caller, flow_id)
    key = object_key_of(flow_file_key, caller.tenant, canonical, file_name)
    response = await download(FileObjects(caller.tenant), key, file_name, inline=True)
    if not (response.media_type or "").startswith("image/"):
        raise ApiError(415, "File is not an image")
    return response


@router.get("/list/{flow_id}")
async def list_flow_files(flow_id: str, caller: Caller = Depends(requires("read"))) -> dict[str, list[str]]:
    canonical = tenant_flow_id(caller, flow_id)
    objects = FileObjects(caller.tenant)
    folder = flow_folder(caller.tenant, canonical)
    return {"files": await asyncio.to_thread(lambda: sorted(objects.names(folder)))}


@router.delete("/delete/{flow_id}/{file_name}")
async def delete_flow_file(flow_id: str, file_name: str, caller: Caller = Depends(requires("write"))) -> dict[str, str]:
    canonical = tenant_flow_id(caller, flow_id)
    key = object_key_of(flow_file_key, caller.tenant, canonical, file_name)
    objects = FileObjects(caller.tenant)
    if not await asyncio.to_thread(objects.exists, key):
        raise ApiError(404, FILE_NOT_FOUND)
    await asyncio.to_thread(objects.delete, key)
    return {"message": f"File {file_name} deleted successfully"}


# --- v2: files of the tenant --------------------------------------------------------------------


def tenant_file(caller: Caller, file_id: str) -> FileRecord:
    record = FileRepository(caller.tenant).get(file_id)
    if record is None:
        raise ApiError(404, FILE_NOT_FOUND)
    return record


@v2_router.post("", status_code=201, include_in_schema=False)
@v2_router.post("/", status_code=201)
async def upload_user_file(request: Request, caller: Caller = Depends(requires("execute"))) -> JSONResponse:
    upload, name, content_type = await read_upload(request)
    repo = FileRepository(caller.tenant)
    file_id = repo.new_id()
    key = object_key_of(user_file_key, caller.tenant, file_id, name)
    await asyncio.to_thread(FileObjects(caller.tenant).put, key, upload.file, content_type)
    record = repo.create(file_id, name, upload.size or 0, content_type)
    return JSONResponse({"id": record.id, "name": record.name, "path": record.path, "size": record.size}, status_code=201)


@v2_router.get("", include_in_schema=False)
@v2_router.get("/")
async def list_user_files(caller: Caller = Depends(requires("read"))) -> list[dict[str, Any]]:
    return [record_json(record) for record in FileRepository(caller.tenant).list()]


@v2_router.get("/{file_id}")
async def download_user_file(file_id: str, caller: Caller = Depends(requires("read"))) -> Response:
    record = tenant_file(caller, file_id)
    return await download(FileObjects(caller.tenant), record.key(caller.tenant), record.file_name)


@v2_router.delete("/{file_id}")
async def delete_user_file(file_id: str, caller: Caller = Depends(requires("write"))) -> dict[str, str]:
    record = tenant_file(caller, file_id)
    await asyncio.to_thread(FileObjects(caller.tenant).delete, record.key(caller.tenant))
    FileRepository(caller.tenant).delete(record.id)
    return {"detail": f"File {record.name} deleted successfully"}
