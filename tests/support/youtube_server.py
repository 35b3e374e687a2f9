"""YouTube on 127.0.0.1, from the public references: the Data API v3 (`GET /youtube/v3/search`,
`videos`, `channels`, `playlists`, `commentThreads`; the key in `key`; Google's error JSON
`{"error": {"code", "message", "errors": [{"domain", "reason", "message"}], "status"}}`: a bad key
→ 400 keyInvalid, video `quota` → 403 quotaExceeded, `gone` → 404 videoNotFound) and youtube.com
as the transcript and playlist readers use it: the watch page carrying `INNERTUBE_API_KEY`
(`consent` videos first answer the consent form until the CONSENT cookie is sent), the player
endpoint `POST /youtubei/v1/player?key=` (captionTracks; `nocaptions` has none, `private` is
LOGIN_REQUIRED), the timedtext XML at `/api/timedtext` (`tlang` translates) and a playlist page
with `ytInitialData`.

    with YouTubeServer() as yt:
        EngineSettings(allow_loopback=True, service_urls=yt.service_urls())
"""

from __future__ import annotations

import json
from typing import Any

from tests.support.stub_http import Answer, StubRequest, StubServer

API_KEY = "yt-test-key"
INNERTUBE_KEY = "AIzaInnerTubeKey_1"


def google_error(code: int, message: str, reason: str, domain: str = "youtube.api") -> tuple[int, str, Any]:
    status = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}.get(code, "UNKNOWN")
    return code, "application/json", {"error": {"code": code, "message": message, "errors": [{"message": message, "domain": domain, "reason": reason}],
                                                 "status": status}}


def _thumbs(vid: str) -> dict[str, Any]:
    return {"default": {"url": f"https://i.ytimg.com/vi/{vid}/default.jpg", "width": 120, "height": 90},
            "high": {"url": f"https://i.ytimg.com/vi/{vid}/hqdefault.jpg", "width": 480, "height": 360}}


def _video(vid: str, n: int = 0) -> dict[str, Any]:
    return {"kind": "youtube#video", "id": vid,
            "snippet": {"publishedAt": "2026-01-0%dT00:00:00Z" % (n % 9 + 1), "channelId": "UC" + "x" * 22, "title": f"Video {vid}",
                        "description": f"About {vid}", "thumbnails": _thumbs(vid), "channelTitle": "Channel X", "tags": ["a", "b"],
                        "categoryId": "28", "liveBroadcastContent": "none"},
            "statistics": {"viewCount": str(1000 + n), "likeCount": str(10 + n), "favoriteCount": "0", "commentCount": str(n)},
            "contentDetails": {"duration": "PT1H2M3S" if n == 0 else "PT4M5S", "dimension": "2d", "definition": "hd", "caption": "true",
                               "licensedContent": True, "projection": "rectangular"}}


