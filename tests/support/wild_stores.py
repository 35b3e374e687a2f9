"""Run the real exports in ../shared/wild-flows that name a vector store or a chat memory against
the local servers: the Astra Data API fake (any token accepted), the OpenAI-compatible model
server for chat and embeddings. Every store node is pointed at the local server by tweaks, as
a user would point it at their own database; credentials are placeholder tenant variables.

`survey()` answers, per flow: "runs", "unsupported: <types>", or the error it stopped on.
Used by tests/conformance/test_wild_stores.py and `python -m tests.support.wild_stores`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

WILD_FLOWS = (Path(__file__).resolve().parents[2] / ".." / "shared" / "wild-flows").resolve()
STORE_OR_MEMORY = re.compile(
    r"(astra|memory|message|vector|faiss|chroma|milvus|mongo|opensearch|qdrant|pinecone|weaviate|elastic|redis|pgvector|"
    r"supabase|couchbase|upstash|cassandra|hcd|zep|mem0)", re.I)
SAMPLE_NAME = "refunds.txt"
SAMPLE_TEXT = ("Refunds are paid within fourteen days of the request. Invoices are sent on the first of each month. "
               "The office opens at nine in the morning.")
ASTRA_TYPES = {"AstraDB", "AstraVectorStoreComponent", "AstraDBSearch", "AstraDBToolComponent",
               "ext:datastax:AstraDBVectorStoreComponent@official"}


def wild_flows() -> list[Path]:
    return sorted(WILD_FLOWS.glob("*.json"))


def nodes(exported: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for n in exported.get("data", {}).get("nodes", []) if n.get("type") != "noteNode" and "type" in n.get("data", {})]


def store_flows() -> list[Path]:
    found = []
    for path in wild_flows():
        try:
            exported = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if any(STORE_OR_MEMORY.search(n["data"]["type"]) for n in nodes(exported)):
            found.append(path)
    return found


class AnyVariable:
    """Tenant variables for a measurement: endpoints → the local servers, anything else a placeholder."""

    def __init__(self, astra_url: str, model_url: str) -> None:
        self.astra_url, self.model_url = astra_url, model_url

    async def get(self, name: str) -> str | None:
        upper = name.upper()
        if "ENDPOINT" in upper or upper.startswith("ASTRA_DB_API"):
            return self.astra_url
        if "BASE_URL" in upper or upper.endswith("_URL") or "API_BASE" in upper:
            return self.model_url
        return "placeholder-credential"


def tweaks_for(exported: dict[str, Any], astra_url: str, model_url: str) -> dict[str, Any]:
    tweaks: dict[str, Any] = {}
    for node in nodes(exported):
        data = node["data"]
        fields = data.get("node", {}).get("template", {})
        node_tweaks: dict[str, Any] = {}
        if data["type"] in ASTRA_TYPES:
            for name in ("api_endpoint", "d_api_endpoint"):
                if name in fields and not (fields[name].get("load_from_db") and fields[name].get("value")):
                    node_tweaks[name] = astra_url
            if not fields.get("collection_name", {}).get("value"):
                node_tweaks["collection_name"] = "measured"
            if "database_name" in fields and not fields["database_name"].get("value"):
                node_tweaks["database_name"] = "measured"
            if not fields.get("token", {}).get("value"):
                node_tweaks["token"] = "placeholder-token"
        for name, spec in fields.items():  # credentials the export left out: placeholders, as a user would fill them
            if isinstance(spec, dict) and spec.get("password") and not spec.get("value") and name not in node_tweaks:
                node_tweaks[name] = "placeholder-credential"
        if data["type"] == "File" and "path" in fields:
            node_tweaks["path"] = [SAMPLE_NAME]
        for name in ("openai_api_base", "api_base", "base_url", "ollama_base_url"):
            if name in fields and isinstance(fields[name], dict) and fields[name].get("type") == "str" and not fields[name].get("load_from_db"):
                node_tweaks[name] = model_url
        if node_tweaks:
            tweaks[data["id"]] = node_tweaks
    return tweaks


@contextmanager
def servers() -> Iterator[tuple[Any, Any]]:
    from tests.support.astra_server import AstraServer
    from tests.support.model_server import ModelServer

    class AnyTokenAstra(AstraServer):
        def handle(self, request: Any) -> tuple[int, Any]:
            self.tokens.add(request.headers.get("token", ""))
            return super().handle(request)

    with AnyTokenAstra(tokens=()) as astra, ModelServer() as models:
        for keyspace in ("default_keyspace",):
            astra.data.setdefault(keyspace, {})
        yield astra, models


async def run_one(path: Path, astra: Any, models: Any, files_root: Path) -> str:
    from flowless_engine.components.registry import is_supported
    from flowless_engine.errors import FlowError
    from flowless_engine.graph.loader import load_graph
    from flowless_engine.runtime.context import RunContext
    from flowless_engine.runtime.request import RunRequest
    from flowless_engine.runtime.run import run_graph
    from flowless_engine.runtime.services import InMemoryMessageStore, LocalFileStore
    from flowless_engine.settings import EngineSettings
    from flowless_engine.vectors.memory import InMemoryKnowledgeBases, InMemoryVectorStore

    try:
        exported = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return "error: not JSON"
    missing = sorted({n["data"]["type"] for n in nodes(exported) if not is_supported(n["data"]["type"])})
    if missing:
        return "unsupported: " + ", ".join(missing)
    graph = load_graph(exported)
    ctx = RunContext(flow_id=graph.flow_id, session_id="measure", variables=AnyVariable(astra.api_endpoint, models.base_url),
                     messages=InMemoryMessageStore(), settings=EngineSettings(allow_loopback=True, http_retries=0),
                     files=LocalFileStore(files_root), vectors=InMemoryVectorStore(), knowledge=InMemoryKnowledgeBases())
    request = RunRequest(input_value="What do you know about refunds?", tweaks=tweaks_for(exported, astra.api_endpoint, models.base_url))
    try:
        await run_graph(graph, request, ctx)
    except FlowError as exc:
        return f"error: {exc.code}: {exc.message[:200]}"
    return "runs"


def survey() -> dict[str, str]:
    import asyncio
    import tempfile

    with servers() as (astra, models), tempfile.TemporaryDirectory() as root:
        (Path(root) / SAMPLE_NAME).write_text(SAMPLE_TEXT, encoding="utf-8")
        return {path.name: asyncio.run(run_one(path, astra, models, Path(root))) for path in store_flows()}


if __name__ == "__main__":
    outcome = survey()
    for name, result in outcome.items():
        print(f"{result[:150]:150s} | {name}")
    print(f"{sum(r == 'runs' for r in outcome.values())} of {len(outcome)} store/memory flows run")
