"""API Gateway as template.yaml declares it, in-process: a request goes to the Lambda handler of the
function whose Api event declares its method and resource path (literal segments before
parameters, as API Gateway matches), as a REST proxy event (events/generate.py's shape).

`Gateway` answers like Starlette's TestClient (`get`, `post`, ..., `request`; `status_code`,
`json()`, `text`, `headers`), so the API tests' helpers drive it unchanged.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.support.iam.stack import Stack
from tests.support.lambda_context import FakeLambdaContext

_EVENTS_GENERATE: Any = None


def _generate() -> Any:
    global _EVENTS_GENERATE
    if _EVENTS_GENERATE is None:
        from tests.handlers.conftest import event_catalogue

        _EVENTS_GENERATE = event_catalogue
    return _EVENTS_GENERATE


@dataclass
class Response:
    status_code: int
    headers: dict[str, str]
    content: bytes
    function: str

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


@dataclass
class Route:
    function: str
    method: str
    resource: str
    pattern: re.Pattern[str]
    parameters: list[str]


@dataclass
class Gateway:
    stack: Stack
    # Called around each invocation with the function's logical id (environment of that function).
    around: Callable[[str], Any] | None = None
    calls: list[tuple[str, str, str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        from tests.deploy.template_routes import api_events

        self.routes: list[Route] = []
        for function in self.stack.functions:
            for event in api_events(self.stack.resources[function]).values():
                resource = event["Path"]
                parameters = re.findall(r"\{([^}]+)\}", resource)
                pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(resource)) + "/?$")
                self.routes.append(Route(function, event["Method"].upper(), resource, pattern, parameters))
        self.routes.sort(key=lambda r: (len(r.parameters), -len(r.resource)))

    def route(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        for route in self.routes:
            match = route.pattern.match(path)
            if route.method == method.upper() and match:
                from urllib.parse import unquote

                return route, {name: unquote(value) for name, value in zip(route.parameters, match.groups())}
        raise AssertionError(f"template.yaml routes no {method} {path} (API Gateway would answer 403 Missing Authentication Token)")

    def request(self, method: str, url: str, *, params: Any = None, json: Any = None, data: Any = None, files: Any = None,
                headers: dict[str, str] | None = None, content: Any = None) -> Response:
        import httpx

        request = httpx.Request(method, f"https://gateway.invalid{url}", params=params, json=json, data=data, files=files,
                                headers=headers, content=content)
        body = request.read()
        route, path_parameters = self.route(method, request.url.path)
        sent = {k: v for k, v in request.headers.items() if k.lower() not in {"host", "content-length"}}
        query = {k: v for k, v in request.url.params.multi_items()}
        event = _generate().event(f"iam-{route.function}", method.upper(), route.resource, path_parameters, query=query or None,
                                  body=base64.b64encode(body).decode() if body else None, headers=sent, api_key=None,
                                  content_type=None)
        event["isBase64Encoded"] = bool(body)
        event["path"] = request.url.path  # as sent (API Gateway keeps a trailing slash)
        event["requestContext"]["path"] = f"/{event['requestContext']['stage']}{request.url.path}"
        with self._invocation(route.function):
            answer = function_handler(route.function)(event, FakeLambdaContext(self.stack.physical_name(route.function)))
        location = (answer.get("headers") or {}).get("location", "")
        if answer["statusCode"] in (307, 308) and location.startswith("https://"):  # as TestClient follows them
            from urllib.parse import urlsplit

            moved = urlsplit(location)
            return self.request(method, moved.path + (f"?{moved.query}" if moved.query else ""), params=params, json=json,
                                data=data, files=files, headers=headers, content=content)
        raw = answer.get("body") or ""
        payload = base64.b64decode(raw) if answer.get("isBase64Encoded") else raw.encode()
        self.calls.append((route.function, method.upper(), route.resource, answer["statusCode"]))
        return Response(answer["statusCode"], {k.lower(): v for k, v in (answer.get("headers") or {}).items()}, payload, route.function)

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        """A non-API invocation (a task event, an SQS batch) of `function`'s handler."""
        with self._invocation(function):
            return function_handler(function)(event, FakeLambdaContext(self.stack.physical_name(function)))

    @contextmanager
    def _invocation(self, function: str) -> Iterator[None]:
        if self.around is None:
            yield
        else:
            with self.around(function):
                yield

    def get(self, url: str, **kwargs: Any) -> Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> Response:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Response:
        return self.request("DELETE", url, **kwargs)


def function_handler(logical_id: str) -> Callable[[dict[str, Any], Any], Any]:
    from tests.deploy.template_routes import function_module

    return function_module(logical_id).handler
