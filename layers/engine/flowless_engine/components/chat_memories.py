"""External chat memories reached over HTTP (lfx-bundles): Mem0 (its platform API) and Zep (its
sessions API). Each node's `memory` output is a history object with `get_messages` /
`add_messages`, so Message History (`Memory`) and Message Store read and write it through their
`memory` input the way they use the flow's own history (`Message`s with sender, sender name,
session, timestamp and id).

- Mem0 Chat Memory: with `mem0_api_key`, the Mem0 platform at https://api.mem0.ai (or
  `mem0_config["host"]`, else the tenant variable MEM0_API_URL), `Authorization: Token <key>`.
  `ingest_message` is added for `user_id`, with `metadata`; `search_results` are the memories
  found for `search_query` (all of the user's memories without a query), one Data row each
  (Mem0's fields, the memory also under `text`). As an external memory of Message History, a
  session's messages go in (role user / assistant) and its memories come out as the Machine's
  messages. Without an API key Langflow runs Mem0's open-source library in-process (a vector
  store and an LLM of its own): that is not available here and answers a configuration error.
- Zep Chat Memory: `url` + `api_base_path` (`api/v1`, Zep's open-source server; `api/v2`, Zep's
  sessions API: a missing session is created on first write), the key as `Bearer` (v1) or
  `Api-Key` (v2). Messages keep Zep's roles: `human`/`ai` (v1), `role_type` user/assistant (v2).
"""

from __future__ import annotations

from typing import Any

from flowless_engine.components.base import Component, Input, Output, to_text
from flowless_engine.errors import ConfigurationError
from flowless_engine.schema import Data, Message

MEM0_HOST = "https://api.mem0.ai"
MEMORY_LIMIT = 100


def _rest(http: Any, base_url: str, headers: dict[str, str], label: str) -> Any:
    from flowless_engine.vectors.external import RestStore

    store = RestStore(http, base_url, headers)
    store.label = label
    return store


def _human(message: Message) -> bool:
    return (message.sender or "").lower() in ("user", "human")


# ---- Mem0 -----------------------------------------------------------------------------------


class Mem0Memory:
    """A Mem0 platform project for one user: the `Memory` a Mem0 node outputs."""

    label = "Mem0"

    def __init__(self, http: Any, host: str, api_key: str, user_id: str = "") -> None:
        self.rest = _rest(http, host, {"Authorization": f"Token {api_key}"}, self.label)
        self.user_id = user_id

    def _owner(self, user_id: str | None) -> str:
        owner = (user_id or self.user_id or "").strip()
        if not owner:
            raise ConfigurationError("Mem0 needs a user ID (the node's `user_id`, or a session) to read or write memories")
        return owner

    async def add(self, messages: list[dict[str, str]], *, user_id: str, metadata: dict[str, Any] | None = None) -> Any:
        body: dict[str, Any] = {"messages": messages, "user_id": self._owner(user_id)}
        if metadata:
            body["metadata"] = metadata
        return await self.rest.call("POST", "/v1/memories/", "adding memories", body)

    async def search(self, query: str, *, user_id: str) -> list[dict[str, Any]]:
        answer = await self.rest.call("POST", "/v2/memories/search/", "searching memories",
                                      {"query": query, "filters": {"user_id": self._owner(user_id)}})
        return _memories(answer)

    async def get_all(self, *, user_id: str) -> list[dict[str, Any]]:
        answer = await self.rest.call("POST", "/v2/memories/", "listing memories", {"filters": {"user_id": self._owner(user_id)}})
        return _memories(answer)

    # the external-memory protocol of Message History / Message Store
    async def get_messages(self, session_id: str | None = None, limit: int = MEMORY_LIMIT) -> list[Message]:
        found = await self.get_all(user_id=self.user_id or session_id or "")
        found.sort(key=lambda m: str(m.get("created_at") or ""))
        messages = [Message(text=str(m.get("memory") or ""), sender="Machine", sender_name="Mem0", session_id=session_id or "",
                            id=str(m.get("id") or ""), timestamp=str(m.get("created_at") or "")) for m in found]
        return messages[-limit:] if limit else messages

    async def add_messages(self, messages: list[Message], session_id: str | None = None) -> None:
        turns = [{"role": "user" if _human(m) else "assistant", "content": m.plain_text} for m in messages if m.plain_text]
        if turns:
            await self.add(turns, user_id=self.user_id or session_id or "")


