"""A small client of the Notion API (standard library only): what the draft sync needs.

- Query a database: POST {base}/databases/{id}/query with `{"page_size": 100,
  "start_cursor": ...}`, answering `{"object": "list", "results": [page objects],
  "has_more": bool, "next_cursor": str | null}`; the client follows the cursors to the end.
- Update a page's status property: PATCH {base}/pages/{id} with `{"properties": {name:
  {"select": {"name": value}}}}` (or `"status"` for a property of Notion's status type).

Every request carries `Authorization: Bearer NOTION_TOKEN` and `Notion-Version` (2022-06-28,
the version whose databases/{id}/query endpoint this speaks; later versions moved querying
to data sources). Errors come as `{"object": "error", "status": 429, "code": "rate_limited",
"message": ...}`.

Notion allows an average of three requests per second per integration: a limiter spaces the
requests of this process (the sync runs one at a time, see sync.py, so one process makes
them). A 429 is retried after the seconds its Retry-After header gives; a 5xx, a 409
conflict or an unreachable server after a doubling wait; both a bounded number of times.
Anything else (a bad token, a database not shared with the integration) is refused at once
with Notion's own words.
"""

import http.client
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from flask import current_app

from catalog.jobs import PermanentError

NOTION_VERSION = "2022-06-28"
PAGE_SIZE = 100  # Notion's largest page of results
TIMEOUT_SECONDS = 30
# A Retry-After longer than this is not waited out inside a job: the attempt fails, and the
# job engine's backoff (or the next scheduled run) tries again later.
MAX_RETRY_AFTER = 60.0
# 409: Notion's conflict_error, "try again"; 429 rate_limited; 5xx its own trouble.
RETRYABLE = {409, 429, 500, 502, 503, 504}


class NotionError(Exception):
    """Notion could not be used. `status` and `code` are Notion's (None when unreachable)."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class NotionUnavailable(NotionError):
    """Still rate-limited, failing or unreachable after every attempt: worth trying later."""


class NotionRefused(NotionError, PermanentError):
    """Notion refused the request as it stands (a bad token, a database or page not shared
    with the integration, a property that does not exist): asking again cannot help."""


class NotionNotConfigured(NotionError, PermanentError):
    """NOTION_TOKEN or NOTION_DATABASE_ID is not set; nothing was called."""


class RateLimiter:
    """At most `rate` request starts per second, spaced evenly, for every thread of the
    process. A request waits only when the one before it started less than 1/rate s ago."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.clock = clock
        self.sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Wait for this request's turn; the seconds waited."""
        with self._lock:  # hand out the slots under the lock, wait outside it
            now = self.clock()
            start = max(now, self._next)
            self._next = start + self.interval
        delay = start - now
        if delay > 0:
            self.sleep(delay)
        return delay


_limiters: dict[tuple[str, str, float], RateLimiter] = {}
_limiters_lock = threading.Lock()


def shared_limiter(base_url: str, token: str, rate: float) -> RateLimiter:
    """The process's one limiter for an integration (Notion counts per token)."""
    key = (base_url, token, rate)
    with _limiters_lock:
        if key not in _limiters:
            _limiters[key] = RateLimiter(rate)
        return _limiters[key]


def _error_from(status: int, body: bytes) -> NotionError:
    """The exception for an error answer in Notion's shape."""
    code, message = None, ""
    try:
        answer = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        answer = None
    if isinstance(answer, dict):
        code = answer.get("code") if isinstance(answer.get("code"), str) else None
        message = str(answer.get("message") or "")
    text = f"Notion answered HTTP {status}{f' {code}' if code else ''}: {message or 'no message'}"
    kind = NotionUnavailable if status in RETRYABLE else NotionRefused
    return kind(text[:1000], status=status, code=code)


def _retry_after(headers: Any) -> float | None:
    """Retry-After in seconds (Notion sends an integer); None when absent or unreadable."""
    value = headers.get("Retry-After") if headers is not None else None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds >= 0 else None


