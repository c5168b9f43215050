"""A small HTTP client (standard library only) for the YouTube Data API v3 and the rights source.

Real: `videos.list` of the YouTube Data API v3 (GET {base}/videos?part=...&id=a,b,c&key=...),
at most 50 ids a call, 1 quota unit a call, answering `{"kind": "youtube#videoListResponse",
"items": [video resources], "pageInfo": {...}}`; ids YouTube does not return (deleted, private
to others) are simply absent. Errors come as `{"error": {"code": 403, "message": ...,
"errors": [{"domain": "youtube.quota", "reason": "quotaExceeded", ...}]}}`.

The rights source (catalog/youtube/rights.py) is a contract of ours in the same shape, served
by a service we configure; the same client talks to it (batches, spacing, errors).

Every call is counted against a DailyQuota before it is made and spaced by its minimum delay.
"""

import http.client
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from flask import current_app

from catalog.identifiers import valid_video_id
from catalog.jobs import PermanentError
from catalog.youtube.quota import DailyQuota, QuotaExhausted

MAX_IDS_PER_CALL = 50
VIDEO_PARTS = ("snippet", "contentDetails", "statistics", "status")
TIMEOUT_SECONDS = 15
DATA_API = "youtube-data"
RIGHTS_API = "rights"
# Reasons Google gives for "try again later" rather than "this request is wrong".
TRANSIENT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "backendError", "internalError"}
QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded"}

__all__ = [
    "ApiError",
    "ApiNotConfigured",
    "ApiRefused",
    "Client",
    "QuotaExhausted",
    "parse_duration",
    "rights_client",
    "youtube_client",
]


class ApiError(Exception):
    """The API could not be reached or asked us to slow down: the job's attempt fails and is
    retried with backoff."""

    def __init__(self, message: str, *, status: int | None = None, reason: str | None = None):
        super().__init__(message)
        self.status = status
        self.reason = reason


class ApiRefused(ApiError, PermanentError):
    """The API refused the request as it stands (a bad key, a bad parameter, access denied):
    asking again cannot help, so the job fails at once."""


class ApiNotConfigured(ApiError, PermanentError):
    """A base URL or key is missing from the configuration; nothing was called."""


_DURATION = re.compile(
    r"P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?"
)


def parse_duration(text: str) -> int:
    """Seconds in an ISO 8601 duration as YouTube writes them: PT4M13S, PT1H2M, P1DT3S, P0D.

    Years and months (of no fixed length) are refused, as is anything malformed: ValueError.
    Fractions of a second are rounded down.
    """
    match = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if not match or text.strip() in ("P", "PT") or text.strip().endswith("T"):
        raise ValueError(f"not an ISO 8601 duration of weeks to seconds: {text!r}")
    parts = {name: float(value) if value else 0.0 for name, value in match.groupdict().items()}
    seconds = (
        parts["weeks"] * 604800 + parts["days"] * 86400 + parts["hours"] * 3600
        + parts["minutes"] * 60 + parts["seconds"]
    )  # fmt: skip
    return int(seconds)


def _error_from(status: int, body: bytes) -> ApiError:
    """The exception for an error answer in Google's shape: ApiError when worth retrying (5xx,
    429, rate limits), else ApiRefused."""
    message, reason = f"HTTP {status}", None
    try:
        error = json.loads(body.decode("utf-8")).get("error", {})
    except (ValueError, UnicodeDecodeError, AttributeError):
        error = {}
    if isinstance(error, dict):
        message = str(error.get("message") or message)
        details = error.get("errors") or [{}]
        reason = details[0].get("reason") if isinstance(details[0], dict) else None
    message = re.sub(r"<[^>]+>", "", message)  # Google puts links in its messages
    transient = status >= 500 or status == 429 or reason in TRANSIENT_REASONS
    kind = ApiError if transient else ApiRefused
    return kind(
        f"{message} (HTTP {status}{', ' + reason if reason else ''})", status=status, reason=reason
    )