def _memories(answer: Any) -> list[dict[str, Any]]:
    """Mem0 answers a list, or (paginated / v1.1 format) an object holding `results`."""
    if isinstance(answer, dict):
        answer = answer.get("results") if isinstance(answer.get("results"), list) else answer.get("memories")
    return [m for m in answer or [] if isinstance(m, dict)]


class Mem0ChatMemoryComponent(Component):
    type_name = "mem0_chat_memory"
    display_name = "Mem0 Chat Memory"
    description = "Retrieves and stores chat messages using Mem0 memory storage."
    category = "memories"
    icon = "Mem0"
    inputs = (
        Input("mem0_config", "Mem0 Configuration", "NestedDict", {}, input_types=("Data", "JSON"), input_kind="NestedDictInput",
              info="Configuration of the Mem0 memory; with an API key, `host` names the Mem0 platform's address."),
        Input("ingest_message", "Message to Ingest", "str", "", input_types=("Message",), input_kind="MessageTextInput",
              info="The message content to be ingested into Mem0 memory."),
        Input("existing_memory", "Existing Memory Instance", "other", "", input_types=("Memory",), input_kind="HandleInput",
              info="Optional existing Mem0 memory instance. If not provided, a new instance will be created."),
        Input("user_id", "User ID", "str", "", input_types=("Message",), input_kind="MessageTextInput",
              info="Identifier for the user associated with the messages."),
        Input("search_query", "Search Query", "str", "", input_types=("Message",), input_kind="MessageTextInput",
              info="Input text for searching related memories in Mem0."),
        Input("mem0_api_key", "Mem0 API Key", "str", "", password=True, input_kind="SecretStrInput",
              info="API key for Mem0 platform. Leave empty to use the local version."),
        Input("metadata", "Metadata", "dict", {}, advanced=True, input_kind="DictInput",
              info="Additional metadata to associate with the ingested message."),
        Input("openai_api_key", "OpenAI API Key", "str", "", password=True, input_kind="SecretStrInput",
              info="API key for OpenAI. Required if using OpenAI Embeddings without a provided configuration."),
    )
    outputs = (
        Output("memory", "ingest_data", ("Memory",), "Mem0 Memory"),
        Output("search_results", "build_search_results", ("Data",), "Search Results"),
    )

    _memory: Mem0Memory | None = None
    _ingested = False

    async def build_mem0(self) -> Mem0Memory:
        existing = self.params.get("existing_memory")
        if isinstance(existing, Mem0Memory):
            return existing
        api_key = to_text(await self.secret("mem0_api_key") or "").strip()
        if not api_key:
            raise ConfigurationError(f"Component '{self.name}': Mem0's local (open-source) mode runs a vector store and an LLM in-process "
                                     "and is not available in Flowless; set `mem0_api_key` to use the Mem0 platform")
        config = self.params.get("mem0_config")
        host = to_text(config.get("host") or "") if isinstance(config, dict) else ""
        host = host.strip() or to_text(await self.ctx.variable("MEM0_API_URL") or "").strip() or MEM0_HOST
        return Mem0Memory(self.ctx.http, host, api_key, to_text(self.param("user_id", "")).strip())

    async def ingest_data(self) -> Mem0Memory:
        if self._memory is None:
            self._memory = await self.build_mem0()
        if not self._ingested:
            self._ingested = True
            text = to_text(self.param("ingest_message", "")).strip()
            user_id = to_text(self.param("user_id", "")).strip()
            if text and user_id:
                metadata = self.params.get("metadata")
                await self._memory.add([{"role": "user", "content": text}], user_id=user_id,
                                       metadata=metadata if isinstance(metadata, dict) else None)
                self.log(f"Ingested a message for user {user_id}")
            else:
                self.log("Missing 'ingest_message' or 'user_id': nothing ingested")
        return self._memory

    async def build_search_results(self) -> list[Data]:
        memory = await self.ingest_data()
        user_id = to_text(self.param("user_id", "")).strip()
        query = to_text(self.param("search_query", "")).strip()
        found = await memory.search(query, user_id=user_id) if query else await memory.get_all(user_id=user_id)
        rows = [Data(data={**m, "text": str(m.get("memory") or "")}) for m in found]
        self.status = rows
        return rows


