"""The outbound HTTP client against a real local server: retries, timeouts, streams, redirects
and the SSRF guard."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from ipaddress import ip_address

import pytest

from flowless_engine.errors import BlockedURLError
from flowless_engine.http import HttpClient, HttpError, HttpTimeout, address_refusal, check_url, default_client
from flowless_engine.settings import EngineSettings
from tests.support.model_server import ModelServer


@pytest.fixture(scope="module")
def server() -> Iterator[ModelServer]:
    with ModelServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(server: ModelServer) -> None:
    server.reset()


@pytest.fixture
async def http() -> AsyncIterator[HttpClient]:
    client = HttpClient(timeout_s=5, retries=2, allow_loopback=True, backoff_s=0.01)
    yield client
    await client.aclose()


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- requests ---


async def test_get_returns_status_headers_and_json(http: HttpClient, server: ModelServer) -> None:
    response = await http.request("GET", server.base_url + "/models")
    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    assert [m["id"] for m in response.json()["data"]] == ["fake-model", "fake-embedding"]
    assert "fake-model" in response.text


async def test_post_sends_json_and_headers(http: HttpClient, server: ModelServer) -> None:
    await http.request("POST", server.base_url + "/embeddings", headers={"x-test": "1"}, json={"input": "hello"})
    recorded = server.requests[-1]
    assert recorded.path == "/v1/embeddings"
    assert recorded.body == {"input": "hello"}
    assert recorded.headers["x-test"] == "1"
    assert recorded.headers["user-agent"].startswith("flowless/")


async def test_non_2xx_raises_http_error_with_status_and_body(http: HttpClient, server: ModelServer) -> None:
    server.fail_next(1, status=400)
    with pytest.raises(HttpError) as caught:
        await http.request("GET", server.base_url + "/models")
    assert caught.value.status == 400
    assert "injected failure" in caught.value.text


async def test_raise_for_status_false_returns_the_answer(http: HttpClient, server: ModelServer) -> None:
    response = await http.request("GET", server.url + "/nowhere", raise_for_status=False)
    assert response.status == 404


async def test_retries_503_then_succeeds(http: HttpClient, server: ModelServer) -> None:
    server.fail_next(2, status=503)
    response = await http.request("GET", server.base_url + "/models")
    assert response.status == 200
    assert len(server.requests) == 3


async def test_gives_up_after_the_configured_retries(http: HttpClient, server: ModelServer) -> None:
    server.fail_next(5, status=502)
    with pytest.raises(HttpError) as caught:
        await http.request("GET", server.base_url + "/models")
    assert caught.value.status == 502
    assert len(server.requests) == 3  # one try + two retries


async def test_does_not_retry_a_plain_500(http: HttpClient, server: ModelServer) -> None:
    server.fail_next(1, status=500)
    with pytest.raises(HttpError):
        await http.request("GET", server.base_url + "/models")
    assert len(server.requests) == 1


async def test_honours_retry_after(http: HttpClient, server: ModelServer) -> None:
    server.fail_next(1, status=429, retry_after=0.3)
    started = time.monotonic()
    await http.request("GET", server.base_url + "/models")
    assert time.monotonic() - started >= 0.3


async def test_retry_after_beyond_the_cap_is_not_waited_for(server: ModelServer) -> None:
    client = HttpClient(retries=2, allow_loopback=True, max_retry_wait_s=1)
    server.fail_next(1, status=429, retry_after=30)
    started = time.monotonic()
    with pytest.raises(HttpError) as caught:
        await client.request("GET", server.base_url + "/models")
    assert caught.value.status == 429
    assert time.monotonic() - started < 1
    await client.aclose()


async def test_connection_refused_is_retried_then_reported(http: HttpClient) -> None:
    with pytest.raises(HttpError) as caught:
        await http.request("GET", f"http://127.0.0.1:{_unused_port()}/")
    assert caught.value.status is None


async def test_timeout_raises_http_timeout(http: HttpClient, server: ModelServer) -> None:
    server.delay_s = 0.5
    with pytest.raises(HttpTimeout):
        await http.request("GET", server.base_url + "/models", timeout=0.1)


async def test_response_size_is_capped(server: ModelServer) -> None:
    client = HttpClient(allow_loopback=True, max_response_bytes=16)
    with pytest.raises(HttpError, match="exceeds"):
        await client.request("GET", server.base_url + "/models")
    await client.aclose()


# --- streams ---


async def test_stream_lines_arrive_before_the_body_ends(http: HttpClient, server: ModelServer) -> None:
    server.chunk_delay_s = 0.05
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "one two three four"}]}
    started = time.monotonic()
    arrivals = []
    async for line in http.stream_lines("POST", server.url + "/api/chat", json=body):
        arrivals.append(time.monotonic() - started)
    assert len(arrivals) == 6  # five words ("Echo:" + four) and the final line
    assert arrivals[-1] - arrivals[0] >= 0.2


async def test_stream_non_2xx_raises_with_the_body(http: HttpClient, server: ModelServer) -> None:
    server.fail_next(1, status=401)
    with pytest.raises(HttpError) as caught:
        async for _ in http.stream_lines("POST", server.url + "/api/chat", json={"model": "m"}):
            pass
    assert caught.value.status == 401
    assert "injected failure" in caught.value.text


async def test_stream_retries_before_the_first_byte(http: HttpClient, server: ModelServer) -> None:
    server.fail_next(1, status=503)
    lines = [line async for line in http.stream_lines("POST", server.url + "/api/chat", json={"model": "m", "messages": []})]
    assert lines[-1].startswith("{") and '"done": true' in lines[-1]


async def test_stream_cut_mid_body_raises_http_error(http: HttpClient, server: ModelServer) -> None:
    server.break_stream_next()
    body = {"model": "m", "messages": [{"role": "user", "content": "a b c d e f"}]}
    received = []
    with pytest.raises(HttpError, match="interrupted"):
        async for line in http.stream_lines("POST", server.url + "/api/chat", json=body):
            received.append(line)
    assert received  # the first lines did arrive


async def test_stream_timeout_between_chunks(http: HttpClient, server: ModelServer) -> None:
    server.chunk_delay_s = 0.4
    body = {"model": "m", "messages": [{"role": "user", "content": "a b c"}]}
    with pytest.raises(HttpTimeout):
        async for _ in http.stream_lines("POST", server.url + "/api/chat", json=body, timeout=0.1):
            pass


# --- redirects ---


async def test_follows_redirects_on_allowed_hosts(http: HttpClient, server: ModelServer) -> None:
    response = await http.request("GET", server.url + "/redirect?to=/v1/models")
    assert response.status == 200
    assert [r.path for r in server.requests] == ["/redirect?to=/v1/models", "/v1/models"]


async def test_307_keeps_method_and_body_303_turns_into_get(http: HttpClient, server: ModelServer) -> None:
    await http.request("POST", server.url + "/redirect?to=/v1/embeddings&status=307", json={"input": "x"})
    assert (server.requests[-1].method, server.requests[-1].body) == ("POST", {"input": "x"})
    await http.request("POST", server.url + "/redirect?to=/v1/models&status=303", json={"input": "x"})
    assert (server.requests[-1].method, server.requests[-1].body) == ("GET", None)


async def test_credentials_do_not_follow_a_redirect_to_another_origin(http: HttpClient, server: ModelServer) -> None:
    other_origin = server.url.replace("127.0.0.1", "localhost") + "/v1/models"
    await http.request("GET", f"{server.url}/redirect?to={other_origin}", headers={"authorization": "Bearer s3cret", "x-api-key": "k", "x-trace": "t"})
    final = server.requests[-1].headers
    assert "authorization" not in final and "x-api-key" not in final
    assert final["x-trace"] == "t"


async def test_redirect_to_a_blocked_host_is_refused(http: HttpClient, server: ModelServer) -> None:
    with pytest.raises(BlockedURLError, match="169.254.169.254"):
        await http.request("GET", server.url + "/redirect?to=http://169.254.169.254/latest/meta-data/")


async def test_redirect_loops_stop(http: HttpClient, server: ModelServer) -> None:
    with pytest.raises(HttpError, match="too many redirects"):
        await http.request("GET", server.url + "/redirect")
    assert len(server.requests) == 6  # the first hop and five redirects


# --- the SSRF guard ---

REFUSED_ALWAYS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/",
    "http://100.100.100.200/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://METADATA.google.internal./",
    "http://[fe80::1]/",
    "http://169.254.10.10/",
    "http://[::ffff:169.254.169.254]/",
    "http://0.0.0.0:8080/",
    "http://[::]/",
    "http://224.0.0.1/",
    "ftp://example.com/file",
    "file:///etc/passwd",
    "gopher://localhost/",
]
PRIVATE = ["http://10.0.0.1/", "http://172.16.5.4/", "http://192.168.1.1/", "http://100.64.0.1/", "http://[fc00::1]/"]
LOOPBACK = ["http://127.0.0.1/", "http://[::1]:8080/", "http://localhost/", "http://2130706433/", "http://127.1/"]


@pytest.mark.parametrize("url", REFUSED_ALWAYS + PRIVATE + LOOPBACK)
async def test_guard_refuses_by_default(url: str) -> None:
    with pytest.raises(BlockedURLError):
        await HttpClient().check_url(url)
    with pytest.raises(BlockedURLError):
        check_url(url)


@pytest.mark.parametrize("url", REFUSED_ALWAYS)
async def test_metadata_link_local_and_odd_schemes_stay_refused_when_private_is_allowed(url: str) -> None:
    with pytest.raises(BlockedURLError):
        await HttpClient(allow_private=True).check_url(url)


@pytest.mark.parametrize("url", PRIVATE + LOOPBACK)
async def test_allow_private_opens_private_and_loopback(url: str) -> None:
    await HttpClient(allow_private=True).check_url(url)


async def test_allow_loopback_opens_loopback_only() -> None:
    client = HttpClient(allow_loopback=True)
    for url in LOOPBACK:
        await client.check_url(url)
    for url in PRIVATE:
        with pytest.raises(BlockedURLError):
            await client.check_url(url)


async def test_public_hosts_pass() -> None:
    assert address_refusal(ip_address("8.8.8.8")) is None
    assert address_refusal(ip_address("2606:4700:4700::1111")) is None


async def test_unresolvable_host_is_an_http_error_not_a_refusal() -> None:
    with pytest.raises(HttpError, match="cannot resolve"):
        await HttpClient().check_url("http://no-such-host.invalid/")


def test_refusal_names_the_host_and_the_reason() -> None:
    with pytest.raises(BlockedURLError) as caught:
        check_url("http://169.254.169.254/")
    assert "169.254.169.254" in caught.value.message and "metadata" in caught.value.message
    assert caught.value.code == "URL_BLOCKED"


async def test_loopback_server_is_refused_without_the_flag(server: ModelServer) -> None:
    client = HttpClient()
    with pytest.raises(BlockedURLError, match="loopback"):
        await client.request("GET", server.base_url + "/models")
    assert server.requests == []  # refused before any byte left
    await client.aclose()


async def test_connect_time_guard_catches_what_the_pre_check_missed(server: ModelServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A DNS answer may change between the check and the connection (rebinding): the
    connection itself only goes to vetted addresses."""
    client = HttpClient(retries=0)

    async def lenient_check(url: str) -> None:
        return None

    monkeypatch.setattr(client, "check_url", lenient_check)
    with pytest.raises(BlockedURLError, match="loopback"):
        await client.request("GET", server.base_url + "/models")
    assert server.requests == []
    await client.aclose()


# --- lifecycle ---


def test_one_client_serves_several_event_loops(server: ModelServer) -> None:
    """Lambda runtimes and tests run several loops over a process lifetime; a connection
    opened on one loop must never be used from another."""
    client = HttpClient(allow_loopback=True)
    loops = [asyncio.new_event_loop(), asyncio.new_event_loop()]
    try:
        for loop in loops + loops:  # interleaved, both loops alive
            response = loop.run_until_complete(client.request("GET", server.base_url + "/models"))
            assert response.status == 200
    finally:
        for loop in loops:
            loop.run_until_complete(client.aclose())
            loop.close()


def test_default_client_follows_the_settings() -> None:
    settings = EngineSettings(http_timeout_s=7, http_retries=4, allow_private_networks=True)
    client = default_client(settings)
    assert client is default_client(settings)
    assert (client.timeout_s, client.retries, client.allow_private, client.allow_loopback) == (7, 4, True, True)


def test_importing_the_client_and_factory_does_not_import_httpx() -> None:
    code = "import sys, flowless_engine.http, flowless_engine.llm.factory; print('httpx' in sys.modules, 'botocore' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]
