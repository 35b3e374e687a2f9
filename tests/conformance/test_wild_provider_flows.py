"""Real exports (../shared/wild-flows, read in place) whose only unsupported node types were model
and embedding providers: each now runs end to end against the local protocol servers, and each
provider's server is the one that answered.

What a tenant would supply is supplied here: keys as variables (the exports carry none), the
uploaded file a File node names, a knowledge store for Chroma, and the providers' addresses
pointed at the test servers. `akhil838-RAG__Vector Store RAG.json` is left out: its File node
uses the older `data` output, which belongs to the files family, not to the providers.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flowless_engine.api import run_flow_from_json
from flowless_engine.components.providers_base import ChatProviderComponent, EmbeddingsProviderComponent
from flowless_engine.components.registry import get_component_class, resolve_type
from flowless_engine.llm import providers
from flowless_engine.settings import EngineSettings
from flowless_engine.vectors.memory import InMemoryKnowledgeBases, InMemoryVectorStore
from tests.support.cohere_server import CohereServer
from tests.support.engine_kit import SHARED_FLOWS
from tests.support.model_server import ModelServer

WILD_FLOWS = SHARED_FLOWS.parent / "wild-flows"
# file → the servers that must have answered
FLOWS = {
    "JaiRathi-AI_WorkFlow_Agents__AI_3X_Naive RAG_Task11July2026.json": ("openai",),  # Groq + Mistral embeddings
    "JaiRathi-AI_WorkFlow_Agents__Flaky Test Detection.json": ("openai",),  # OpenRouter
    "SahilSapte11-Langflow_Data_Flows__Linked_SavedItems_Vector Search rag.json": ("cohere",),  # Cohere chat + embeddings
    "Shannuuu2012-flowbit-langflow__classifier.json": ("openai",),  # Ollama
    "julianclinton-demo-langflow-agents__Basic Ollama chat.json": ("openai",),  # Ollama
    "s1ds1ngh-Langflow-Workflows__Doc-QA.json": ("openai",),  # Groq
}
DOCUMENT = "Flowless runs Langflow flows natively.\nThe cat sat on the mat.\n"


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, ModelServer]]:
    with ModelServer() as openai_like, CohereServer() as cohere:
        yield {"openai": openai_like, "cohere": cohere}


@pytest.fixture(autouse=True)
def _pointed_at_servers(servers: dict[str, ModelServer], monkeypatch: pytest.MonkeyPatch) -> None:
    for key, provider in providers.PROVIDERS.items():
        if provider.protocol == "openai":
            monkeypatch.setitem(providers.PROVIDERS, key, dataclasses.replace(provider, base_url=servers["openai"].base_url))
    monkeypatch.setattr("flowless_engine.llm.cohere.COHERE_BASE_URL", servers["cohere"].url)
    for server in servers.values():
        server.reset()
        server.chunk_delay_s = 0


def tenant_setup(exported: dict[str, Any], servers: dict[str, ModelServer]) -> tuple[dict[str, Any], dict[str, str]]:
    """Tweaks and variables a tenant would give this flow."""
    tweaks: dict[str, Any] = {}
    variables = {p.key_variable: "tenant-key" for p in providers.PROVIDERS.values() if p.key_variable}
    for item in exported["data"]["nodes"]:
        data = item.get("data", {})
        template = data.get("node", {}).get("template", {})
        for spec in template.values():
            if isinstance(spec, dict) and spec.get("load_from_db") and isinstance(spec.get("value"), str) and spec["value"]:
                variables[spec["value"]] = "tenant-key"
        resolved = resolve_type(data.get("type") or "")
        if resolved is None:
            continue
        mine = tweaks.setdefault(item["id"], {})
        if resolved == "File":
            mine["path"] = {"value": ["doc.txt"], "file_path": ["doc.txt"]}
        for name, spec in template.items():  # keys left out of the export
            if isinstance(spec, dict) and spec.get("password") and spec.get("required") and not spec.get("value"):
                mine[name] = "tenant-key"
        cls = get_component_class(resolved)
        if issubclass(cls, (ChatProviderComponent, EmbeddingsProviderComponent)) and cls.url_field:
            host_only = resolved in ("GroqModel", "OllamaModel", "OllamaEmbeddings")
            url = servers["openai"].url if host_only else servers["openai"].base_url
            for name in (cls.url_field, cls.legacy_fields.get(cls.url_field, "")):
                if name in template:
                    mine[name] = url
    return tweaks, variables


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_a_provider_only_wild_flow_runs(name: str, servers: dict[str, ModelServer], tmp_path: Path) -> None:
    exported = json.loads((WILD_FLOWS / name).read_text(encoding="utf-8-sig"))
    (tmp_path / "doc.txt").write_text(DOCUMENT)
    tweaks, variables = tenant_setup(exported, servers)
    outputs = run_flow_from_json(
        exported, "What does Flowless do?", tweaks=tweaks, variables=variables, files_root=tmp_path,
        settings=EngineSettings(allow_loopback=True, http_retries=0, http_timeout_s=10),
        vectors=InMemoryVectorStore(), knowledge=InMemoryKnowledgeBases([]),
    )
    results = [o for record in outputs for o in record["outputs"]]
    assert results, "the flow produced no output"
    texts = [str(o["results"]) for o in results]
    assert any("Echo:" in t or "What does Flowless do?" in t for t in texts), texts
    for server_name in FLOWS[name]:
        assert servers[server_name].requests, f"{server_name} server was never called"
