"""A local stand-in for the Notion API: the two endpoints the draft sync uses, answering in
Notion's own JSON shapes (page objects, list results with cursors, error objects), served on
127.0.0.1 from a thread. It records every request, applies page updates to the pages it
holds, and answers the next requests with scripted errors when told to (a 429 with
Retry-After, a 500...).

    POST  /v1/databases/{database_id}/query   {"page_size": ≤100, "start_cursor": ...}
    PATCH /v1/pages/{page_id}                 {"properties": {name: {"select": {...}}}}

Its fixtures (import them into a test module): `fake_notion_server` (one per session) and
`fake_notion` (emptied, with the app configured to use it, retries without waiting)."""

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

TOKEN = "secret_test-notion-token"
DATABASE_ID = "d9824bdc84454327be8b5b47500af6ce"
VERSION = "2022-06-28"
ERRORS = {  # status: (code, message), as Notion words them
    400: ("validation_error", "body failed validation."),
    401: ("unauthorized", "API token is invalid."),
    404: ("object_not_found", "Could not find page. Make sure it is shared with the integration."),
    409: ("conflict_error", "Conflict occurred while saving. Please try again."),
    429: ("rate_limited", "You have been rate limited. Please try again in a few minutes."),
    500: ("internal_server_error", "Unexpected error occurred."),
    502: ("bad_gateway", "Bad gateway."),
    503: ("service_unavailable", "Notion is unavailable, please try again later."),
}


def rich_text(text: str) -> list[dict]:
    """Notion's rich text array for plain text (long text comes in runs of 2,000)."""
    runs = [text[i : i + 2000] for i in range(0, len(text), 2000)] or []
    return [
        {
            "type": "text",
            "text": {"content": run, "link": None},
            "annotations": {
                "bold": False, "italic": False, "strikethrough": False, "underline": False,
                "code": False, "color": "default",
            },
            "plain_text": run,
            "href": None,
        }
        for run in runs
    ]  # fmt: skip


def select(name: str | None) -> dict | None:
    return {"id": uuid.uuid4().hex[:4], "name": name, "color": "default"} if name else None


def page(
    title: str | None,
    channel_id: str | None,
    *,
    topic: str | None = None,
    story: str | None = None,
    priority: str | None = None,
    status: str | None = None,
    page_id: str | None = None,
    archived: bool = False,
) -> dict[str, Any]:
    """A page object of the drafts database, as the query returns it (id with dashes)."""
    page_id = str(uuid.UUID(page_id) if page_id else uuid.uuid4())
    slug = (title or "Untitled").replace(" ", "-")
    properties: dict[str, Any] = {
        "Name": {"id": "title", "type": "title", "title": rich_text(title or "")},
        "Topic": {"id": "t%3Bp", "type": "rich_text", "rich_text": rich_text(topic or "")},
        "Story direction": {"id": "s%3Ad", "type": "rich_text",
                            "rich_text": rich_text(story or "")},
        "Channel ID": {"id": "c%3Ai", "type": "rich_text",
                       "rich_text": rich_text(channel_id or "")},
        "Priority": {"id": "p%3Ar", "type": "select", "select": select(priority)},
        "Catalog status": {"id": "c%3As", "type": "select", "select": select(status)},
    }  # fmt: skip
    return {
        "object": "page",
        "id": page_id,
        "created_time": "2026-11-30T10:00:00.000Z",
        "last_edited_time": "2026-12-01T09:30:00.000Z",
        "created_by": {"object": "user", "id": "6794760a-1f15-45cd-9c65-0dfe42f5135a"},
        "last_edited_by": {"object": "user", "id": "6794760a-1f15-45cd-9c65-0dfe42f5135a"},
        "cover": None,
        "icon": None,
        "parent": {"type": "database_id", "database_id": str(uuid.UUID(DATABASE_ID))},
        "archived": archived,
        "in_trash": archived,
        "properties": properties,
        "url": f"https://www.notion.so/{slug}-{page_id.replace('-', '')}",
        "public_url": None,
    }


