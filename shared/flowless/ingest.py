"""Ingesting files into a knowledge base: text → chunks → embeddings → the vector store.

Files are read as text (PDF and DOCX through the engine's File readers), split with Split Text's
splitter (`CharacterSplitter`: the given separator first, then blank lines, lines, words, characters
for pieces still too long, like Langflow's ingest route) and embedded in batches with the knowledge
base's embedding model, the tenant's credentials resolving as for a run. A chunk's id is a hash
of its file name and text: ingesting the same file again stores nothing twice and embeds nothing
again.

Small ingests run in the request. Larger ones (more than `ingest_async_chunks` chunks) become a
job (`flowless.store.jobs`) run as a task (`flowless.tasks`): another invocation of the function in
AWS, which reads the chunks stored with the job (inline, or in JOBS_BUCKET when large), or the
in-process background loop locally, which gets them in memory. The job records `progress` events
(`{"done", "total"}` chunks) and ends with the counts as its result.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import PurePosixPath
from typing import Any

from flowless.store.errors import InvalidTransition
from flowless.store.jobs import JobRepository, JobStatus
from flowless.store.knowledge import KnowledgeBase, KnowledgeBaseRepository
from flowless_engine.vectors.base import IngestStats, VectorItem

logger = logging.getLogger("flowless.ingest")

TASK = "knowledge_ingest"
JOB_PREFIX = "knowledge_base:"  # a job's flow_id names the knowledge base it fills
STEP = 200  # chunks checked, embedded and stored together (one progress event each)
DEFAULT_SEPARATORS = ("\n\n", "\n", " ", "")


class UnreadableFile(ValueError):
    pass


@dataclass
class IngestOptions:
    chunk_size: int = 1000
    chunk_overlap: int = 200
    separator: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def check(self) -> None:
        if self.chunk_size <= 0:
            raise ValueError(f"chunk_size must be > 0, got {self.chunk_size}")
        if not 0 <= self.chunk_overlap < self.chunk_size:
            raise ValueError(f"chunk_overlap must be >= 0 and smaller than chunk_size ({self.chunk_size}), got {self.chunk_overlap}")


@dataclass
class Chunk:
    id: str
    text: str
    metadata: dict[str, Any]


# ---- files → chunks ----------------------------------------------------------------------------


def file_text(name: str, content: bytes) -> str:
    from flowless_engine.components.files import TEXT_EXTENSIONS, docx_text, pdf_text

    extension = PurePosixPath(name).suffix[1:].lower()
    try:
        if extension == "pdf":
            return pdf_text(content)
        if extension == "docx":
            return docx_text(content)
    except Exception as exc:  # a damaged document is the client's problem, reported as such
        raise UnreadableFile(f"Cannot read '{name}': {exc}") from exc
    if extension not in TEXT_EXTENSIONS | {"", "log", "rst", "tsv", "jsonl"}:
        raise UnreadableFile(f"Cannot ingest '{name}': only text, PDF and DOCX files are read")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def split_text(text: str, chunk_size: int, chunk_overlap: int, separator: str = "") -> list[str]:
    """Split Text's splitter, applied again with finer separators to chunks still too long."""
    from flowless_engine.components.processing import CharacterSplitter, _unescape

    separators = [_unescape(separator)] if separator else []
    separators += [s for s in DEFAULT_SEPARATORS if s not in separators]

    def split(piece: str, level: int) -> list[str]:
        chunks = CharacterSplitter(chunk_size, chunk_overlap, separators[level]).split(piece)
        if level + 1 == len(separators):
            return chunks
        return [part for chunk in chunks for part in (split(chunk, level + 1) if len(chunk) > chunk_size else [chunk])]

    return split(text, 0)


