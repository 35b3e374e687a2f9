"""YouTube: the Data API v3 nodes (search, video details, channel, trending, comments; the API key
in the `key` query parameter) and the two nodes that read youtube.com itself as Langflow's
libraries do (transcripts: the watch page's INNERTUBE_API_KEY, the player endpoint
`POST /youtubei/v1/player` as the ANDROID client, then the caption track's timedtext XML;
playlist: the playlist page's `ytInitialData`).

Endpoints can be replaced per service (`EngineSettings.service_urls`): youtube (the Data API,
www.googleapis.com) and youtube_web (www.youtube.com). Errors: a key Google refuses (400
keyInvalid / 401) is a clear 4xx; quota/forbidden (403) and not-found (404) become Langflow's
one-row `{"error": ...}` tables; 429/5xx are retried, then 502; no answer in time 504.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import quote

from flowless_engine.components.apis import api_key, call_api, call_json, error_frame, google_error, refused_status, service_url
from flowless_engine.components.base import Component, Input, Output, to_bool, to_int, to_text
from flowless_engine.components.toolmode import ToolModeMixin
from flowless_engine.errors import ConfigurationError, ProviderError
from flowless_engine.schema import Data, DataFrame, Message

_MSG = ("Message",)
PROVIDER = "YouTube"
_KEY = Input("api_key", "YouTube API Key", "str", "", required=True, password=True, load_from_db=True,
             info="Your YouTube Data API key.", input_kind="SecretStrInput")


def video_id(url: str) -> str:
    """The id in a watch / youtu.be / embed / shorts URL; anything else is taken as an id."""
    for pattern in (r"(?:youtube\.com/watch\?v=|youtu\.be/|youtube\.com/embed/)([^&\n?#]+)",
                    r"youtube\.com/watch\?.*?v=([^&\n?#]+)", r"youtube\.com/shorts/([^&\n?#]+)"):
        match = re.search(pattern, url)
        if match:
            return match.group(1)
    return url.strip()


def clock(seconds: int) -> str:
    """mm:ss, or hh:mm:ss past an hour."""
    hours, rest = divmod(max(0, seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def iso_duration(value: str) -> str:
    """An ISO 8601 duration (PT1H2M3S) as Langflow shows it (01:02:03, or 02:03)."""
    parts = {unit: int(n) for n, unit in re.findall(r"(\d+)([HMS])", value or "")}
    return clock(parts.get("H", 0) * 3600 + parts.get("M", 0) * 60 + parts.get("S", 0))


class YouTubeApiError(Exception):
    """A 403/404 (or other non-credential 4xx) from the Data API: reported in the table."""

    def __init__(self, status: int | None, message: str, reason: str) -> None:
        super().__init__(message)
        self.status, self.message, self.reason = status, message, reason


class _DataApi(ToolModeMixin, Component):
    category = "youtube"
    icon = "YouTube"

    async def _get(self, resource: str, **params: Any) -> dict[str, Any]:
        key = await api_key(self, "api_key", PROVIDER)
        base = service_url(self, "youtube", "https://www.googleapis.com")
        try:
            return await call_json(self, PROVIDER, "GET", f"{base}/youtube/v3/{resource}", params={**params, "key": key})
        except ConfigurationError as exc:
            status = refused_status(exc)
            message, reason = google_error(exc)
            if status in (400, 401) and (status == 401 or "key" in (message + reason).lower()):
                raise  # the key itself: a clear 4xx naming YouTube
            raise YouTubeApiError(status, message or exc.message, reason) from exc

    @staticmethod
    def _thumbnails(snippet: dict[str, Any], row: dict[str, Any]) -> None:
        for size, thumb in (snippet.get("thumbnails") or {}).items():
            row[f"thumbnail_{size}_url"] = thumb.get("url", "")
            row[f"thumbnail_{size}_width"] = thumb.get("width", 0)
            row[f"thumbnail_{size}_height"] = thumb.get("height", 0)


class YouTubeCommentsComponent(_DataApi):
    """`commentThreads.list`, following `nextPageToken` until `max_results` threads."""

    type_name = "YouTubeCommentsComponent"
    display_name = "YouTube Comments"
    description = "Retrieves and analyzes comments from YouTube videos."
    inputs = (
        Input("video_url", "Video URL", "str", "", input_types=_MSG, required=True, info="The URL of the YouTube video to get comments from.", input_kind="MessageTextInput"),
        _KEY,
        Input("max_results", "Max Results", "int", 20, info="The maximum number of comments to return.", input_kind="IntInput"),
        Input("sort_by", "Sort By", "str", "relevance", options=("time", "relevance"), info="Sort comments by time or relevance.", input_kind="DropdownInput"),
        Input("include_replies", "Include Replies", "bool", False, advanced=True, info="Whether to include replies to comments.", input_kind="BoolInput"),
        Input("include_metrics", "Include Metrics", "bool", True, advanced=True, info="Include metrics like like count and reply count.", input_kind="BoolInput"),
    )
    outputs = (Output("comments", "get_video_comments", ("Table",), "Comments"),)
    tool_fields = {"video_url": ("string", "The URL of the YouTube video.")}
    PAGE_MAX = 100
    video_id = staticmethod(video_id)

    @staticmethod
    def _row(comment: dict[str, Any], parent: str, metrics: bool, replies: int) -> dict[str, Any]:
        snippet = comment.get("snippet") or {}
        row = {"comment_id": comment.get("id", ""), "parent_comment_id": parent, "is_reply": bool(parent),
               "author": snippet.get("authorDisplayName", ""), "author_channel_url": snippet.get("authorChannelUrl", ""),
               "text": snippet.get("textDisplay", ""), "published_at": snippet.get("publishedAt", ""), "updated_at": snippet.get("updatedAt", "")}
        if metrics:
            row.update(like_count=snippet.get("likeCount", 0), reply_count=replies)
        return row

    async def get_video_comments(self) -> DataFrame:
        url = to_text(self.params.get("video_url")).strip()
        video = video_id(url)
        wanted = to_int(self.param("max_results", 20), 20)
        metrics = to_bool(self.param("include_metrics", True))
        with_replies = to_bool(self.param("include_replies", False))
        rows: list[dict[str, Any]] = []
        threads, token = 0, None
        try:
            while threads < wanted:
                page = await self._get("commentThreads", part="snippet,replies", videoId=video, maxResults=min(self.PAGE_MAX, wanted - threads),
                                       order=to_text(self.param("sort_by", "relevance")) or "relevance", textFormat="plainText", pageToken=token)
                for item in page.get("items") or []:
                    if threads >= wanted:
                        break
                    threads += 1
                    top = item["snippet"]["topLevelComment"]
                    rows.append(self._row(top, "", metrics, item["snippet"].get("totalReplyCount", 0)))
                    for reply in (item.get("replies") or {}).get("comments") or [] if with_replies else []:
                        rows.append(self._row(reply, top["id"], metrics, 0))
                token = page.get("nextPageToken")
                if not token:
                    break
        except YouTubeApiError as exc:
            if exc.status == 403:
                return error_frame("Comments are disabled for this video or API quota exceeded.")
            if exc.status == 404:
                return error_frame("Video not found.")
            return error_frame(f"YouTube API error: {exc.message}")
        columns = ["video_id", "video_url", "comment_id", "parent_comment_id", "is_reply", "author", "author_channel_url",
                   "text", "published_at", "updated_at"] + (["like_count", "reply_count"] if metrics else [])
        return DataFrame(rows=[{c: {**row, "video_id": video, "video_url": url}.get(c, "") for c in columns} for row in rows])


class YouTubeSearchComponent(_DataApi):
    """`search.list` (type=video), then `videos.list` for statistics and duration."""

    type_name = "YouTubeSearchComponent"
    display_name = "YouTube Search"
    description = "Searches YouTube videos based on query."
    inputs = (
        Input("query", "Search Query", "str", "", input_types=_MSG, required=True, info="The search query to look for on YouTube.", input_kind="MessageTextInput"),
        _KEY,
        Input("max_results", "Max Results", "int", 10, info="The maximum number of results to return.", input_kind="IntInput"),
        Input("order", "Sort Order", "str", "relevance", options=("relevance", "date", "rating", "title", "viewCount"),
              info="Sort order for the search results.", input_kind="DropdownInput"),
        Input("include_metadata", "Include Metadata", "bool", True, advanced=True, info="Include video metadata like description and statistics.", input_kind="BoolInput"),
    )
    outputs = (Output("results", "search_videos", ("Table",), "Search Results"),)
    tool_fields = {"query": ("string", "The search query to look for on YouTube.")}

    async def search_videos(self) -> DataFrame:
        try:
            found = await self._get("search", q=to_text(self.params.get("query")), part="id,snippet",
                                    maxResults=to_int(self.param("max_results", 10), 10), order=to_text(self.param("order", "relevance")) or "relevance", type="video")
            rows = []
            for item in found.get("items") or []:
                snippet = item.get("snippet") or {}
                rows.append({"video_id": (item.get("id") or {}).get("videoId", ""), "title": snippet.get("title", ""),
                             "description": snippet.get("description", ""), "published_at": snippet.get("publishedAt", ""),
                             "channel_title": snippet.get("channelTitle", ""),
                             "thumbnail_url": ((snippet.get("thumbnails") or {}).get("default") or {}).get("url", "")})
            if rows and to_bool(self.param("include_metadata", True)):
                details = await self._get("videos", part="statistics,contentDetails", id=",".join(r["video_id"] for r in rows))
                by_id = {v.get("id"): v for v in details.get("items") or []}
                for row in rows:
                    video = by_id.get(row["video_id"])
                    if video:
                        stats = video.get("statistics") or {}
                        row.update(view_count=int(stats.get("viewCount", 0)), like_count=int(stats.get("likeCount", 0)),
                                   comment_count=int(stats.get("commentCount", 0)), duration=(video.get("contentDetails") or {}).get("duration", ""))
        except YouTubeApiError as exc:
            return error_frame(f"YouTube API error: {exc.message}")
        return DataFrame(rows=rows)


class YouTubeVideoDetailsComponent(_DataApi):
    """`videos.list` for one video: snippet, statistics, content details, tags, thumbnails."""

    type_name = "YouTubeVideoDetailsComponent"
    display_name = "YouTube Video Details"
    description = "Retrieves detailed information and statistics about YouTube videos."
    inputs = (
        Input("video_url", "Video URL", "str", "", input_types=_MSG, required=True, info="The URL of the YouTube video.", input_kind="MessageTextInput"),
        _KEY,
        Input("include_statistics", "Include Statistics", "bool", True, info="Include video statistics (views, likes, comments).", input_kind="BoolInput"),
        Input("include_content_details", "Include Content Details", "bool", True, advanced=True, info="Include video duration, quality, and age restriction info.", input_kind="BoolInput"),
        Input("include_tags", "Include Tags", "bool", True, advanced=True, info="Include video tags and keywords.", input_kind="BoolInput"),
        Input("include_thumbnails", "Include Thumbnails", "bool", True, advanced=True, info="Include video thumbnail URLs in different resolutions.", input_kind="BoolInput"),
    )
    outputs = (Output("video_data", "get_video_details", ("Table",), "Video Data"),)
    tool_fields = {"video_url": ("string", "The URL of the YouTube video.")}

    async def get_video_details(self) -> DataFrame:
        vid = video_id(to_text(self.params.get("video_url")))
        stats_on, content_on = to_bool(self.param("include_statistics", True)), to_bool(self.param("include_content_details", True))
        parts = ["snippet"] + (["statistics"] if stats_on else []) + (["contentDetails"] if content_on else [])
        try:
            answer = await self._get("videos", part=",".join(parts), id=vid)
        except YouTubeApiError as exc:
            return error_frame({403: "API quota exceeded or access forbidden.", 404: "Video not found."}.get(exc.status or 0, f"YouTube API error: {exc.message}"))
        items = answer.get("items") or []
        if not items:
            return error_frame("Video not found")
        info = items[0]
        snippet = info.get("snippet") or {}
        row: dict[str, Any] = {"video_id": vid, "title": snippet.get("title", ""), "url": f"https://www.youtube.com/watch?v={vid}",
                               "channel_id": snippet.get("channelId", ""), "channel_title": snippet.get("channelTitle", ""),
                               "published_at": snippet.get("publishedAt", ""), "category_id": snippet.get("categoryId", "Unknown"),
                               "live_broadcast_content": snippet.get("liveBroadcastContent", "none"), "description": snippet.get("description", "")}
        if stats_on and "statistics" in info:
            stats = info["statistics"]
            row.update({k: int(stats.get(src, 0)) for k, src in (("view_count", "viewCount"), ("like_count", "likeCount"),
                                                                 ("favorite_count", "favoriteCount"), ("comment_count", "commentCount"))})
        if content_on and "contentDetails" in info:
            details = info["contentDetails"]
            row.update(duration=iso_duration(details.get("duration", "")), dimension=details.get("dimension", "2d"),
                       definition=str(details.get("definition", "hd")).upper(), has_captions=details.get("caption", "false") == "true",
                       licensed_content=details.get("licensedContent", False), projection=details.get("projection", "rectangular"),
                       has_custom_thumbnails=details.get("hasCustomThumbnail", False))
            if "contentRating" in details:
                row["content_rating"] = str(details["contentRating"])
        if to_bool(self.param("include_tags", True)) and snippet.get("tags"):
            row.update(tags=", ".join(snippet["tags"]), tags_count=len(snippet["tags"]))
        if to_bool(self.param("include_thumbnails", True)):
            thumbs: dict[str, Any] = {}
            self._thumbnails(snippet, thumbs)
            row.update({k: thumbs[k] for k in sorted(thumbs)})
        return DataFrame(rows=[row])


class YouTubeChannelComponent(_DataApi):
    """`channels.list` for a channel given by id or URL (/channel/<id>; /c/, /user/ and @handle
    resolved with `search.list` type=channel), optionally its `playlists.list`."""

    type_name = "YouTubeChannelComponent"
    display_name = "YouTube Channel"
    description = "Retrieves detailed information and statistics about YouTube channels as a DataFrame."
    inputs = (
        Input("channel_url", "Channel URL or ID", "str", "", input_types=_MSG, required=True, info="The URL or ID of the YouTube channel.", input_kind="MessageTextInput"),
        _KEY,
        Input("include_statistics", "Include Statistics", "bool", True, info="Include channel statistics (views, subscribers, videos).", input_kind="BoolInput"),
        Input("include_branding", "Include Branding", "bool", True, advanced=True, info="Include channel branding settings (banner, thumbnails).", input_kind="BoolInput"),
        Input("include_playlists", "Include Playlists", "bool", False, advanced=True, info="Include channel's public playlists.", input_kind="BoolInput"),
    )
    outputs = (Output("channel_df", "get_channel_info", ("Table",), "Channel Info"),)
    tool_fields = {"channel_url": ("string", "The URL or ID of the YouTube channel.")}
    MAX_PLAYLISTS = 10

    async def _channel_id(self, text: str) -> str:
        if text.startswith("UC") and len(text) == 24:
            return text
        direct = re.search(r"youtube\.com/channel/([^/\n?]+)", text)
        if direct:
            return direct.group(1)
        for pattern in (r"youtube\.com/c/([^/\n?]+)", r"youtube\.com/user/([^/\n?]+)", r"youtube\.com/@([^/\n?]+)"):
            match = re.search(pattern, text)
            if match:
                found = await self._get("search", part="id", q=match.group(1).lstrip("@"), type="channel", maxResults=1)
                items = found.get("items") or []
                if not items:
                    raise ValueError(f"Could not find channel ID for: {match.group(1)}")
                return items[0]["id"]["channelId"]
        return text

    async def get_channel_info(self) -> DataFrame:
        stats_on, brand_on = to_bool(self.param("include_statistics", True)), to_bool(self.param("include_branding", True))
        try:
            channel = await self._channel_id(to_text(self.params.get("channel_url")).strip())
            parts = ["snippet", "contentDetails"] + (["statistics"] if stats_on else []) + (["brandingSettings"] if brand_on else [])
            answer = await self._get("channels", part=",".join(parts), id=channel)
            if not answer.get("items"):
                return error_frame("Channel not found")
            info = answer["items"][0]
            snippet = info.get("snippet") or {}
            row: dict[str, Any] = {"title": snippet.get("title", ""), "description": snippet.get("description", ""),
                                   "custom_url": snippet.get("customUrl", ""), "published_at": snippet.get("publishedAt", ""),
                                   "country": snippet.get("country", "Not specified"), "channel_id": channel}
            for size, thumb in (snippet.get("thumbnails") or {}).items():
                row[f"thumbnail_{size}"] = thumb.get("url", "")
            if stats_on:
                stats = info.get("statistics") or {}
                row.update(view_count=int(stats.get("viewCount", 0)), subscriber_count=int(stats.get("subscriberCount", 0)),
                           hidden_subscriber_count=stats.get("hiddenSubscriberCount", False), video_count=int(stats.get("videoCount", 0)))
            if brand_on:
                branding = info.get("brandingSettings") or {}
                own = branding.get("channel") or {}
                row.update(brand_title=own.get("title", ""), brand_description=own.get("description", ""),
                           brand_keywords=own.get("keywords", ""), brand_banner_url=(branding.get("image") or {}).get("bannerExternalUrl", ""))
            if not to_bool(self.param("include_playlists", False)):
                return DataFrame(rows=[row])
            try:
                found = await self._get("playlists", part="snippet,contentDetails", channelId=channel, maxResults=self.MAX_PLAYLISTS)
            except YouTubeApiError:
                return DataFrame(rows=[row])  # playlists are optional: the channel row stands alone
            playlists = [{"playlist_title": p["snippet"].get("title", ""), "playlist_description": p["snippet"].get("description", ""),
                          "playlist_id": p.get("id", ""), "playlist_video_count": (p.get("contentDetails") or {}).get("itemCount", 0),
                          "playlist_published_at": p["snippet"].get("publishedAt", ""),
                          "playlist_thumbnail_url": ((p["snippet"].get("thumbnails") or {}).get("default") or {}).get("url", "")}
                         for p in found.get("items") or []]
            return DataFrame(rows=[{**row, **p} for p in playlists] or [row])
        except YouTubeApiError as exc:
            return error_frame(f"YouTube API error ({exc.status}): {exc.message}")


class YouTubeTrendingComponent(_DataApi):
    """`videos.list` chart=mostPopular for a region and category."""

    type_name = "YouTubeTrendingComponent"
    display_name = "YouTube Trending"
    description = "Retrieves trending videos from YouTube with filtering options."
    COUNTRY_CODES = {"Global": "US", "United States": "US", "Brazil": "BR", "United Kingdom": "GB", "India": "IN", "Japan": "JP",
                     "South Korea": "KR", "Germany": "DE", "France": "FR", "Canada": "CA", "Australia": "AU", "Spain": "ES", "Italy": "IT",
                     "Mexico": "MX", "Russia": "RU", "Netherlands": "NL", "Poland": "PL", "Argentina": "AR"}
    VIDEO_CATEGORIES = {"All": "0", "Film & Animation": "1", "Autos & Vehicles": "2", "Music": "10", "Pets & Animals": "15", "Sports": "17",
                        "Travel & Events": "19", "Gaming": "20", "People & Blogs": "22", "Comedy": "23", "Entertainment": "24",
                        "News & Politics": "25", "Education": "27", "Science & Technology": "28", "Nonprofits & Activism": "29"}
    inputs = (
        _KEY,
        Input("region", "Region", "str", "Global", options=tuple(COUNTRY_CODES), info="The region to get trending videos from.", input_kind="DropdownInput"),
        Input("category", "Category", "str", "All", options=tuple(VIDEO_CATEGORIES), info="The category of videos to retrieve.", input_kind="DropdownInput"),
        Input("max_results", "Max Results", "int", 10, info="Maximum number of trending videos to return (1-50).", input_kind="IntInput"),
        Input("include_statistics", "Include Statistics", "bool", True, info="Include video statistics (views, likes, comments).", input_kind="BoolInput"),
        Input("include_content_details", "Include Content Details", "bool", True, advanced=True, info="Include video duration and quality info.", input_kind="BoolInput"),
        Input("include_thumbnails", "Include Thumbnails", "bool", True, advanced=True, info="Include video thumbnail URLs.", input_kind="BoolInput"),
    )
    outputs = (Output("trending_videos", "get_trending_videos", ("Table",), "Trending Videos"),)
    tool_fields = {"region": ("string", "The region to get trending videos from."), "category": ("string", "The category of videos.")}

    async def get_trending_videos(self) -> DataFrame:
        region = to_text(self.param("region", "Global")) or "Global"
        category = to_text(self.param("category", "All")) or "All"
        if region not in self.COUNTRY_CODES or category not in self.VIDEO_CATEGORIES:
            return error_frame(f"Unknown region or category: {region!r}, {category!r}")
        stats_on, content_on = to_bool(self.param("include_statistics", True)), to_bool(self.param("include_content_details", True))
        thumbs_on = to_bool(self.param("include_thumbnails", True))
        parts = ["snippet"] + (["statistics"] if stats_on else []) + (["contentDetails"] if content_on else [])
        params: dict[str, Any] = {"part": ",".join(parts), "chart": "mostPopular", "regionCode": self.COUNTRY_CODES[region],
                                  "maxResults": min(max(1, to_int(self.param("max_results", 10), 10)), 50)}
        if category != "All":
            params["videoCategoryId"] = self.VIDEO_CATEGORIES[category]
        try:
            answer = await self._get("videos", **params)
        except YouTubeApiError as exc:
            return error_frame({403: "API quota exceeded or access forbidden.", 404: "Resource not found."}.get(exc.status or 0, f"YouTube API error: {exc.message}"))
        rows = []
        for item in answer.get("items") or []:
            snippet = item.get("snippet") or {}
            row: dict[str, Any] = {"video_id": item.get("id", ""), "title": snippet.get("title", ""), "channel_id": snippet.get("channelId", ""),
                                   "channel_title": snippet.get("channelTitle", ""), "category": category, "region": region,
                                   "published_at": snippet.get("publishedAt", ""), "url": f"https://www.youtube.com/watch?v={item.get('id', '')}",
                                   "description": snippet.get("description", "")}
            if stats_on and "statistics" in item:
                stats = item["statistics"]
                row.update(view_count=int(stats.get("viewCount", 0)), like_count=int(stats.get("likeCount", 0)), comment_count=int(stats.get("commentCount", 0)))
            if content_on and "contentDetails" in item:
                details = item["contentDetails"]
                row.update(duration=iso_duration(details.get("duration", "")), definition=str(details.get("definition", "hd")).upper(),
                           has_captions=details.get("caption", "false") == "true", licensed_content=details.get("licensedContent", False),
                           projection=details.get("projection", "rectangular"))
            if thumbs_on:
                thumbs: dict[str, Any] = {}
                self._thumbnails(snippet, thumbs)
                row.update({k: thumbs[k] for k in sorted(thumbs)})
            rows.append(row)
        return DataFrame(rows=rows)


# ---- youtube.com itself ---------------------------------------------------------------------

_PLAYER_CONTEXT = {"client": {"clientName": "ANDROID", "clientVersion": "20.10.38"}}
_CONSENT_FORM = 'action="https://consent.youtube.com/s"'


class TranscriptUnavailable(Exception):
    """The video has no usable transcript (disabled, none in the language, unplayable)."""


def parse_timedtext(content: bytes) -> list[dict[str, Any]]:
    """Segments (text, start, duration) of a timedtext XML answer; DTDs refused."""
    import xml.etree.ElementTree as ET

    if b"<!doctype" in content[:4096].lower() or b"<!entity" in content.lower():
        raise TranscriptUnavailable("the caption track answered with a DTD: refused")
    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        raise TranscriptUnavailable(f"the caption track is not valid XML: {exc}") from exc
    segments = []
    for element in root:
        if element.text is None:
            continue
        text = re.sub(r"<[^>]*>", "", html.unescape(element.text))
        segments.append({"text": text, "start": float(element.get("start", 0)), "duration": float(element.get("dur", 0))})
    return segments


class YouTubeTranscriptsComponent(ToolModeMixin, Component):
    type_name = "YouTubeTranscripts"
    display_name = "YouTube Transcripts"
    description = "Extracts spoken content from YouTube videos with multiple output options."
    category = "youtube"
    icon = "YouTube"
    inputs = (
        Input("url", "Video URL", "str", "", input_types=_MSG, required=True, multiline=True,
              info="Enter the YouTube video URL to get transcripts from.", input_kind="MultilineInput"),
        Input("chunk_size_seconds", "Chunk Size (seconds)", "int", 60, info="The size of each transcript chunk in seconds.", input_kind="IntInput"),
        Input("translation", "Translation Language", "str", "", advanced=True,
              options=("", "en", "es", "fr", "de", "it", "pt", "ru", "ja", "ko", "hi", "ar", "id"),
              info="Translate the transcripts to the specified language. Leave empty for no translation.", input_kind="DropdownInput"),
    )
    outputs = (
        Output("dataframe", "get_dataframe_output", ("Table",), "Chunks"),
        Output("message", "get_message_output", ("Message",), "Transcript"),
        Output("data_output", "get_data_output", ("Data",), "Transcript + Source"),
    )
    tool_fields = {"url": ("string", "The YouTube video URL.")}

    async def _watch_page(self, base: str, vid: str) -> str:
        url = f"{base}/watch?v={quote(vid)}"
        headers = {"Accept-Language": "en-US"}
        page = html.unescape((await call_api(self, PROVIDER, "GET", url, headers=headers)).text)
        if _CONSENT_FORM in page:
            match = re.search(r'name="v" value="(.*?)"', page)
            if match is None:
                raise TranscriptUnavailable("YouTube asked for a consent the component could not give")
            headers["Cookie"] = f"CONSENT=YES+{match.group(1)}"
            page = html.unescape((await call_api(self, PROVIDER, "GET", url, headers=headers)).text)
            if _CONSENT_FORM in page:
                raise TranscriptUnavailable("YouTube asked for a consent the component could not give")
        return page

    async def _segments(self) -> list[dict[str, Any]]:
        cached = getattr(self, "_loaded", None)
        if cached is not None:
            return cached
        url = to_text(self.params.get("url")).strip()
        vid = video_id(url)
        if not vid or "/" in vid or " " in vid:
            raise ValueError(f"Invalid YouTube URL: Could not extract video ID from URL: {url}")
        base = service_url(self, "youtube_web", "https://www.youtube.com")
        page = await self._watch_page(base, vid)
        key = re.search(r'"INNERTUBE_API_KEY":\s*"([a-zA-Z0-9_-]+)"', page)
        if key is None:
            blocked = 'class="g-recaptcha"' in page
            raise TranscriptUnavailable("YouTube is blocking automated requests" if blocked else "the watch page could not be read")
        player = await call_json(self, PROVIDER, "POST", f"{base}/youtubei/v1/player?key={key.group(1)}",
                                 json_body={"context": _PLAYER_CONTEXT, "videoId": vid})
        status = player.get("playabilityStatus") or {}
        if status.get("status") not in (None, "OK"):
            raise TranscriptUnavailable(f"the video is not playable ({status.get('status')}): {status.get('reason') or ''}".strip())
        tracks = ((player.get("captions") or {}).get("playerCaptionsTracklistRenderer") or {}).get("captionTracks")
        if not tracks:
            raise TranscriptUnavailable("this video does not have captions/transcripts enabled")
        english = [t for t in tracks if t.get("languageCode") == "en"]
        # Langflow asks for English (a manual track before a generated one); other videos fall back to their first track.
        track = next((t for t in english if t.get("kind") != "asr"), None) or (english[0] if english else tracks[0])
        caption_url = str(track.get("baseUrl") or "").replace("&fmt=srv3", "")
        if "&exp=xpe" in caption_url:
            raise TranscriptUnavailable("YouTube requires a PO token for this caption track")
        translation = to_text(self.params.get("translation")).strip()
        if translation:
            if not track.get("isTranslatable"):
                raise TranscriptUnavailable(f"the '{track.get('languageCode')}' transcript cannot be translated")
            caption_url += f"&tlang={quote(translation)}"
        answer = await call_api(self, PROVIDER, "GET", caption_url)
        self._loaded = parse_timedtext(answer.content)
        return self._loaded

    def _failure(self, exc: Exception) -> str:
        vid = video_id(to_text(self.params.get("url")))
        if isinstance(exc, ValueError):
            return str(exc)
        return (f"Could not retrieve transcripts for video '{vid}'. Possible reasons:\n1. This video does not have captions/transcripts enabled\n"
                f"2. The video is private, restricted, or deleted\n\nTechnical error ({type(exc).__name__}): {exc}")

    async def _load(self) -> tuple[list[dict[str, Any]] | None, str]:
        try:
            return await self._segments(), ""
        except (TranscriptUnavailable, ValueError) as exc:
            return None, self._failure(exc)
        except ConfigurationError as exc:  # a 4xx from youtube.com (the video or the track is gone)
            return None, self._failure(exc)

    async def get_dataframe_output(self) -> DataFrame:
        segments, error = await self._load()
        if segments is None:
            return error_frame(f"Failed to get YouTube transcripts: {error}")
        size = to_int(self.param("chunk_size_seconds", 60), 60)
        chunks: list[dict[str, Any]] = []
        current: list[str] = []
        start = 0.0
        for segment in segments:
            if segment["start"] - start >= size and current:
                chunks.append({"timestamp": clock(int(start)), "text": " ".join(current)})
                current, start = [], segment["start"]
            current.append(segment["text"])
        if current:
            chunks.append({"timestamp": clock(int(start)), "text": " ".join(current)})
        return DataFrame(rows=chunks)

    async def get_message_output(self) -> Message:
        segments, error = await self._load()
        if segments is None:
            return Message(text=f"Failed to get YouTube transcripts: {error}")
        return Message(text=" ".join(s["text"] for s in segments))

    async def get_data_output(self) -> Data:
        url = to_text(self.params.get("url"))
        segments, error = await self._load()
        if segments is None:
            return Data(data={"transcript": "", "video_url": url, "error": error})
        if not segments:
            return Data(data={"transcript": "", "video_url": url, "error": "No transcripts found."})
        return Data(data={"transcript": " ".join(s["text"] for s in segments), "video_url": url})


class YouTubePlaylistComponent(Component):
    """The video URLs of a public playlist, read from the playlist page's `ytInitialData` (the
    first page YouTube serves, up to 100 videos)."""

    type_name = "YouTubePlaylistComponent"
    display_name = "YouTube Playlist"
    description = "Extracts all video URLs from a YouTube playlist."
    category = "youtube"
    icon = "YouTube"
    inputs = (Input("playlist_url", "Playlist URL", "str", "", input_types=_MSG, required=True, info="URL of the YouTube playlist.", input_kind="MessageTextInput"),)
    outputs = (Output("video_urls", "extract_video_urls", ("Table",), "Video URLs"),)

    async def extract_video_urls(self) -> DataFrame:
        text = to_text(self.params.get("playlist_url")).strip()
        match = re.search(r"[?&]list=([A-Za-z0-9_-]+)", text)
        playlist = match.group(1) if match else text
        if not re.fullmatch(r"[A-Za-z0-9_-]+", playlist or ""):
            raise ValueError(f"Not a YouTube playlist URL: {text}")
        base = service_url(self, "youtube_web", "https://www.youtube.com")
        page = (await call_api(self, PROVIDER, "GET", f"{base}/playlist?list={playlist}", headers={"Accept-Language": "en-US"})).text
        found = re.search(r"(?:var ytInitialData|window\[\"ytInitialData\"\])\s*=\s*(\{.*?\});\s*</script>", page, re.S)
        if found is None:
            raise ProviderError("YouTube's playlist page could not be read (no ytInitialData)", provider=PROVIDER)
        try:
            data = json.loads(found.group(1))
        except ValueError as exc:
            raise ProviderError("YouTube's playlist page could not be read (invalid ytInitialData)", provider=PROVIDER) from exc
        ids: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                renderer = node.get("playlistVideoRenderer")
                if isinstance(renderer, dict) and renderer.get("videoId") and renderer["videoId"] not in ids:
                    ids.append(renderer["videoId"])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(data)
        return DataFrame(rows=[{"video_url": f"https://www.youtube.com/watch?v={vid}"} for vid in ids])