class NotionClient:
    """Requests to one Notion integration: spaced by a limiter, retried when worth it."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        limiter: RateLimiter,
        max_attempts: int = 5,
        retry_wait: float = 1.0,
        max_retry_after: float = MAX_RETRY_AFTER,
        timeout: float = TIMEOUT_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not token:
            raise NotionNotConfigured("No Notion token is configured (NOTION_TOKEN).")
        if urllib.parse.urlsplit(base_url).scheme not in ("http", "https"):
            raise NotionNotConfigured(f"The Notion API URL must be http(s): {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.limiter = limiter
        self.max_attempts = max(1, max_attempts)
        self.retry_wait = retry_wait
        self.max_retry_after = max_retry_after
        self.timeout = timeout
        self.sleep = sleep
        self.requests = 0  # sent by this client, retries included, for the job's result
        self.retries = 0

    # -- one request ----------------------------------------------------------------------

    def _send(self, method: str, path: str, body: dict | None) -> tuple[int, Any, bytes]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310  (scheme checked to be http(s) above)
            f"{self.base_url}/{path.lstrip('/')}",
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Notion-Version": NOTION_VERSION,
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": "catalog/notion-sync",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read()

    def request(self, method: str, path: str, body: dict | None = None) -> dict[str, Any]:
        """One API call, retried on 429 (after Retry-After), 409 and 5xx (after a doubling
        wait) and when Notion cannot be reached, up to max_attempts; the decoded answer."""
        for attempt in range(1, self.max_attempts + 1):
            self.limiter.wait()
            self.requests += 1
            wait = self.retry_wait * 2 ** (attempt - 1)
            try:
                status, headers, payload = self._send(method, path, body)
            except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                error: NotionError = NotionUnavailable(f"Notion could not be reached: {reason}")
            else:
                if 200 <= status < 300:
                    return self._decoded(payload)
                error = _error_from(status, payload)
                if isinstance(error, NotionRefused):
                    raise error
                if status == 429 and (after := _retry_after(headers)) is not None:
                    wait = after
            if attempt == self.max_attempts:
                raise NotionUnavailable(
                    f"{error} (gave up after {attempt} attempts)",
                    status=error.status, code=error.code,
                )  # fmt: skip
            if wait > self.max_retry_after:
                raise NotionUnavailable(
                    f"{error} (asked to wait {wait:g} s, longer than a job waits)",
                    status=error.status, code=error.code,
                )  # fmt: skip
            self.retries += 1
            self.sleep(wait)
        raise AssertionError("unreachable")  # the loop returns or raises

    @staticmethod
    def _decoded(payload: bytes) -> dict[str, Any]:
        try:
            answer = json.loads(payload.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            answer = None
        if not isinstance(answer, dict):
            raise NotionUnavailable("Notion answered with something other than a JSON object")
        return answer

    # -- the calls the sync makes ---------------------------------------------------------

    def query_database(self, database_id: str) -> list[dict[str, Any]]:
        """Every page of a database, following the cursors (100 pages a request)."""
        pages: list[dict[str, Any]] = []
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            body: dict[str, Any] = {"page_size": PAGE_SIZE}
            if cursor:
                body["start_cursor"] = cursor
            answer = self.request("POST", f"databases/{database_id}/query", body)
            results = answer.get("results")
            if not isinstance(results, list):
                raise NotionUnavailable("Notion's query answer has no list of results")
            pages.extend(results)
            if not answer.get("has_more"):
                return pages
            cursor = answer.get("next_cursor")
            if not isinstance(cursor, str) or not cursor or cursor in seen:
                raise NotionUnavailable("Notion said there is more but gave no new cursor")
            seen.add(cursor)

    def set_status(self, page_id: str, prop: str, prop_type: str, value: str) -> dict[str, Any]:
        """Write `value` into a page's select (or status) property `prop`."""
        body = {"properties": {prop: {prop_type: {"name": value}}}}
        return self.request("PATCH", f"pages/{page_id}", body)


def configured(config: dict | None = None) -> bool:
    """Whether Notion is configured (a token and a database)."""
    config = config or current_app.config
    return bool(config.get("NOTION_TOKEN") and config.get("NOTION_DATABASE_ID"))


def notion_client(config: dict | None = None) -> NotionClient:
    """The client the configuration describes."""
    config = config or current_app.config
    if not configured(config):
        raise NotionNotConfigured(
            "Notion is not configured (NOTION_TOKEN and NOTION_DATABASE_ID): drafts are made "
            "in Catalog."
        )
    base_url = config["NOTION_API_URL"]
    return NotionClient(
        base_url,
        config["NOTION_TOKEN"],
        limiter=shared_limiter(
            base_url, config["NOTION_TOKEN"], config["NOTION_REQUESTS_PER_SECOND"]
        ),
        max_attempts=config["NOTION_MAX_ATTEMPTS"],
        retry_wait=config["NOTION_RETRY_WAIT"],
    )


# -- reading page properties ----------------------------------------------------------------


def plain_text(prop: Any) -> str | None:
    """The text of a title or rich_text property value (None when it is neither)."""
    if not isinstance(prop, dict):
        return None
    kind = prop.get("type")
    parts = prop.get(kind) if kind in ("title", "rich_text") else None
    if not isinstance(parts, list):
        return None
    return "".join(
        str(part.get("plain_text") or (part.get("text") or {}).get("content") or "")
        for part in parts
        if isinstance(part, dict)
    )


def option_name(prop: Any) -> str | None:
    """The option chosen in a select or status property value (None when empty)."""
    if not isinstance(prop, dict) or prop.get("type") not in ("select", "status"):
        return None
    chosen = prop.get(prop["type"])
    return str(chosen["name"]) if isinstance(chosen, dict) and chosen.get("name") else None


def title_property(properties: dict[str, Any]) -> Any:
    """The page's title property, whatever the database named it ("Name" by default)."""
    for prop in properties.values():
        if isinstance(prop, dict) and prop.get("type") == "title":
            return prop
    return None