@dataclass
class Request:
    at: float
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeNotion:
    pages: list[dict] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    # Answers for the next requests, in order: (status, headers) each; a path part limits one
    # to the requests whose path contains it.
    script: list[tuple[int, dict[str, str], str]] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.pages.clear()
            self.requests.clear()
            self.script.clear()

    def fail_next(self, status: int, times: int = 1, *, headers=None, path: str = "") -> None:
        self.script.extend([(status, dict(headers or {}), path)] * times)

    def calls(self, method: str = "", path: str = "") -> list[Request]:
        return [r for r in self.requests if (not method or r.method == method) and path in r.path]

    def page_by_id(self, page_id: str) -> dict | None:
        wanted = page_id.replace("-", "")
        return next((p for p in self.pages if p["id"].replace("-", "") == wanted), None)

    # -- answering ------------------------------------------------------------------------

    def answer(self, method: str, path: str, headers: dict[str, str], raw: bytes):
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        with self.lock:
            self.requests.append(Request(time.monotonic(), method, path, headers, body))
            for index, (status, extra, part) in enumerate(self.script):
                if part in path:
                    del self.script[index]
                    return error(status, extra)
            if headers.get("authorization") != f"Bearer {TOKEN}":
                return error(401)
            if headers.get("notion-version") != VERSION:
                return error(400, message="Notion-Version header failed validation.")
            parts = path.strip("/").split("/")
            if method == "POST" and parts[:2] == ["v1", "databases"] and parts[3:] == ["query"]:
                if parts[2].replace("-", "") != DATABASE_ID:
                    return error(404)
                return self.query(body if isinstance(body, dict) else {})
            if method == "PATCH" and parts[:2] == ["v1", "pages"] and len(parts) == 3:
                return self.update(parts[2], body)
            return error(400, message=f"Invalid request URL: {method} {path}")

    def query(self, body: dict):
        size = body.get("page_size", 100)
        if not isinstance(size, int) or not 1 <= size <= 100:
            return error(400, message="body.page_size should be ≤ 100.")
        live = [p for p in self.pages if not p.get("archived")]
        start = 0
        if cursor := body.get("start_cursor"):
            ids = [p["id"] for p in live]
            if cursor not in ids:
                return error(400, message="start_cursor is not a valid cursor.")
            start = ids.index(cursor)
        chunk = live[start : start + size]
        more = start + size < len(live)
        return 200, {}, {
            "object": "list",
            "results": json.loads(json.dumps(chunk)),
            "next_cursor": live[start + size]["id"] if more else None,
            "has_more": more,
            "type": "page_or_database",
            "page_or_database": {},
        }  # fmt: skip

    def update(self, page_id: str, body: Any):
        found = self.page_by_id(page_id)
        if found is None:
            return error(404)
        properties = body.get("properties") if isinstance(body, dict) else None
        if not isinstance(properties, dict):
            return error(400, message="body.properties should be an object.")
        for name, value in properties.items():
            if name not in found["properties"]:
                return error(400, message=f"{name} is not a property that exists.")
            kind = found["properties"][name]["type"]
            if not isinstance(value, dict) or set(value) != {kind}:
                return error(400, message=f"{name} is expected to be {kind}.")
            found["properties"][name][kind] = select(value[kind]["name"])
        return 200, {}, json.loads(json.dumps(found))


def error(status: int, headers: dict | None = None, *, message: str | None = None):
    code, default = ERRORS[status]
    body = {"object": "error", "status": status, "code": code, "message": message or default}
    return status, headers or {}, body


def start() -> tuple[FakeNotion, ThreadingHTTPServer]:
    api = FakeNotion()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {key.lower(): value for key, value in self.headers.items()}
            status, extra, body = api.answer(self.command, self.path, headers, raw)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_PATCH = do_GET = _serve

        def log_message(self, *args):  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return api, server


@pytest.fixture(scope="session")
def fake_notion_server():
    api, server = start()
    yield api
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake_notion(app, fake_notion_server, monkeypatch):
    """The fake, empty, with the app pointed at it; retries wait 1 ms, and the limiter
    allows 1,000 requests a second (its own tests slow it down)."""
    fake_notion_server.reset()
    settings = {
        "NOTION_TOKEN": TOKEN,
        "NOTION_DATABASE_ID": DATABASE_ID,
        "NOTION_API_URL": f"{fake_notion_server.url}/v1",
        "NOTION_REQUESTS_PER_SECOND": 1000.0,
        "NOTION_MAX_ATTEMPTS": 3,
        "NOTION_RETRY_WAIT": 0.001,
    }
    for name, value in settings.items():
        monkeypatch.setitem(app.config, name, value)
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    yield fake_notion_server
    fake_notion_server.reset()
