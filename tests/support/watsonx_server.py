"""A fake IBM watsonx.ai server (stdlib only), from IBM's public API reference: IAM
(`POST /identity/token`, form-encoded API key → access token), `POST /ml/v1/text/chat`,
`/ml/v1/text/chat_stream` (SSE) and `/ml/v1/text/embeddings`, each with `?version=`. Chat bodies
carry `model_id` and `project_id`; answers are OpenAI-shaped, as watsonx's are. A call without a
token the IAM endpoint issued is answered 401."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.model_server import ModelServer, _Handler, embed

_CHAT, _STREAM = "/ml/v1/text/chat", "/ml/v1/text/chat_stream"


class _WatsonxHandler(_Handler):
    def _route_path(self, path: str) -> str:
        return path

    def _is_chat(self, path: str) -> bool:
        return path in (_CHAT, _STREAM)

    def _is_streaming(self, path: str, body: Any) -> bool:
        return path == _STREAM

    def _routes(self) -> dict[tuple[str, str], Any]:
        return {
            ("POST", "/identity/token"): self._token,
            ("POST", _CHAT): self._chat,
            ("POST", _STREAM): self._chat,
            ("POST", "/ml/v1/text/embeddings"): self._embeddings_wx,
        }

    def _error_body(self, path: str, status: int, message: str) -> Any:
        return {"errors": [{"code": "injected", "message": message}], "trace": "fake", "status_code": status}

    def _token(self, body: Any) -> None:
        form = parse_qs(self.body if isinstance(self.body, str) else "")
        if form.get("grant_type") != ["urn:ibm:params:oauth:grant-type:apikey"] or not form.get("apikey"):
            self._send_json(400, {"errorCode": "BXNIM0415E", "errorMessage": "Provided API key could not be found."})
            return
        token = f"iam-{form['apikey'][0][::-1]}"
        self.model_server.tokens.add(token)
        self._send_json(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600, "expiration": 2_000_000_000})

    def _authorised(self) -> bool:
        token = (self.headers.get("authorization") or "").removeprefix("Bearer ")
        if token in self.model_server.tokens and "version" in parse_qs(urlsplit(self.path).query):
            return True
        self._send_json(401, self._error_body("", 401, "Failed to authenticate the request"))
        return False

    def _chat(self, body: dict[str, Any]) -> None:
        if not self._authorised():
            return
        # The answer is OpenAI-shaped; reuse that handler with the watsonx names mapped.
        mapped = {**body, "model": body.get("model_id", "fake-model")}
        if self._is_streaming(urlsplit(self.path).path, body):
            mapped["stream"] = True
            mapped["stream_options"] = {"include_usage": True}
        self._openai_chat(mapped)

    def _embeddings_wx(self, body: dict[str, Any]) -> None:
        if not self._authorised():
            return
        inputs = [str(t) for t in body.get("inputs") or []]
        self._send_json(200, {"model_id": body.get("model_id"), "results": [{"embedding": embed(t)} for t in inputs],
                              "input_token_count": sum(len(t.split()) for t in inputs)})


class WatsonxServer(ModelServer):
    handler = _WatsonxHandler

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.tokens: set[str] = set()
        super().__init__(host)
        self.base_url = self.url
        self.iam_url = self.url + "/identity/token"
