"""Prompt Hub (`LangChain Hub Prompt`): a prompt pulled from the LangSmith prompt hub, its variables
filled from the node's `param_<name>` fields, rendered as one Message.

The hub's API: `GET {api}/commits/{owner}/{name}/{commit}` with the `x-api-key` header (owner "-"
for the key's own workspace, commit "latest" unless `owner/name:commit` names one); the answer's
`manifest` is LangChain's serialized prompt (a PromptTemplate, or a ChatPromptTemplate of message
templates and placeholders). Flowless reads that JSON itself — nothing is deserialized into code.
A chat prompt renders as LangChain's `to_string()` does: one "Role: text" line per message.
Endpoint: https://api.smith.langchain.com, or FLOWLESS_SERVICE_URLS=langsmith=<url>.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from flowless_engine.components.apis import api_key, call_json, service_url
from flowless_engine.components.base import Component, Input, Output, to_text
from flowless_engine.errors import ConfigurationError, ProviderError
from flowless_engine.schema import Message

PROVIDER = "LangChain Hub"
_ROLES = {"SystemMessagePromptTemplate": "System", "HumanMessagePromptTemplate": "Human", "AIMessagePromptTemplate": "AI",
          "SystemMessage": "System", "HumanMessage": "Human", "AIMessage": "AI"}
_IDENTIFIER = re.compile(r"^(?:([\w.-]+)/)?([\w.-]+)(?::([0-9a-fA-F]{6,64}|latest))?$")
_VARIABLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def parse_identifier(text: str) -> tuple[str, str, str]:
    match = _IDENTIFIER.match(text.strip())
    if not match:
        raise ConfigurationError(f"{PROVIDER}: '{text}' is not a prompt name (owner/name or owner/name:commit)")
    return match.group(1) or "-", match.group(2), match.group(3) or "latest"


def _kind(node: dict[str, Any]) -> str:
    ids = node.get("id") or []
    return str(ids[-1]) if ids else ""


def prompt_parts(manifest: Any) -> list[tuple[str | None, str]]:
    """(role or None, template text) of each message of a serialized prompt; placeholders are
    left out (nothing fills them here)."""
    if not isinstance(manifest, dict):
        raise ProviderError(f"{PROVIDER} answered without a prompt manifest", provider=PROVIDER)
    kwargs = manifest.get("kwargs") or {}
    kind = _kind(manifest)
    if kind == "PromptTemplate":
        return [(None, str(kwargs.get("template", "")))]
    if kind == "ChatPromptTemplate":
        parts: list[tuple[str | None, str]] = []
        for message in kwargs.get("messages") or []:
            if not isinstance(message, dict) or _kind(message) == "MessagesPlaceholder":
                continue
            inner = message.get("kwargs") or {}
            prompt = inner.get("prompt")
            text = (prompt.get("kwargs") or {}).get("template", "") if isinstance(prompt, dict) else inner.get("content", "")
            role = _ROLES.get(_kind(message)) or str(inner.get("role") or "Human").capitalize()
            parts.append((role, to_text(text)))
        return parts
    raise ProviderError(f"{PROVIDER}: prompts of kind '{kind or 'unknown'}' are not supported", provider=PROVIDER)


class LangChainHubPromptComponent(Component):
    type_name = "LangChain Hub Prompt"
    display_name = "Prompt Hub"
    description = "Prompt Component that uses LangChain Hub prompts"
    category = "langchain_utilities"
    icon = "LangChain"
    inputs = (
        Input("langchain_api_key", "LangChain API Key", value="", required=True, password=True, info="The LangChain API Key to use.",
              input_kind="SecretStrInput"),
        Input("langchain_hub_prompt", "LangChain Hub Prompt", value="", required=True,
              info="The LangChain Hub prompt to use, i.e., 'efriis/my-first-prompt'", input_kind="StrInput"),
    )
    outputs = (Output("prompt", "build_prompt", ("Message",), "Build Prompt"),)

    async def build_prompt(self) -> Message:
        key = await api_key(self, "langchain_api_key", PROVIDER)
        owner, name, commit = parse_identifier(to_text(self.param("langchain_hub_prompt", "")))
        base = service_url(self, "langsmith", "https://api.smith.langchain.com")
        answer = await call_json(self, PROVIDER, "GET", f"{base}/commits/{quote(owner)}/{quote(name)}/{quote(commit)}", headers={"x-api-key": key})
        parts = prompt_parts(answer.get("manifest") if isinstance(answer, dict) else None)
        values: dict[str, str] = {}
        for field in self.vertex.fields:
            if field.startswith("param_"):
                values[field[len("param_"):]] = to_text(self.params.get(field))

        def fill(template: str) -> str:
            return _VARIABLE.sub(lambda m: values.get(m.group(1)) or m.group(0), template)

        rendered = [fill(text) for _, text in parts]
        text = rendered[0] if len(parts) == 1 and parts[0][0] is None else "\n".join(f"{role}: {body}" for (role, _), body in zip(parts, rendered))
        self.status = text
        return Message(text=text)
