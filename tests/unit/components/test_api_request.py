"""API Request through the engine against a local echo server: methods, headers, body, query
parameters, cURL mode, redirects (followed only when asked, re-checked by the guard), errors as
data, the guard's refusals, the 1.0-1.1 multi-URL form and tool mode."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest

from flowless_engine.components.api_request import parse_curl
from flowless_engine.errors import BlockedURLError
from flowless_engine.schema import Data
from flowless_engine.settings import EngineSettings
from tests.support.component_runs import run_flow, value
from tests.support.echo_server import EchoServer
from tests.support.flows import flow, node


@pytest.fixture(scope="module")
def echo() -> Iterator[EchoServer]:
    with EchoServer() as server:
        yield server


async def request(values: dict, settings: EngineSettings | None = None) -> Data:
    result = await run_flow(flow("api", [node("APIRequest-a1", "APIRequest", values)], []), settings=settings)
    return value(result, "APIRequest-a1", "data")


async def test_post_with_headers_body_and_query(echo: EchoServer) -> None:
    data = await request({
        "url_input": f"{echo.base_url}/items?a=1", "method": "POST",
        "headers": [{"key": "User-Agent", "value": "Langflow/1.0"}, {"key": "X-Token", "value": "t1"}],
        "body": [{"key": "name", "value": "widget"}, {"key": "tags", "value": '["a", "b"]'}],
        "query_params": {"b": "2"},
        "include_httpx_metadata": True,
    })
    assert data.data["status_code"] == 200 and data.data["source"] == f"{echo.base_url}/items?a=1&b=2"
    echoed = data.data["result"]
    assert echoed["method"] == "POST" and echoed["query"] == {"a": "1", "b": "2"}
    assert echoed["json"] == {"name": "widget", "tags": ["a", "b"]}
    assert echoed["headers"]["x-token"] == "t1" and echoed["headers"]["user-agent"] == "Langflow/1.0"
    assert data.data["headers"] == {"User-Agent": "Langflow/1.0", "X-Token": "t1"}
    assert data.data["response_headers"]["content-type"] == "application/json"


async def test_get_sends_no_body_and_other_methods(echo: EchoServer) -> None:
    data = await request({"url_input": f"{echo.base_url}/x", "method": "GET", "body": [{"key": "k", "value": "v"}]})
    assert echo.requests[-1].body == b"" and data.data["result"]["method"] == "GET"
    for method in ("PUT", "PATCH", "DELETE"):
        data = await request({"url_input": f"{echo.base_url}/x", "method": method, "body": [{"key": "k", "value": "1"}]})
        assert data.data["result"]["method"] == method and data.data["result"]["json"] == {"k": 1}


async def test_curl_mode(echo: EchoServer) -> None:
    curl = f"""curl --location '{echo.base_url}/issue/QA-1' \\
--header 'Accept: application/json' \\
-u 'me:secret' -d '{{"q": 1}}'"""
    data = await request({"mode": "cURL", "curl_input": curl})
    echoed = data.data["result"]
    assert echoed["method"] == "POST" and echoed["path"] == "/issue/QA-1" and echoed["json"] == {"q": 1}
    assert echoed["headers"]["authorization"] == "Basic " + base64.b64encode(b"me:secret").decode()
    assert parse_curl("curl -X PUT https://a.example/x -H 'A: b'") == {
        "url": "https://a.example/x", "method": "PUT", "headers": {"A": "b"}, "data": None, "follow": False, "get": False}


async def test_redirects_followed_only_when_asked_and_rechecked(echo: EchoServer) -> None:
    target = f"{echo.base_url}/final"
    stay = await request({"url_input": f"{echo.base_url}/redirect?to={target}"})
    assert stay.data["status_code"] == 302 and echo.requests[-1].path == "/redirect"
    moved = await request({"url_input": f"{echo.base_url}/redirect?to={target}", "follow_redirects": True})
    assert moved.data["status_code"] == 200 and moved.data["result"]["path"] == "/final"
    with pytest.raises(BlockedURLError, match="SSRF Protection.*metadata"):
        await request({"url_input": f"{echo.base_url}/redirect?to=http://169.254.169.254/latest", "follow_redirects": True})


async def test_errors_are_data_and_the_guard_refuses(echo: EchoServer) -> None:
    missing = await request({"url_input": f"{echo.base_url}/status/404"})
    assert missing.data["status_code"] == 404 and missing.data["result"] == {"error": "status requested"}
    binary = await request({"url_input": f"{echo.base_url}/bytes"})
    assert base64.b64decode(binary.data["result"]) == bytes(range(16))
    assert (await request({"url_input": f"{echo.base_url}/text"})).data["result"] == "plain words"
    down = await request({"url_input": "http://127.0.0.1:9/"}, EngineSettings(allow_loopback=True, http_retries=0))
    assert down.data["status_code"] == 500 and "error" in down.data
    with pytest.raises(BlockedURLError, match="loopback"):
        await request({"url_input": f"{echo.base_url}/x"}, EngineSettings())
    with pytest.raises(BlockedURLError):
        await request({"url_input": "http://metadata.google.internal/computeMetadata/v1/"})


async def test_legacy_multi_url_form(echo: EchoServer) -> None:
    f = flow("api", [node("APIRequest-a1", "APIRequest", {})], [])
    template = f["data"]["nodes"][0]["data"]["node"]["template"]
    template.pop("url_input")
    template["urls"] = {"name": "urls", "type": "str", "list": True, "value": [f"{echo.base_url}/one", f"{echo.base_url}/two"]}
    template["method"]["value"] = "POST"
    result = await run_flow(f)
    rows = value(result, "APIRequest-a1", "data")
    assert [r.data["result"]["path"] for r in rows] == ["/one", "/two"]


async def test_as_an_agent_tool(echo: EchoServer) -> None:
    from flowless_engine.components.api_request import APIRequestComponent
    from flowless_engine.graph.model import Vertex
    from flowless_engine.runtime.context import RunContext

    component = APIRequestComponent(Vertex(id="APIRequest-1", type="APIRequest", display_name="API", fields={}, outputs=[]),
                                    {"method": "GET"}, RunContext(flow_id="f", session_id="s", settings=EngineSettings(allow_loopback=True)))
    (tool,) = component.as_tools()
    assert tool.name == "make_api_request" and set(tool.parameters["properties"]) == {"url_input", "curl_input"}
    answer = json.loads(await tool.run({"url_input": f"{echo.base_url}/via-tool"}))
    assert answer["result"]["path"] == "/via-tool"
    assert (await tool.run({"url_input": "http://169.254.169.254/"})).startswith("Error: SSRF Protection")
