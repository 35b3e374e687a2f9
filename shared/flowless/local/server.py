"""`flowless run --backend-only`: every router in one uvicorn process on 127.0.0.1, with an
embedded in-memory DynamoDB (moto) unless an endpoint is given, and the example flows loaded."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEV_TENANT = "local"


MODEL_TYPES = {"LanguageModelComponent", "OpenAIModel", "Agent", "StructuredOutput"}


@dataclass
class LoadedFlow:
    id: str
    name: str
    endpoint_name: str | None
    needs_model: bool


@dataclass
class LocalEnvironment:
    endpoint: str
    api_key: str
    tenant: str
    flows: list["LoadedFlow"]
    stop: Any = None


DYNAMODB_PORT = 8000  # DynamoDB Local's port: `--dynamodb-endpoint http://127.0.0.1:8000` reaches the embedded one


def prepare_environment(*, flows_dir: str | None, dynamodb_endpoint: str | None, tenant: str = DEV_TENANT,
                        dynamodb_port: int | None = None) -> LocalEnvironment:
    """Point the store at DynamoDB (embedded when no endpoint), create tables, a dev key, flows."""
    # Fake credentials are enough for moto/DynamoDB Local; real ones are kept when present.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    # Local model servers (Ollama, llama.cpp, a test server) live on loopback.
    os.environ.setdefault("FLOWLESS_ALLOW_LOOPBACK", "true")
    stop = None
    if dynamodb_endpoint:
        endpoint = dynamodb_endpoint
    else:
        from flowless.local.dynamodb import start_embedded_dynamodb

        endpoint, stop = start_embedded_dynamodb(dynamodb_port)
        os.environ["AWS_ENDPOINT_URL_S3"] = endpoint  # moto serves S3 (uploaded files) there too
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint

    from flowless.settings import reset_settings_cache
    from flowless.store.connection import configure
    from flowless.store.files import ensure_files_bucket
    from flowless.store.tables import create_tables

    reset_settings_cache()
    settings = configure()
    if not dynamodb_endpoint:
        from flowless.local.dynamodb import answer_in_process
        from flowless.store.connection import connection

        answer_in_process(connection().client, settings.region)
    create_tables()
    ensure_files_bucket()
    api_key = ensure_dev_key(tenant, os.environ.get("FLOWLESS_API_KEY"))
    loaded = load_flows(tenant, Path(flows_dir)) if flows_dir else []
    return LocalEnvironment(endpoint=endpoint, api_key=api_key, tenant=tenant, flows=loaded, stop=stop)


def ensure_dev_key(tenant: str, fixed: str | None) -> str:
    from flowless.auth.keys import authenticate, create_api_key

    scopes = ["read", "execute", "write", "admin"]
    if fixed:
        if authenticate(fixed) is None:
            create_api_key(tenant, "dev", scopes=scopes, plaintext=fixed)
        return fixed
    plaintext, _ = create_api_key(tenant, "dev", scopes=scopes)
    return plaintext


def load_flows(tenant: str, folder: Path) -> list[LoadedFlow]:
    """Upsert every flow export in `folder` (by its own id) into the tenant."""
    from flowless.store.flows import FlowRepository

    repo = FlowRepository(tenant)
    loaded = []
    for path in sorted(folder.glob("*.json")):
        try:
            export = json.loads(path.read_text(encoding="utf-8-sig"))  # an editor's BOM is fine
        except ValueError as exc:
            print(f"  skipped {path.name}: not valid JSON ({exc})", file=sys.stderr)
            continue
        for flow in export.get("flows", [export]) if isinstance(export, dict) else []:
            flow_id = flow.get("id") or path.stem
            fields = {k: flow[k] for k in ("description", "endpoint_name", "tags", "icon", "is_component") if flow.get(k) is not None}
            data = flow.get("data") or {}
            saved, _ = repo.upsert(flow_id, name=flow.get("name") or path.stem, data=data, **fields)
            types = {(node.get("data") or {}).get("type") for node in data.get("nodes", []) if isinstance(node, dict)}
            loaded.append(LoadedFlow(saved.id, saved.name, saved.endpoint_name, bool(types & MODEL_TYPES)))
    return loaded


def welcome(env: LocalEnvironment, host: str, port: int) -> str:
    base = f"http://{host}:{port}"
    lines = [
        f"Welcome to Flowless — Langflow's API, served natively at {base}",
        f"  DynamoDB:  {env.endpoint}",
        f"  tenant:    {env.tenant}  (also at {base}/lf/{env.tenant}/api/v1/...)",
        f"  API key:   {env.api_key}",
    ]
    for flow in env.flows:
        note = "  (needs OPENAI_BASE_URL)" if flow.needs_model and not os.environ.get("OPENAI_BASE_URL") else ""
        lines.append(f"  flow:      {flow.name}  id={flow.id}" + (f"  endpoint={flow.endpoint_name}" if flow.endpoint_name else "") + note)
    # The sample call uses a flow that works with no model configured, when there is one.
    sample = next((f for f in env.flows if not f.needs_model), env.flows[0] if env.flows else None)
    if sample is not None:
        target = sample.endpoint_name or sample.id
        lines += [
            "Try it:",
            f"  curl -s -X POST '{base}/api/v1/run/{target}?stream=false' \\",
            "    -H 'Content-Type: application/json' \\",
            f"    -H 'x-api-key: {env.api_key}' \\",
            """    -d '{"input_value": "Hello, Flowless", "output_type": "chat", "input_type": "chat"}'""",
        ]
    return "\n".join(lines)


class PortInUse(SystemExit):
    """Another process listens on the port: said before anything is prepared or printed."""


def check_port(host: str, port: int) -> None:
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no obstacle
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise PortInUse(
                f"flowless run: cannot listen on {host}:{port}: {exc.strerror or exc}. "
                f"Another server (perhaps an earlier `make run`) is using it: stop it, or pick another port "
                f"with `flowless run --port <N>` (make run PORT=<N>)."
            ) from None


def serve(*, host: str = "127.0.0.1", port: int = 7860, flows_dir: str | None = "flows", dynamodb_endpoint: str | None = None) -> None:
    import uvicorn

    from flowless.api.app import create_app

    check_port(host, port)  # before the key and the sample curl are printed

    env = prepare_environment(flows_dir=flows_dir if flows_dir and Path(flows_dir).is_dir() else None, dynamodb_endpoint=dynamodb_endpoint,
                              dynamodb_port=int(os.environ.get("FLOWLESS_DYNAMODB_PORT") or DYNAMODB_PORT))
    print(welcome(env, host, port), flush=True)
    try:
        uvicorn.run(create_app(), host=host, port=port, log_level=os.environ.get("FLOWLESS_LOG_LEVEL", "warning").lower())
    finally:
        if env.stop is not None:
            env.stop()