def chunk_files(files: Sequence[tuple[str, bytes]], options: IngestOptions) -> list[Chunk]:
    from flowless_engine.components.knowledge import tag_metadata

    options.check()
    ingested_at = datetime.now(timezone.utc).isoformat()
    chunks: list[Chunk] = []
    for name, content in files:
        texts = split_text(file_text(name, content), options.chunk_size, options.chunk_overlap, options.separator)
        for position, text in enumerate(texts):
            digest = hashlib.sha256(f"{name}\x1f{text}".encode()).hexdigest()
            metadata: dict[str, Any] = {
                "_id": digest,
                "file_name": name,
                "source": name,
                "chunk_index": position,
                "total_chunks": len(texts),
                "ingested_at": ingested_at,
            }
            tag_metadata(metadata, options.metadata)
            chunks.append(Chunk(digest, text, metadata))
    return chunks


# ---- chunks → vectors --------------------------------------------------------------------------


async def embedder(tenant: str, kb: KnowledgeBase) -> Any:
    """The knowledge base's embedding model with the tenant's credentials (as a run resolves them)."""
    from flowless.runs import _variables, engine_settings
    from flowless_engine.http import default_client
    from flowless_engine.llm.embeddings import get_embeddings, resolve_embedding_config

    variables = _variables(tenant)
    config = await resolve_embedding_config(kb.embedding_provider, kb.embedding_model, variables.get, dimensions=kb.dimensions)
    return get_embeddings(config, default_client(engine_settings()))


Progress = Callable[[int, int], Awaitable[None]]


async def ingest_chunks(tenant: str, kb: KnowledgeBase, chunks: Sequence[Chunk], options: IngestOptions, *, progress: Progress | None = None) -> dict[str, Any]:
    """Embed and store the chunks not stored yet; record the statistics; return the counts."""
    from flowless.vectors import vector_store

    store = vector_store(tenant)
    index = kb.spec().index()
    model = await embedder(tenant, kb)
    extensions = {PurePosixPath(str(c.metadata.get("file_name", ""))).suffix[1:].lower() for c in chunks}
    stats = IngestStats(source_types=tuple(sorted(e for e in extensions if e)))
    seen: set[str] = set()
    records = KnowledgeBaseRepository(tenant)
    for start in range(0, len(chunks), STEP):
        if start:  # a long ingest stops when its knowledge base is deleted (or replaced) meanwhile
            current = await asyncio.to_thread(records.get, kb.name)
            if current is None or current.id != kb.id:
                raise LookupError(f"Knowledge base '{kb.name}' was deleted during the ingestion")
        part = [c for c in chunks[start : start + STEP] if c.id not in seen]
        seen.update(c.id for c in part)
        present = await store.existing(index, [c.id for c in part]) if part else set()
        new = [c for c in part if c.id not in present]
        if new:
            vectors = await model.embed_documents([c.text for c in new])
            await store.upsert(index, [VectorItem(c.id, v, c.text, c.metadata) for c, v in zip(new, vectors)])
            for c in new:
                stats.add_text(c.text)
        if progress is not None:
            await progress(min(start + STEP, len(chunks)), len(chunks))
    await asyncio.to_thread(
        records.record_ingest, kb.name, stats,
        chunk_size=options.chunk_size, chunk_overlap=options.chunk_overlap, separator=options.separator,
    )
    return {
        "kb_name": kb.name,
        "chunks": len(chunks),
        "chunks_created": stats.chunks,
        "skipped": len(chunks) - stats.chunks,
        "words": stats.words,
        "characters": stats.characters,
    }


# ---- background jobs ---------------------------------------------------------------------------


def start_ingest_job(tenant: str, kb: KnowledgeBase, chunks: list[Chunk], options: IngestOptions, *, runner: Any = None) -> str:
    """Create the job and start its task; returns the job id."""
    from flowless.tasks import LocalTaskRunner, task_runner

    runner = runner or task_runner()
    in_memory = isinstance(runner, LocalTaskRunner)  # the in-process loop takes the chunks as they are
    job_id = str(uuid.uuid4())
    jobs = JobRepository(tenant)
    stored = None if in_memory else {"chunks": [asdict(c) for c in chunks], "options": asdict(options)}
    jobs.create(JOB_PREFIX + kb.name, job_id=job_id, request=stored)
    KnowledgeBaseRepository(tenant).set_status(kb.name, "ingesting", job_id=job_id)
    payload: dict[str, Any] = {"tenant": tenant, "kb": kb.name, "job_id": job_id}
    if in_memory:
        payload.update(chunks=chunks, options=options)
    try:
        runner.submit(TASK, payload)
    except Exception:
        logger.exception("could not start ingest job %s", job_id)
        jobs.set_status(job_id, JobStatus.FAILED, error="The ingestion could not be started")
        KnowledgeBaseRepository(tenant).set_status(kb.name, "failed", failure_reason="The ingestion could not be started")
        raise
    return job_id


