"""A local stand-in for the YouTube Data API v3 `videos.list` and for the rights source.

It serves on 127.0.0.1 from a thread, answers like the real API (resource and error shapes as
Google documents them), records every request with its arrival time, and can be told to
answer with an error instead (quotaExceeded, keyInvalid, backendError...).

    /youtube/v3/videos?part=...&id=a,b&key=K   the Data API's videos.list
    /rights/v1/ownership?id=...&key=K          the rights contract (catalog/youtube/rights.py)
    /rights/v1/assets?id=...&key=K
"""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

DATA_KEY = "test-data-key"
RIGHTS_KEY = "test-rights-key"
QUOTA_MESSAGE = (
    'The request cannot be completed because you have exceeded your <a href="/youtube/v3/'
    'getting-started#quota">quota</a>.'
)
ERRORS = {  # reason: (status, domain, message), as the real API words them
    "quotaExceeded": (403, "youtube.quota", QUOTA_MESSAGE),
    "keyInvalid": (400, "usageLimits", "API key not valid. Please pass a valid API key."),
    "forbidden": (403, "global", "The request is not properly authorized."),
    "backendError": (500, "global", "Backend Error"),
    "rateLimitExceeded": (403, "usageLimits", "Rate Limit Exceeded"),
}
VIDEO_PARTS = {"snippet", "contentDetails", "statistics", "status", "id"}


def video_resource(
    video_id: str,
    *,
    title: str = "A song",
    channel_id: str = "UCfakechannel000000000000",
    channel_title: str = "Fake channel",
    published_at: str = "2021-03-04T05:06:07Z",
    duration: str = "PT3M20S",
    views: int = 1000,
    privacy: str = "public",
    embeddable: bool = True,
) -> dict[str, Any]:
    """A `youtube#video` resource with the four parts the sync asks for, shaped like Google's
    (counts are strings, the duration ISO 8601)."""
    return {
        "kind": "youtube#video",
        "etag": f"etag-{video_id}",
        "id": video_id,
        "snippet": {
            "publishedAt": published_at,
            "channelId": channel_id,
            "title": title,
            "description": f"The video {title}.",
            "thumbnails": {
                "default": {
                    "url": f"https://i.ytimg.com/vi/{video_id}/default.jpg",
                    "width": 120,
                    "height": 90,
                },
            },
            "channelTitle": channel_title,
            "tags": ["music"],
            "categoryId": "10",
            "liveBroadcastContent": "none",
            "localized": {"title": title, "description": f"The video {title}."},
            "defaultAudioLanguage": "en",
        },
        "contentDetails": {
            "duration": duration,
            "dimension": "2d",
            "definition": "hd",
            "caption": "false",
            "licensedContent": True,
            "contentRating": {},
            "projection": "rectangular",
        },
        "status": {
            "uploadStatus": "processed",
            "privacyStatus": privacy,
            "license": "youtube",
            "embeddable": embeddable,
            "publicStatsViewable": True,
            "madeForKids": False,
        },
        "statistics": {
            "viewCount": str(views),
            "likeCount": str(views // 10),
            "favoriteCount": "0",
            "commentCount": str(views // 100),
        },
    }


@dataclass
class Request:
    at: float  # time.monotonic() on arrival
    path: str
    params: dict[str, str]

    @property
    def ids(self) -> list[str]:
        return [i for i in self.params.get("id", "").split(",") if i]


@dataclass
class FakeApi:
    videos: dict[str, dict] = field(default_factory=dict)
    ownership: dict[str, dict] = field(default_factory=dict)
    assets: dict[str, dict] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    # Answer every request with this error (a key of ERRORS) while it is set.
    fail_with: str | None = None
    url: str = ""

    def reset(self) -> None:
        self.videos.clear()
        self.ownership.clear()
        self.assets.clear()
        self.requests.clear()
        self.fail_with = None

    def calls(self, path: str = "") -> list[Request]:
        return [request for request in self.requests if request.path.endswith(path)]

    # -- answering ------------------------------------------------------------------------

    def answer(self, path: str, params: dict[str, str]) -> tuple[int, dict]:
        self.requests.append(Request(time.monotonic(), path, params))
        if self.fail_with:
            return error(self.fail_with)
        ids = [i for i in params.get("id", "").split(",") if i]
        if path == "/youtube/v3/videos":
            if params.get("key") != DATA_KEY:
                return error("keyInvalid")
            parts = set(params.get("part", "").split(","))
            if not params.get("part") or not parts <= VIDEO_PARTS:
                return error_400("part", "The part parameter is missing or names an unknown part.")
            if len(ids) > 50:
                return error_400("id", "At most 50 ids may be given.")
            items = [
                {k: v for k, v in self.videos[i].items() if k in {"kind", "etag", "id"} | parts}
                for i in ids
                if i in self.videos
            ]
            return 200, {
                "kind": "youtube#videoListResponse",
                "etag": "list-etag",
                "items": items,
                "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
            }
        if path in ("/rights/v1/ownership", "/rights/v1/assets"):
            if params.get("key") != RIGHTS_KEY:
                return error("keyInvalid")
            if len(ids) > 50:
                return error_400("id", "At most 50 ids may be given.")
            name = path.rsplit("/", 1)[1]
            source, kind = (
                (self.ownership, "ownership") if name == "ownership" else (self.assets, "asset")
            )
            items = [{"kind": f"catalog#{kind}", "id": i, **source[i]} for i in ids if i in source]
            return 200, {"kind": f"catalog#{kind}ListResponse", "items": items}
        return 404, {"error": {"code": 404, "message": "Not Found", "errors": []}}


def error(reason: str) -> tuple[int, dict]:
    status, domain, message = ERRORS[reason]
    return status, {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
        }
    }


def error_400(parameter: str, message: str) -> tuple[int, dict]:
    return 400, {
        "error": {
            "code": 400,
            "message": message,
            "errors": [
                {
                    "message": message,
                    "domain": "youtube.parameter",
                    "reason": "invalidParameter",
                    "location": parameter,
                    "locationType": "parameter",
                }
            ],
        }
    }


def start() -> tuple[FakeApi, ThreadingHTTPServer]:
    """Serve a FakeApi on a free port of 127.0.0.1 from a daemon thread."""
    api = FakeApi()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            parts = urlsplit(self.path)
            params = {key: values[-1] for key, values in parse_qs(parts.query).items()}
            status, body = api.answer(parts.path, params)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return api, server