class YouTubeServer(StubServer):
    def __init__(self) -> None:
        super().__init__()
        self.segments = [(0.0, "Hello &amp;amp; welcome"), (30.5, "to the &lt;b&gt;show&lt;/b&gt;"), (61.0, "part two"), (125.0, "the end")]

    def service_urls(self) -> tuple[tuple[str, str], ...]:
        return (("youtube", self.base_url), ("youtube_web", self.base_url))

    def failure_body(self, status: int) -> tuple[str, Any]:
        return "application/json", google_error(status, "Backend Error", "backendError")[2]

    def route(self, r: StubRequest) -> Answer:
        q = r.q
        if r.path.startswith("/youtube/v3/"):
            if q.get("key") != API_KEY:
                return google_error(400, "API key not valid. Please pass a valid API key.", "keyInvalid", "global")
            return self._data_api(r.path.rsplit("/", 1)[-1], q)
        if r.path == "/watch":
            return self._watch(r, q.get("v", ""))
        if r.path == "/youtubei/v1/player":
            return self._player(r)
        if r.path == "/api/timedtext":
            lang = q.get("tlang") or q.get("lang", "en")
            body = "".join(f'<text start="{s}" dur="2.5">{t if lang == "en" else f"[{lang}] {t}"}</text>' for s, t in self.segments)
            return 200, "text/xml", f'<?xml version="1.0" encoding="utf-8" ?><transcript>{body}</transcript>'
        if r.path == "/playlist":
            contents = [{"playlistVideoRenderer": {"videoId": f"vid{i:08d}", "title": {"runs": [{"text": f"V{i}"}]}}} for i in range(3)]
            data = {"contents": {"twoColumnBrowseResultsRenderer": {"tabs": [{"tabRenderer": {"content": {"playlistVideoListRenderer": {"contents": contents}}}}]}}}
            return 200, "text/html", f"<html><script>var ytInitialData = {json.dumps(data)};</script></html>"
        return 404, "application/json", {"error": "not found"}

    # ---- Data API v3 ----

    def _data_api(self, resource: str, q: dict[str, str]) -> Answer:
        ident = q.get("id", "") or q.get("videoId", "")
        if ident == "quota":
            return google_error(403, "The request cannot be completed because you have exceeded your quota.", "quotaExceeded", "youtube.quota")
        if ident == "gone":
            return google_error(404, "The video identified by the videoId parameter could not be found.", "videoNotFound")
        if resource == "search" and q.get("type") == "channel":
            return 200, "application/json", {"items": [{"id": {"kind": "youtube#channel", "channelId": "UC" + q["q"][:22].ljust(22, "0")}}]}
        if resource == "search":
            n = int(q.get("maxResults", 5))
            items = [{"id": {"kind": "youtube#video", "videoId": f"s{i}"}, "snippet": _video(f"s{i}", i)["snippet"]} for i in range(min(n, 4))]
            return 200, "application/json", {"kind": "youtube#searchListResponse", "items": items}
        if resource == "videos" and q.get("chart") == "mostPopular":
            n = int(q.get("maxResults", 5))
            items = [self._parts(_video(f"t{i}", i), q) for i in range(min(n, 3))]
            return 200, "application/json", {"items": items}
        if resource == "videos":
            return 200, "application/json", {"items": [self._parts(_video(v, i), q) for i, v in enumerate(ident.split(",")) if v != "missing"]}
        if resource == "channels":
            channel = {"id": ident, "snippet": {"title": "Chan", "description": "A channel", "customUrl": "@chan", "publishedAt": "2020-01-01T00:00:00Z",
                                                "thumbnails": {"default": {"url": "https://yt3/c.jpg"}}},
                       "contentDetails": {"relatedPlaylists": {"uploads": "UU1"}},
                       "statistics": {"viewCount": "500", "subscriberCount": "42", "hiddenSubscriberCount": False, "videoCount": "7"},
                       "brandingSettings": {"channel": {"title": "Chan", "description": "Brand", "keywords": "k1 k2"}, "image": {"bannerExternalUrl": "https://yt3/b"}}}
            return 200, "application/json", {"items": [self._parts(channel, q)] if ident != "UCmissing000000000000000" else []}
        if resource == "playlists":
            items = [{"id": f"PL{i}", "snippet": {"title": f"List {i}", "description": "", "publishedAt": "2021-01-01T00:00:00Z",
                                                  "thumbnails": {"default": {"url": f"https://i/pl{i}.jpg"}}}, "contentDetails": {"itemCount": 3 + i}} for i in range(2)]
            return 200, "application/json", {"items": items}
        if resource == "commentThreads":
            start = int(q.get("pageToken") or 0)
            items = []
            for i in range(start, min(start + 3, 8, start + int(q.get("maxResults", 20)))):
                top = {"id": f"c{i}", "snippet": {"authorDisplayName": f"user{i}", "textDisplay": f"comment {i}", "publishedAt": "2026-01-01T00:00:00Z",
                                                  "updatedAt": "2026-01-01T00:00:00Z", "likeCount": i}}
                replies = {"comments": [{"id": f"c{i}.r", "snippet": {"authorDisplayName": "replier", "textDisplay": f"reply to {i}", "likeCount": 1}}]}
                items.append({"id": f"t{i}", "snippet": {"topLevelComment": top, "totalReplyCount": 1}, "replies": replies})
            answer: dict[str, Any] = {"items": items}
            if start + 3 < 8:
                answer["nextPageToken"] = str(start + 3)
            return 200, "application/json", answer
        return google_error(404, f"Unknown resource {resource}", "notFound")

    @staticmethod
    def _parts(resource: dict[str, Any], q: dict[str, str]) -> dict[str, Any]:
        wanted = set(q.get("part", "").split(",")) | {"id"}
        return {k: v for k, v in resource.items() if k in wanted or k == "kind"}

    # ---- youtube.com ----

    def _watch(self, r: StubRequest, vid: str) -> Answer:
        if vid.startswith("consent") and "CONSENT=YES+cb.2026" not in r.headers.get("cookie", ""):
            return 200, "text/html", '<form action="https://consent.youtube.com/s"><input type="hidden" name="v" value="cb.2026"></form>'
        if vid == "blocked":
            return 200, "text/html", '<html><div class="g-recaptcha"></div></html>'
        return 200, "text/html", f'<html><script>ytcfg.set({{"INNERTUBE_API_KEY": "{INNERTUBE_KEY}", "x": 1}});</script>&quot;{vid}&quot;</html>'

    def _player(self, r: StubRequest) -> Answer:
        if r.q.get("key") != INNERTUBE_KEY:
            return 400, "application/json", {"error": {"code": 400, "message": "API key not valid."}}
        body = r.json() or {}
        vid = body.get("videoId", "")
        assert body.get("context", {}).get("client", {}).get("clientName") == "ANDROID", body
        if vid == "private":
            return 200, "application/json", {"playabilityStatus": {"status": "LOGIN_REQUIRED", "reason": "This video is private"}}
        if vid == "nocaptions":
            return 200, "application/json", {"playabilityStatus": {"status": "OK"}}
        base = f"{self.base_url}/api/timedtext?v={vid}"
        tracks = [{"baseUrl": f"{base}&lang=pt&fmt=srv3", "name": {"runs": [{"text": "Portuguese"}]}, "languageCode": "pt", "isTranslatable": True},
                  {"baseUrl": f"{base}&lang=en&kind=asr&fmt=srv3", "name": {"runs": [{"text": "English (auto-generated)"}]}, "languageCode": "en",
                   "kind": "asr", "isTranslatable": True}]
        if vid != "asronly":
            tracks.append({"baseUrl": f"{base}&lang=en&fmt=srv3", "name": {"runs": [{"text": "English"}]}, "languageCode": "en", "isTranslatable": True})
        return 200, "application/json", {"playabilityStatus": {"status": "OK"},
                                         "captions": {"playerCaptionsTracklistRenderer": {"captionTracks": tracks,
                                                                                          "translationLanguages": [{"languageCode": "es", "languageName": {"runs": [{"text": "Spanish"}]}}]}}}
