"""The YouTube nodes through the engine against tests/support/youtube_server.py (Data API v3 and
youtube.com's watch page / player / timedtext / playlist page)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from flowless_engine.errors import ConfigurationError, ProviderError, ProviderTimeoutError
from flowless_engine.settings import EngineSettings
from tests.support.component_runs import run_flow, value
from tests.support.engine_kit import FakeChatModel
from tests.support.flows import edge, flow, node
from tests.support.youtube_server import API_KEY, YouTubeServer


@pytest.fixture(scope="module")
def server() -> Iterator[YouTubeServer]:
    with YouTubeServer() as s:
        yield s


@pytest.fixture
def settings(server: YouTubeServer) -> EngineSettings:
    server.reset()
    return EngineSettings(allow_loopback=True, service_urls=server.service_urls(), http_retries=2)


def one(type_name: str, values: dict, outputs: tuple[str, ...] = ()) -> dict:
    """The node alone, or with each of `outputs` feeding a Chat Output (so each is built)."""
    nid = f"{type_name}-n1"
    nodes = [node(nid, type_name, values)] + [node(f"ChatOutput-o{i}", "ChatOutput") for i in range(len(outputs))]
    edges = [edge(nid, name, f"ChatOutput-o{i}", "input_value", output_types=["Data"]) for i, name in enumerate(outputs)]
    return flow("t", nodes, edges)


async def run_one(type_name: str, values: dict, settings: EngineSettings, output: str | None = None, variables: dict | None = None):
    result = await run_flow(one(type_name, values, (output,) if output else ()), settings=settings, variables=variables or {"YOUTUBE_API_KEY": API_KEY})
    return value(result, f"{type_name}-n1", output)


KEY = {"api_key": "YOUTUBE_API_KEY"}  # a tenant variable (load_from_db)


async def test_transcripts_read_the_watch_page_player_and_timedtext(server: YouTubeServer, settings: EngineSettings) -> None:
    values = {"url": "https://www.youtube.com/watch?v=abc123XYZ&t=4", "chunk_size_seconds": 60}
    result = await run_flow(one("YouTubeTranscripts", values, ("dataframe", "message", "data_output")), settings=settings)
    chunks = value(result, "YouTubeTranscripts-n1", "dataframe").rows
    assert chunks == [{"timestamp": "00:00", "text": "Hello & welcome to the show"}, {"timestamp": "01:01", "text": "part two"},
                      {"timestamp": "02:05", "text": "the end"}]
    assert value(result, "YouTubeTranscripts-n1", "message").text == "Hello & welcome to the show part two the end"
    assert value(result, "YouTubeTranscripts-n1", "data_output").data == {"transcript": "Hello & welcome to the show part two the end",
                                                                          "video_url": values["url"]}
    # one load shared by the three outputs: watch page, player (ANDROID client, the page's key), the manual English track
    assert server.paths() == ["/watch", "/youtubei/v1/player", "/api/timedtext"]
    assert server.requests[0].q == {"v": "abc123XYZ"}
    assert server.requests[2].q == {"v": "abc123XYZ", "lang": "en"}  # &fmt=srv3 dropped, manual track before asr


async def test_transcripts_translation_consent_and_generated_track(server: YouTubeServer, settings: EngineSettings) -> None:
    text = await run_one("YouTubeTranscripts", {"url": "https://youtu.be/consent01", "translation": "es"}, settings, "message")
    assert text.text.startswith("[es] Hello & welcome")
    assert server.requests[1].headers["cookie"] == "CONSENT=YES+cb.2026"  # the consent form answered once
    assert server.requests[-1].q["tlang"] == "es"
    server.reset()
    await run_one("YouTubeTranscripts", {"url": "https://youtu.be/asronly"}, settings, "message")
    assert server.requests[-1].q == {"v": "asronly", "lang": "en", "kind": "asr"}


async def test_transcripts_failures_are_langflows_error_outputs(server: YouTubeServer, settings: EngineSettings) -> None:
    frame = await run_one("YouTubeTranscripts", {"url": "https://youtu.be/nocaptions"}, settings, "dataframe")
    assert list(frame.rows[0]) == ["error"] and "does not have captions/transcripts enabled" in frame.rows[0]["error"]
    data = await run_one("YouTubeTranscripts", {"url": "https://youtu.be/private"}, settings, "data_output")
    assert data.data["transcript"] == "" and "LOGIN_REQUIRED" in data.data["error"]
    message = await run_one("YouTubeTranscripts", {"url": "https://youtu.be/blocked"}, settings, "message")
    assert "blocking automated requests" in message.text
    # youtube.com failing (5xx after retries) or silent is a 502 / 504, not an error row
    server.fail_next(3, 503)
    with pytest.raises(ProviderError, match="YouTube failed"):
        await run_one("YouTubeTranscripts", {"url": "https://youtu.be/abc"}, settings, "message")
    server.delay_next(1.5)
    with pytest.raises(ProviderTimeoutError):
        await run_one("YouTubeTranscripts", {"url": "https://youtu.be/abc"}, EngineSettings(
            allow_loopback=True, service_urls=server.service_urls(), http_timeout_s=0.5, http_retries=0), "message")


async def test_search_with_metadata_in_one_videos_call(server: YouTubeServer, settings: EngineSettings) -> None:
    frame = await run_one("YouTubeSearchComponent", {**KEY, "query": "rust", "max_results": 3, "order": "date"}, settings)
    assert [r["video_id"] for r in frame.rows] == ["s0", "s1", "s2"]
    assert frame.rows[1] == {"video_id": "s1", "title": "Video s1", "description": "About s1", "published_at": "2026-01-02T00:00:00Z",
                             "channel_title": "Channel X", "thumbnail_url": "https://i.ytimg.com/vi/s1/default.jpg",
                             "view_count": 1001, "like_count": 11, "comment_count": 1, "duration": "PT4M5S"}
    search, videos = server.requests
    assert search.q == {"q": "rust", "part": "id,snippet", "maxResults": "3", "order": "date", "type": "video", "key": API_KEY}
    assert videos.q["id"] == "s0,s1,s2" and videos.q["part"] == "statistics,contentDetails"


async def test_video_details_trending_and_channel(server: YouTubeServer, settings: EngineSettings) -> None:
    (row,) = (await run_one("YouTubeVideoDetailsComponent", {**KEY, "video_url": "https://www.youtube.com/shorts/v1"}, settings)).rows
    assert (row["video_id"], row["duration"], row["definition"], row["has_captions"], row["tags"], row["tags_count"]) == ("v1", "01:02:03", "HD", True, "a, b", 2)
    assert row["thumbnail_high_url"] == "https://i.ytimg.com/vi/v1/hqdefault.jpg" and row["view_count"] == 1000
    lean = (await run_one("YouTubeVideoDetailsComponent", {**KEY, "video_url": "v1", "include_statistics": False, "include_thumbnails": False}, settings)).rows[0]
    assert "view_count" not in lean and not any(k.startswith("thumbnail_") for k in lean)
    assert server.requests[-1].q["part"] == "snippet,contentDetails"
    assert (await run_one("YouTubeVideoDetailsComponent", {**KEY, "video_url": "missing"}, settings)).rows == [{"error": "Video not found"}]

    trending = await run_one("YouTubeTrendingComponent", {**KEY, "region": "Brazil", "category": "Music", "max_results": 80}, settings)
    assert [r["video_id"] for r in trending.rows] == ["t0", "t1", "t2"] and trending.rows[1]["duration"] == "04:05"
    assert trending.rows[0]["region"] == "Brazil" and trending.rows[0]["url"] == "https://www.youtube.com/watch?v=t0"
    assert {k: server.requests[-1].q[k] for k in ("chart", "regionCode", "videoCategoryId", "maxResults")} == \
        {"chart": "mostPopular", "regionCode": "BR", "videoCategoryId": "10", "maxResults": "50"}

    channel = await run_one("YouTubeChannelComponent", {**KEY, "channel_url": "https://www.youtube.com/@chan", "include_playlists": True}, settings)
    assert len(channel.rows) == 2  # one row per playlist, the channel's columns repeated
    first = channel.rows[0]
    assert first["channel_id"] == "UCchan00000000000000000000"[:24] and first["subscriber_count"] == 42 and first["brand_keywords"] == "k1 k2"
    assert (first["playlist_id"], first["playlist_video_count"]) == ("PL0", 3)
    assert [r.q.get("type") for r in server.requests[-3:]] == ["channel", None, None]  # @handle resolved by search.list


async def test_data_api_errors(server: YouTubeServer, settings: EngineSettings) -> None:
    assert (await run_one("YouTubeVideoDetailsComponent", {**KEY, "video_url": "quota"}, settings)).rows == [{"error": "API quota exceeded or access forbidden."}]
    assert (await run_one("YouTubeCommentsComponent", {**KEY, "video_url": "gone"}, settings)).rows == [{"error": "Video not found."}]
    assert (await run_one("YouTubeTrendingComponent", {**KEY, "region": "Atlantis"}, settings)).rows[0]["error"].startswith("Unknown region")
    with pytest.raises(ConfigurationError, match=r"YouTube rejected the request \(400\): API key not valid"):
        await run_one("YouTubeSearchComponent", {**KEY, "query": "x"}, settings, variables={"YOUTUBE_API_KEY": "wrong"})
    server.fail_next(2, 503)  # retried
    assert len((await run_one("YouTubeSearchComponent", {**KEY, "query": "x", "include_metadata": False}, settings)).rows) == 4
    server.fail_next(3, 429)
    with pytest.raises(ProviderError, match="YouTube failed: Backend Error"):
        await run_one("YouTubeSearchComponent", {**KEY, "query": "x"}, settings)


async def test_comments_and_playlist(server: YouTubeServer, settings: EngineSettings) -> None:
    frame = await run_one("YouTubeCommentsComponent", {**KEY, "video_url": "https://youtu.be/abc", "max_results": 4, "include_replies": True}, settings)
    assert [r["comment_id"] for r in frame.rows] == ["c0", "c0.r", "c1", "c1.r", "c2", "c2.r", "c3", "c3.r"]
    assert list(frame.rows[0])[:3] == ["video_id", "video_url", "comment_id"] and frame.rows[1]["is_reply"] is True
    assert [r.q.get("pageToken") for r in server.requests] == [None, "3"]
    playlist = await run_one("YouTubePlaylistComponent", {"playlist_url": "https://www.youtube.com/playlist?list=PLabc_1"}, settings)
    assert playlist.rows == [{"video_url": f"https://www.youtube.com/watch?v=vid{i:08d}"} for i in range(3)]
    assert server.requests[-1].q == {"list": "PLabc_1"}


async def test_transcripts_as_an_agent_tool(server: YouTubeServer, settings: EngineSettings) -> None:
    from flowless_engine.llm.base import ChatResult, ToolCall

    model = FakeChatModel([ChatResult(text="", tool_calls=[ToolCall(id="c1", name="get_message_output", arguments=json.dumps({"url": "https://youtu.be/zz"}))]), "done"])
    nodes = [node("ChatInput-c1", "ChatInput"), node("YouTubeTranscripts-y1", "YouTubeTranscripts", {"url": "https://youtu.be/placeholder"}),
             node("Agent-a1", "Agent", {"model": [{"name": "gpt-4o-mini", "provider": "OpenAI"}], "add_current_date_tool": False})]
    nodes[1]["data"]["node"]["outputs"] = [{"name": "component_as_tool", "method": "to_toolkit", "types": ["Tool"]}]
    edges = [edge("ChatInput-c1", "message", "Agent-a1", "input_value"),
             edge("YouTubeTranscripts-y1", "component_as_tool", "Agent-a1", "tools", output_types=["Tool"], input_types=["Tool"])]
    result = await run_flow(flow("t", nodes, edges), "summarise", settings=settings, model_factory=lambda config: model)
    assert value(result, "Agent-a1", "response").text == "done"
    assert {t.name for t in model.calls[0]["tools"]} == {"get_dataframe_output", "get_message_output", "get_data_output"}
    reply = next(m for m in model.calls[1]["messages"] if m.role == "tool").content
    assert reply == "Hello & welcome to the show part two the end"


async def test_comments_follow_pages(server: YouTubeServer, settings: EngineSettings) -> None:
    """(moved from test_search.py with the component, assertions unchanged)"""
    frame = await run_one("YouTubeCommentsComponent", {**KEY, "video_url": "https://youtu.be/abc123?t=3", "max_results": 7, "include_replies": True}, settings)
    rows = frame.rows
    top = [r for r in rows if not r["is_reply"]]
    assert [r["comment_id"] for r in top] == [f"c{i}" for i in range(7)] and len(rows) == 14
    assert rows[1] == {"video_id": "abc123", "video_url": "https://youtu.be/abc123?t=3", "comment_id": "c0.r", "parent_comment_id": "c0",
                       "is_reply": True, "author": "replier", "author_channel_url": "", "text": "reply to 0", "published_at": "", "updated_at": "",
                       "like_count": 1, "reply_count": 0}
    pages = [r.query.get("pageToken") for r in server.requests if r.path == "/youtube/v3/commentThreads"]
    assert pages == [None, ["3"], ["6"]]
    with pytest.raises(ConfigurationError, match="YouTube rejected the request \\(400\\)"):
        await run_one("YouTubeCommentsComponent", {**KEY, "video_url": "x"}, settings, variables={"YOUTUBE_API_KEY": "bad"})
