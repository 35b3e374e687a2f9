"""A local LangSmith prompt hub on 127.0.0.1, written from LangSmith's public API: `GET
/commits/{owner}/{repo}/{commit}` (commit `latest` or a hash; owner `-` is the key's own
workspace) answers `{"commit_hash", "manifest", "examples"}`, the manifest being LangChain's
serialized prompt. `x-api-key` must be one of `keys` (else 401 `{"detail": ...}`); an unknown prompt
answers 404."""

from __future__ import annotations

from typing import Any

from tests.support.json_server import JsonServer, Request


def prompt_template(template: str, variables: list[str]) -> dict[str, Any]:
    return {"lc": 1, "type": "constructor", "id": ["langchain", "prompts", "prompt", "PromptTemplate"],
            "kwargs": {"template": template, "input_variables": variables, "template_format": "f-string"}}


def chat_template(messages: list[tuple[str, str]], variables: list[str]) -> dict[str, Any]:
    """`messages`: (kind, template) with kind System / Human / AI, or ("placeholder", name)."""
    built = []
    for kind, text in messages:
        if kind == "placeholder":
            built.append({"lc": 1, "type": "constructor", "id": ["langchain", "prompts", "chat", "MessagesPlaceholder"],
                          "kwargs": {"variable_name": text}})
        else:
            built.append({"lc": 1, "type": "constructor", "id": ["langchain", "prompts", "chat", f"{kind}MessagePromptTemplate"],
                          "kwargs": {"prompt": prompt_template(text, [])}})
    return {"lc": 1, "type": "constructor", "id": ["langchain", "prompts", "chat", "ChatPromptTemplate"],
            "kwargs": {"input_variables": variables, "messages": built}}


class LangSmithServer(JsonServer):
    def __init__(self, keys: tuple[str, ...] = ("lsv2_test",)) -> None:
        self.keys = set(keys)
        self.prompts: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}  # (owner, repo) → commit → manifest
        super().__init__()

    def add(self, owner: str, repo: str, manifest: dict[str, Any], commit: str = "abc123") -> None:
        commits = self.prompts.setdefault((owner, repo), {})
        commits[commit] = manifest
        commits["latest"] = manifest

    def handle(self, request: Request) -> tuple[int, Any]:
        if request.headers.get("x-api-key") not in self.keys:
            return 401, {"detail": "Invalid token"}
        parts = request.path.strip("/").split("/")
        if request.method != "GET" or len(parts) != 4 or parts[0] != "commits":
            return 404, {"detail": "Not Found"}
        _, owner, repo, commit = parts
        manifest = self.prompts.get((owner, repo), {}).get(commit)
        if manifest is None:
            return 404, {"detail": f"Prompt {owner}/{repo}:{commit} not found"}
        return 200, {"commit_hash": commit if commit != "latest" else "abc123", "manifest": manifest, "examples": []}

    def error_body(self, status: int, message: str) -> Any:
        return {"detail": message}