class Client:
    """GET requests to one API: counted, spaced, with errors made into exceptions."""

    def __init__(
        self, base_url: str, api_key: str | None, *, quota: DailyQuota,
        timeout: float = TIMEOUT_SECONDS, sleep: Callable[[float], None] = time.sleep,
    ):  # fmt: skip
        if not base_url:
            raise ApiNotConfigured(f"No base URL is configured for the {quota.api} API.")
        if urllib.parse.urlsplit(base_url).scheme not in ("http", "https"):
            raise ApiNotConfigured(f"The {quota.api} API URL must be http(s): {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.quota = quota
        self.timeout = timeout
        self.sleep = sleep
        self.calls = 0  # made by this client, for the job's result

    def get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        """One counted, spaced GET of {base}/{path}; the decoded JSON answer."""
        wait = self.quota.acquire()
        if wait > 0:
            self.sleep(wait)
        if self.api_key:
            params = {**params, "key": self.api_key}
        query = urllib.parse.urlencode(params)
        request = urllib.request.Request(  # noqa: S310  (scheme checked to be http(s) above)
            f"{self.base_url}/{path.lstrip('/')}?{query}",
            headers={"Accept": "application/json", "User-Agent": "catalog/youtube-sync"},
        )
        self.calls += 1
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body = response.read()
        except urllib.error.HTTPError as exc:
            error = _error_from(exc.code, exc.read())
            if error.reason in QUOTA_REASONS:
                self.quota.exhaust()
                today = datetime.now(UTC).date()
                raise QuotaExhausted(
                    self.quota.api, today, self.quota.limit, by_server=True
                ) from exc
            raise error from exc
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ApiError(f"The {self.quota.api} API could not be reached: {reason}") from exc
        try:
            answer = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            answer = None
        if not isinstance(answer, dict):
            raise ApiError(f"The {self.quota.api} API answered with no JSON object")
        return answer

    def list_by_ids(
        self, path: str, ids: Iterable[str], params: dict[str, str] | None = None
    ) -> dict[str, dict]:
        """Every item the API returns for `ids`, by its `id`, in calls of at most 50 ids.
        Only YouTube video ids are asked for: no other string can be found, and one with a
        comma in it would read as two ids in the `id` list."""
        unique = list(dict.fromkeys(i for i in ids if valid_video_id(i)))
        found: dict[str, dict] = {}
        for start in range(0, len(unique), MAX_IDS_PER_CALL):
            batch = unique[start : start + MAX_IDS_PER_CALL]
            answer = self.get(path, {**(params or {}), "id": ",".join(batch)})
            for item in answer.get("items") or ():
                if isinstance(item, dict) and item.get("id") in batch:
                    found[item["id"]] = item
        return found

    def list_videos(
        self, video_ids: Iterable[str], parts: Sequence[str] = VIDEO_PARTS
    ) -> dict[str, dict]:
        """videos.list: the video resources YouTube has for `video_ids`, by video id."""
        return self.list_by_ids("videos", video_ids, {"part": ",".join(parts)})


def youtube_client(config: dict | None = None) -> Client:
    """The YouTube Data API client the configuration describes."""
    config = config or current_app.config
    if not config.get("YOUTUBE_API_KEY"):
        raise ApiNotConfigured("No YouTube Data API key is configured (YOUTUBE_API_KEY).")
    quota = DailyQuota(DATA_API, config["YOUTUBE_DAILY_QUOTA"], config["YOUTUBE_MIN_DELAY"])
    return Client(config["YOUTUBE_API_BASE_URL"], config["YOUTUBE_API_KEY"], quota=quota)


def rights_client(config: dict | None = None) -> Client:
    """The rights source's client (a contract of ours, see rights.py): spaced like YouTube's,
    counted per day for the record, with no daily limit of its own."""
    config = config or current_app.config
    if not config.get("YOUTUBE_RIGHTS_API_URL"):
        raise ApiNotConfigured(
            "No rights source is configured (YOUTUBE_RIGHTS_API_URL): ownership and asset "
            "data have no public YouTube API, see catalog/youtube/rights.py."
        )
    quota = DailyQuota(RIGHTS_API, None, config["YOUTUBE_MIN_DELAY"])
    return Client(
        config["YOUTUBE_RIGHTS_API_URL"], config.get("YOUTUBE_RIGHTS_API_KEY", ""), quota=quota
    )
