"""Engine settings: defaults a flow falls back on. Read from the environment once, overridable."""

from __future__ import annotations

import os
from dataclasses import dataclass


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _env_pairs(name: str) -> tuple[tuple[str, str], ...]:
    """`service=url,service=url` → ((service, url), ...)."""
    pairs = []
    for item in os.environ.get(name, "").split(","):
        key, _, value = item.partition("=")
        if key.strip() and value.strip():
            pairs.append((key.strip().lower(), value.strip()))
    return tuple(pairs)


@dataclass(frozen=True)
class EngineSettings:
    # Model used when a flow leaves its model field unset (Langflow starters ship it empty).
    default_provider: str = "OpenAI"
    default_model: str = "gpt-4o-mini"
    # Resolve `load_from_db` variables from environment variables when the tenant lacks them.
    fallback_to_env: bool = False
    # Outbound network guard: link-local and metadata addresses are always refused.
    allow_private_networks: bool = False
    allow_loopback: bool = False
    http_timeout_s: float = 60.0
    http_retries: int = 2
    # Limits that keep one run bounded.
    max_agent_iterations: int = 25
    max_input_chars: int = 1_000_000
    max_nodes: int = 500
    # Levels of nesting in a run's tweaks: the tweaks object is 1, a node's object 2, a field's value 3.
    max_tweak_depth: int = 16
    # Items one Loop component may iterate over in a run (more is refused before the first).
    max_loop_iterations: int = 1000
    # Run Flow / Sub Flow / Flow as Tool: how deeply flows may call flows.
    max_flow_depth: int = 3
    # SQL Database: SQLite files are opened only inside this folder ("" = only :memory:).
    sqlite_root: str = ""
    # Base URLs replacing the public endpoints of hosted services (search APIs...), as
    # (service, url) pairs: a self-hosted mirror, or a local server in tests.
    service_urls: tuple[tuple[str, str], ...] = ()
    # Git components (smart HTTP fetch): the largest pack and the largest file they accept.
    git_max_pack_bytes: int = 64 * 1024 * 1024
    git_max_file_bytes: int = 16 * 1024 * 1024

    @classmethod
    def from_env(cls, *, library: bool = False) -> "EngineSettings":
        """The settings from FLOWLESS_* environment variables. `library=True` is for a flow run in
        the user's own process (run_flow_from_json, export-python scripts): there the network guard
        protects nobody from a tenant, so loopback and private networks (a local Ollama, a vLLM on
        the LAN) are allowed unless FLOWLESS_ALLOW_LOOPBACK / FLOWLESS_ALLOW_PRIVATE_NETWORKS say
        otherwise. The service keeps the strict defaults. Metadata addresses are always refused."""
        return cls(
            default_provider=os.environ.get("FLOWLESS_DEFAULT_MODEL_PROVIDER", cls.default_provider),
            default_model=os.environ.get("FLOWLESS_DEFAULT_MODEL", cls.default_model),
            fallback_to_env=_env_bool("FLOWLESS_FALLBACK_TO_ENV_VARS", cls.fallback_to_env),
            allow_private_networks=_env_bool("FLOWLESS_ALLOW_PRIVATE_NETWORKS", library or cls.allow_private_networks),
            allow_loopback=_env_bool("FLOWLESS_ALLOW_LOOPBACK", library or cls.allow_loopback),
            http_timeout_s=float(os.environ.get("FLOWLESS_HTTP_TIMEOUT", cls.http_timeout_s)),
            http_retries=int(os.environ.get("FLOWLESS_HTTP_RETRIES", cls.http_retries)),
            max_agent_iterations=int(os.environ.get("FLOWLESS_MAX_AGENT_ITERATIONS", cls.max_agent_iterations)),
            max_input_chars=int(os.environ.get("FLOWLESS_MAX_INPUT_CHARS", cls.max_input_chars)),
            max_nodes=int(os.environ.get("FLOWLESS_MAX_NODES", cls.max_nodes)),
            max_tweak_depth=int(os.environ.get("FLOWLESS_MAX_TWEAK_DEPTH", cls.max_tweak_depth)),
            max_loop_iterations=int(os.environ.get("FLOWLESS_MAX_LOOP_ITERATIONS", cls.max_loop_iterations)),
            service_urls=_env_pairs("FLOWLESS_SERVICE_URLS"),
            sqlite_root=os.environ.get("FLOWLESS_SQLITE_ROOT", cls.sqlite_root),
            max_flow_depth=int(os.environ.get("FLOWLESS_MAX_FLOW_DEPTH", cls.max_flow_depth)),
            git_max_pack_bytes=int(os.environ.get("FLOWLESS_GIT_MAX_PACK_BYTES", cls.git_max_pack_bytes)),
            git_max_file_bytes=int(os.environ.get("FLOWLESS_GIT_MAX_FILE_BYTES", cls.git_max_file_bytes)),
        )
