"""A fake Cloudflare Workers AI (stdlib only), from the public REST reference:
`POST /client/v4/accounts/{account_id}/ai/run/{model}` with `{"text": [...]}` and a bearer API
token (401 with Cloudflare's `{"success": false, "errors": [...]}` without one), answering
`{"result": {"shape": [n, d], "data": [...]}, "success": true}`."""

from __future__ import annotations

import re
from typing import Any

from tests.support.model_server import ModelServer, _Handler, embed

_RUN = re.compile(r"^/client/v4/accounts/[^/]+/ai/run/.+$")


class _CloudflareHandler(_Handler):
    def _route_path(self, path: str) -> str:
        return "/cloudflare/run" if _RUN.match(path) else path

    def _routes(self) -> dict[tuple[str, str], Any]:
        return {("POST", "/cloudflare/run"): self._run}

    def _error_body(self, path: str, status: int, message: str) -> Any:
        return {"success": False, "errors": [{"code": status, "message": message}], "messages": [], "result": None}

    def _run(self, body: dict[str, Any]) -> None:
        if not (self.headers.get("authorization") or "").startswith("Bearer "):
            self._send_json(401, self._error_body("", 401, "Authentication error"))
            return
        texts = body.get("text")
        texts = [texts] if isinstance(texts, str) else [str(t) for t in texts or []]
        vectors = [embed(t) for t in texts]
        self._send_json(200, {"result": {"shape": [len(vectors), 64], "data": vectors}, "success": True, "errors": [], "messages": []})


class CloudflareServer(ModelServer):
    handler = _CloudflareHandler

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.base_url = self.url + "/client/v4/accounts"