async def run_ingest_task(event: dict[str, Any]) -> dict[str, Any]:
    """The task: ingest the job's chunks, recording progress and the outcome. Never raises (a
    failed asynchronous invocation would be retried)."""
    tenant, kb_name, job_id = event["tenant"], event["kb"], event["job_id"]
    jobs = JobRepository(tenant)
    knowledge = KnowledgeBaseRepository(tenant)
    try:
        await asyncio.to_thread(jobs.set_status, job_id, JobStatus.IN_PROGRESS)
    except InvalidTransition:
        logger.warning("ingest job %s was already started; not running it again", job_id)
        return {"job_id": job_id, "status": "skipped"}
    try:
        chunks, options = event.get("chunks"), event.get("options")
        if chunks is None:
            request = await asyncio.to_thread(jobs.get_request, job_id)
            chunks = [Chunk(**c) for c in request["chunks"]]
            options = IngestOptions(**request["options"])
        kb = await asyncio.to_thread(knowledge.get, kb_name)
        if kb is None:
            raise LookupError(f"Knowledge base '{kb_name}' was deleted")

        async def progress(done: int, total: int) -> None:
            await asyncio.to_thread(jobs.append_events, job_id, [("progress", {"done": done, "total": total})])

        result = await ingest_chunks(tenant, kb, chunks, options, progress=progress)
    except Exception as exc:
        logger.exception("ingest job %s failed", job_id)
        reason = str(exc) if isinstance(exc, (LookupError, ValueError)) else f"{type(exc).__name__}: {exc}"
        await asyncio.to_thread(_settle, jobs, knowledge, job_id, kb_name, JobStatus.FAILED, error=reason)
        return {"job_id": job_id, "status": JobStatus.FAILED.value}
    await asyncio.to_thread(_settle, jobs, knowledge, job_id, kb_name, JobStatus.COMPLETED, result=result)
    return {"job_id": job_id, "status": JobStatus.COMPLETED.value}


def _settle(jobs: JobRepository, knowledge: KnowledgeBaseRepository, job_id: str, kb_name: str, status: JobStatus, *, error: str | None = None, result: Any = None) -> None:
    try:
        jobs.set_status(job_id, status, error=error, result=result)
    except InvalidTransition:
        logger.warning("ingest job %s was settled elsewhere", job_id)
    try:
        knowledge.set_status(kb_name, "failed" if error else None, failure_reason=error)
    except Exception:  # the knowledge base may be gone; the job says what happened
        logger.warning("could not record the outcome of job %s on knowledge base %s", job_id, kb_name)


def job_view(tenant: str, job_id: str, kb_name: str) -> dict[str, Any] | None:
    """A job of this knowledge base as the API shows it, or None."""
    jobs = JobRepository(tenant)
    job = jobs.get(job_id)
    if job is None or job.flow_id != JOB_PREFIX + kb_name:
        return None
    answer: dict[str, Any] = {
        "id": job.id,
        "kb_name": kb_name,
        "status": job.status.value,
        "created_at": job.created_at.isoformat(),
        "updated_at": job.updated_at.isoformat(),
        "progress": None,
    }
    if job.event_count:
        last = jobs.events_after(job_id, job.event_count - 1, limit=1)
        if last:
            answer["progress"] = last[0].data
    if job.result is not None:
        answer["result"] = job.result
    if job.error is not None:
        answer["error"] = job.error
    return answer
