"""URL: fetch pages from a local server through the guarded client; crawl depth; tool mode;
refusal of metadata and loopback addresses under the default settings."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from flowless_engine.components.web import URLComponent, parse_html
from flowless_engine.errors import BlockedURLError
from flowless_engine.graph.model import Vertex
from flowless_engine.runtime.context import RunContext
from flowless_engine.schema import DataFrame, Message
from flowless_engine.settings import EngineSettings

PAGES = {
    "/": (
        "text/html; charset=utf-8",
        """<!doctype html><html lang="en"><head><title>Home page</title>
<meta name="description" content="The home page">
<style>body { color: red }</style><script>var secret = 1;</script></head>
<body><h1>Welcome</h1>
<p>Hello <b>world</b> &amp; friends.</p>
<a href="/about#team">About us</a> <a href="http://outside.invalid/x">Elsewhere</a>
<a href="/style.css">Styles</a>
</body></html>""",
    ),
    "/about": ("text/html", "<html><head><title>About</title></head><body><p>We build things.</p></body></html>"),
    "/style.css": ("text/css", "body { color: blue }"),
}


class _Handler(BaseHTTPRequestHandler):
    seen_headers: list[dict[str, str]] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        type(self).seen_headers.append(dict(self.headers))
        content_type, body = PAGES.get(self.path, ("text/plain", "not found"))
        self.send_response(200 if self.path in PAGES else 404)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body.encode())))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def make(settings: EngineSettings | None = None, **params: Any) -> URLComponent:
    values = {"max_depth": 1, "format": "Text", "timeout": 5, "headers": [{"key": "User-Agent", "value": "flowless-test"}], **params}
    vertex = Vertex(
        id="URLComponent-t1",
        type="URLComponent",
        display_name="URL",
        fields={name: {"value": value} for name, value in values.items()},
        outputs=[o.to_template() for o in URLComponent.outputs],
    )
    ctx = RunContext(flow_id="f", session_id="s", settings=settings or EngineSettings(allow_loopback=True))
    return URLComponent(vertex, values, ctx)


async def test_fetch_one_page_as_text(site: str) -> None:
    frame = await make(urls=[site + "/"]).fetch_content()
    assert isinstance(frame, DataFrame)
    (row,) = frame.rows
    assert row["url"] == site + "/"
    assert row["title"] == "Home page"
    assert row["description"] == "The home page"
    assert row["language"] == "en"
    assert row["content_type"] == "text/html; charset=utf-8"
    assert "Hello world & friends." in row["text"]
    assert "Welcome" in row["text"]
    assert "secret" not in row["text"] and "color" not in row["text"]


async def test_headers_are_sent(site: str) -> None:
    _Handler.seen_headers.clear()
    await make(urls=[site + "/about"], headers=[{"key": "X-Probe", "value": "42"}]).fetch_content()
    assert _Handler.seen_headers[-1].get("X-Probe") == "42"


async def test_depth_two_follows_same_site_links_only(site: str) -> None:
    frame = await make(urls=[site + "/"], max_depth=2).fetch_content()
    # The CSS link is fetched but filtered out; the outside link is never followed.
    assert [row["url"] for row in frame.rows] == [site + "/", site + "/about"]
    assert frame.rows[1]["text"].strip() == "AboutWe build things."


async def test_raw_results_message_and_formats(site: str) -> None:
    message = await make(urls=[site + "/about", site + "/about"]).fetch_content_as_message()
    assert isinstance(message, Message)
    assert message.text.strip() == "AboutWe build things."  # duplicate URLs fetched once
    html = (await make(urls=[site + "/about"], format="HTML").fetch_content()).rows[0]["text"]
    assert html.startswith("<html><head><title>About</title>")
    markdown = (await make(urls=[site + "/"], format="Markdown").fetch_content()).rows[0]["text"]
    assert "# Welcome" in markdown
    assert "Hello **world** & friends." in markdown
    assert "[About us](/about#team)" in markdown


async def test_url_without_scheme_and_invalid_urls() -> None:
    with pytest.raises(ValueError, match="No valid URLs provided"):
        await make(urls=["", "  "]).fetch_content()
    with pytest.raises(ValueError, match="Invalid URL"):
        await make(urls=["http://bad host/"], continue_on_failure=False).fetch_content()


async def test_tool_mode(site: str) -> None:
    metadata = [{"name": "fetch_content", "description": "Fetch pages.", "status": True, "args": {"urls": {"type": "array"}}}]
    (tool,) = make(urls="", tools_metadata=metadata).as_tools()
    assert tool.name == "fetch_content"
    assert tool.parameters["properties"]["urls"]["type"] == "array"
    rows = json.loads(await tool.run({"urls": [site + "/about"]}))
    assert rows[0]["title"] == "About"
    refused = await tool.run({"urls": ["http://169.254.169.254/latest/meta-data/"]})
    assert refused.startswith("Error: ") and "metadata" in refused


async def test_metadata_address_is_refused_by_default() -> None:
    with pytest.raises(BlockedURLError, match="169.254.169.254"):
        await make(EngineSettings(), urls=["http://169.254.169.254/latest/meta-data/"]).fetch_content()


async def test_loopback_is_refused_by_default(site: str) -> None:
    with pytest.raises(BlockedURLError, match="loopback"):
        await make(EngineSettings(), urls=[site + "/"], continue_on_failure=False).fetch_content()


def test_parse_html_collects_links_and_skips_scripts() -> None:
    page = parse_html(PAGES["/"][1])
    assert page.links == ["/about#team", "http://outside.invalid/x", "/style.css"]
    assert "var secret" not in page.text
