"""The service's vector stores: S3 Vectors (production) and the flat-file store (small knowledge
bases, local runs, tests). `vector_store(tenant)` returns the configured one, bound to the tenant.

Choice (settings): FLOWLESS_VECTOR_STORE = "s3vectors" | "flat"; unset means S3 Vectors when
VECTOR_BUCKET names a vector bucket, else flat. The flat store keeps its files under
FLOWLESS_VECTORS_DIR when set, else in the files bucket (FILES_BUCKET) under `<tenant>/knowledge/`.
Nothing here imports boto3 until a store is used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flowless.settings import Settings

BACKENDS = ("s3vectors", "flat")


def _settings() -> Settings:
    from flowless.store.connection import store_settings

    return store_settings()


def backend_name(settings: Settings | None = None) -> str:
    settings = settings or _settings()
    name = (settings.vector_store or ("s3vectors" if settings.vector_bucket else "flat")).lower()
    if name not in BACKENDS:
        raise ValueError(f"FLOWLESS_VECTOR_STORE must be one of {', '.join(BACKENDS)}, not {name!r}")
    return name


def vector_store(tenant: str, settings: Settings | None = None) -> Any:
    """The tenant's VectorStore (flowless_engine.vectors.VectorStore)."""
    settings = settings or _settings()
    if backend_name(settings) == "s3vectors":
        from flowless.vectors.s3vectors import S3VectorsStore

        if not settings.vector_bucket:
            raise ValueError("the s3vectors store needs VECTOR_BUCKET (the S3 Vectors bucket name)")
        return S3VectorsStore(tenant, settings.vector_bucket)
    from flowless.vectors.flat import FlatVectorStore, LocalBlobs, S3Blobs

    if settings.vectors_dir:
        return FlatVectorStore(tenant, LocalBlobs(settings.vectors_dir))
    return FlatVectorStore(tenant, S3Blobs(settings.files_bucket))


def knowledge_services(tenant: str) -> dict[str, Any]:
    """A run's `vectors` and `knowledge` for the tenant; nothing is imported or connected until a
    Knowledge or vector-store component uses them."""
    return {"vectors": _Lazy(lambda: vector_store(tenant)), "knowledge": _Lazy(lambda: _knowledge_bases(tenant))}


def _knowledge_bases(tenant: str) -> Any:
    from flowless.store.knowledge import TenantKnowledgeBases

    return TenantKnowledgeBases(tenant)


class _Lazy:
    """Builds the wrapped service on first use."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._target: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._target is None:
            self._target = self._build()
        return getattr(self._target, name)
