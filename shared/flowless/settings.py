"""All of the service's configuration, read from environment variables in one place.

`get_settings()` reads the environment once per process; tests change variables and call
`reset_settings_cache()`. To add a setting: a field with its default, one line in `from_env`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

VERSION = "0.1.0"

# Logical table name -> the environment variable that overrides its physical name.
TABLE_ENV_VARS: dict[str, str] = {
    "flows": "FLOWS_TABLE",
    "messages": "MESSAGES_TABLE",
    "sessions": "SESSIONS_TABLE",
    "api-keys": "API_KEYS_TABLE",
    "variables": "VARIABLES_TABLE",
    "jobs": "JOBS_TABLE",
}


@dataclass(frozen=True)
class Settings:
    region: str = "us-east-1"
    # None means the real AWS endpoint; tests and the local server point it at moto/DynamoDB Local.
    dynamodb_endpoint: str | None = None
    flows_table: str = "flowless-flows"
    messages_table: str = "flowless-messages"
    sessions_table: str = "flowless-sessions"
    api_keys_table: str = "flowless-api-keys"
    variables_table: str = "flowless-variables"
    jobs_table: str = "flowless-jobs"
    # S3 bucket of uploaded files (keys begin with the tenant).
    files_bucket: str = "flowless-files"
    # Idle lifetime of a chat session when the flow sets none.
    session_ttl_minutes: int = 30
    # How long messages stay visible in /monitor (history is further bounded by the session).
    message_retention_hours: int = 168
    job_retention_hours: int = 24
    # Builds (/build): the BuildJob state machine (in-process runner when unset), the bucket for
    # checkpoints and event pages too large for a DynamoDB item, and the events long-poll bound.
    build_state_machine_arn: str | None = None
    jobs_bucket: str | None = None
    events_long_poll_seconds: float = 25.0
    events_poll_interval_ms: int = 250
    token_batch_ms: int = 50
    # A build still running this long after it started is reported failed (the state machine's timeout).
    build_timeout_seconds: int = 3600
    max_vertex_builds_per_vertex: int = 2
    # Knowledge bases (RAG): "s3vectors" (the default when VECTOR_BUCKET names an S3 Vectors bucket)
    # or "flat" (vectors as JSON objects under FLOWLESS_VECTORS_DIR, else in the files bucket).
    vector_store: str = ""
    vector_bucket: str | None = None
    vectors_dir: str | None = None
    # An ingest of more chunks than this runs as a background job (202 with a job id).
    ingest_async_chunks: int = 200
    auth_cache_seconds: int = 30
    flow_cache_size: int = 256
    # How long a warm process reuses a flow's record and a variable's value (store/read_cache.py).
    read_cache_seconds: float = 2.0
    # Limits: a request body (Lambda's synchronous payload limit; 413 beyond), the longest a /run
    # stream stays open (an `error` event then ends it; below RunStreamFunction's 300 s timeout),
    # and how long the first answer to an Idempotency-Key is replayed.
    max_body_bytes: int = 6 * 1024 * 1024
    max_stream_seconds: float = 280.0
    idempotency_ttl_seconds: int = 3600
    # Secrets: KMS envelope encryption when a key id is set, else a local key file.
    kms_key_id: str | None = None
    local_key_file: str = ".flowless/local.key"
    stage: str = "dev"
    # Approved user code: the sandbox function (unset: a local subprocess per call) and the limits
    # of one call (the function's own Timeout and MemorySize in AWS).
    custom_code_function: str | None = None
    custom_code_timeout_seconds: int = 10
    custom_code_memory_mb: int = 512
    version: str = VERSION

    def table_names(self) -> dict[str, str]:
        """Logical table name -> physical table name."""
        return {
            "flows": self.flows_table,
            "messages": self.messages_table,
            "sessions": self.sessions_table,
            "api-keys": self.api_keys_table,
            "variables": self.variables_table,
            "jobs": self.jobs_table,
        }

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def text(name: str, default: str) -> str:
            return env.get(name) or default

        def optional(name: str) -> str | None:
            return env.get(name) or None

        def integer(name: str, default: int) -> int:
            raw = env.get(name)
            return int(raw) if raw else default

        prefix = env.get("FLOWLESS_TABLE_PREFIX") or "flowless"
        tables = {name: text(var, f"{prefix}-{name}") for name, var in TABLE_ENV_VARS.items()}
        return cls(
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or cls.region,
            dynamodb_endpoint=optional("AWS_ENDPOINT_URL_DYNAMODB"),
            flows_table=tables["flows"],
            messages_table=tables["messages"],
            sessions_table=tables["sessions"],
            api_keys_table=tables["api-keys"],
            variables_table=tables["variables"],
            jobs_table=tables["jobs"],
            files_bucket=text("FILES_BUCKET", cls.files_bucket),
            session_ttl_minutes=integer("FLOWLESS_SESSION_TTL_MINUTES", cls.session_ttl_minutes),
            message_retention_hours=integer("FLOWLESS_MESSAGE_RETENTION_HOURS", cls.message_retention_hours),
            job_retention_hours=integer("FLOWLESS_JOB_RETENTION_HOURS", cls.job_retention_hours),
            build_state_machine_arn=optional("BUILD_STATE_MACHINE_ARN"),
            jobs_bucket=optional("JOBS_BUCKET"),
            events_long_poll_seconds=float(env.get("FLOWLESS_EVENTS_LONG_POLL_SECONDS") or cls.events_long_poll_seconds),
            events_poll_interval_ms=integer("FLOWLESS_EVENTS_POLL_INTERVAL_MS", cls.events_poll_interval_ms),
            token_batch_ms=integer("FLOWLESS_TOKEN_BATCH_MS", cls.token_batch_ms),
            build_timeout_seconds=integer("FLOWLESS_BUILD_TIMEOUT_SECONDS", cls.build_timeout_seconds),
            max_vertex_builds_per_vertex=integer("FLOWLESS_MAX_VERTEX_BUILDS_PER_VERTEX", cls.max_vertex_builds_per_vertex),
            vector_store=text("FLOWLESS_VECTOR_STORE", cls.vector_store),
            vector_bucket=optional("VECTOR_BUCKET"),
            vectors_dir=optional("FLOWLESS_VECTORS_DIR"),
            ingest_async_chunks=integer("FLOWLESS_INGEST_ASYNC_CHUNKS", cls.ingest_async_chunks),
            auth_cache_seconds=integer("FLOWLESS_AUTH_CACHE_SECONDS", cls.auth_cache_seconds),
            flow_cache_size=integer("FLOWLESS_FLOW_CACHE_SIZE", cls.flow_cache_size),
            read_cache_seconds=float(env.get("FLOWLESS_READ_CACHE_SECONDS") or cls.read_cache_seconds),
            max_body_bytes=integer("FLOWLESS_MAX_BODY_BYTES", cls.max_body_bytes),
            max_stream_seconds=float(env.get("FLOWLESS_MAX_STREAM_SECONDS") or cls.max_stream_seconds),
            idempotency_ttl_seconds=integer("FLOWLESS_IDEMPOTENCY_TTL_SECONDS", cls.idempotency_ttl_seconds),
            kms_key_id=optional("FLOWLESS_KMS_KEY_ID"),
            local_key_file=text("FLOWLESS_LOCAL_KEY_FILE", cls.local_key_file),
            stage=text("FLOWLESS_STAGE", cls.stage),
            custom_code_function=optional("CUSTOM_CODE_FUNCTION"),
            custom_code_timeout_seconds=integer("FLOWLESS_CUSTOM_CODE_TIMEOUT_SECONDS", cls.custom_code_timeout_seconds),
            custom_code_memory_mb=integer("FLOWLESS_CUSTOM_CODE_MEMORY_MB", cls.custom_code_memory_mb),
        )


@cache
def get_settings() -> Settings:
    return Settings.from_env()


def reset_settings_cache() -> None:
    get_settings.cache_clear()