# ---- Zep ------------------------------------------------------------------------------------


class ZepHistory:
    """One Zep session's messages (the `Memory` a Zep node outputs)."""

    label = "Zep"

    def __init__(self, http: Any, url: str, api_key: str, base_path: str, session_id: str) -> None:
        self.v2 = base_path.strip("/").endswith("v2")
        scheme = "Api-Key" if self.v2 else "Bearer"
        self.rest = _rest(http, f"{url.rstrip('/')}/{base_path.strip('/')}", {"Authorization": f"{scheme} {api_key}"} if api_key else {},
                          self.label)
        self.session_id = session_id

    def _path(self, session_id: str | None) -> str:
        from urllib.parse import quote

        return f"/sessions/{quote(session_id or self.session_id, safe='')}/memory"

    async def get_messages(self, session_id: str | None = None, limit: int = MEMORY_LIMIT) -> list[Message]:
        session = session_id or self.session_id
        answer = await self.rest.call("GET", f"{self._path(session)}?lastn={max(1, limit)}", f"reading session '{session}'", missing_ok=True)
        messages = []
        for raw in (answer or {}).get("messages") or []:
            if not isinstance(raw, dict):
                continue
            role = str(raw.get("role") or "")
            kind = str(raw.get("role_type") or role).lower()
            human = kind in ("user", "human")
            messages.append(Message(text=str(raw.get("content") or ""), sender="User" if human else "Machine",
                                    sender_name=role if self.v2 and role else ("User" if human else "AI"), session_id=session,
                                    id=str(raw.get("uuid") or raw.get("id") or ""), timestamp=str(raw.get("created_at") or "")))
        return messages[-limit:] if limit else messages

    async def add_messages(self, messages: list[Message], session_id: str | None = None) -> None:
        from flowless_engine.errors import ProviderError

        session = session_id or self.session_id
        if self.v2:
            body = {"messages": [{"role_type": "user" if _human(m) else "assistant", "role": m.sender_name or ("User" if _human(m) else "AI"),
                                  "content": m.plain_text} for m in messages]}
        else:
            body = {"messages": [{"role": "human" if _human(m) else "ai", "content": m.plain_text, "metadata": {}} for m in messages]}
        action = f"storing messages in session '{session}'"
        try:
            await self.rest.call("POST", self._path(session), action, body)
        except ProviderError as exc:
            if not (self.v2 and exc.status == 404):
                raise
            await self.rest.call("POST", "/sessions", f"creating session '{session}'", {"session_id": session})
            await self.rest.call("POST", self._path(session), action, body)


class ZepChatMemoryComponent(Component):
    """Zep Chat Memory (legacy in Langflow 1.13, whose node no longer runs; Flowless speaks Zep's
    HTTP API itself)."""

    type_name = "ZepChatMemory"
    display_name = "Zep Chat Memory"
    description = "Retrieves and store chat messages from Zep."
    category = "memories"
    icon = "ZepMemory"
    inputs = (
        Input("url", "Zep URL", "str", "", input_types=("Message",), input_kind="MessageTextInput", info="URL of the Zep instance."),
        Input("api_key", "Zep API Key", "str", "", password=True, input_kind="SecretStrInput", info="API Key for the Zep instance."),
        Input("api_base_path", "API Base Path", "str", "api/v1", options=("api/v1", "api/v2"), advanced=True, input_kind="DropdownInput"),
        Input("session_id", "Session ID", "str", "", input_types=("Message",), advanced=True, input_kind="MessageTextInput",
              info="Session ID for the message."),
    )
    outputs = (Output("memory", "build_message_history", ("Memory",), "Memory"),)

    async def build_message_history(self) -> ZepHistory:
        url = to_text(self.param("url", "")).strip()
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(f"Component '{self.name}' needs the Zep URL (http:// or https://)")
        base_path = to_text(self.param("api_base_path", "")).strip() or "api/v1"
        if base_path.strip("/") not in ("api/v1", "api/v2"):
            raise ConfigurationError(f"Component '{self.name}': the API base path must be api/v1 or api/v2")
        return ZepHistory(self.ctx.http, url, to_text(await self.secret("api_key") or "").strip(), base_path,
                          to_text(self.param("session_id", "")).strip() or self.ctx.session_id)

