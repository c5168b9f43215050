"""The Notion client against the local fake Notion API: cursors, the version and token
headers, the limiter, and what it retries (429 after Retry-After, 5xx after a doubling wait)
and what it refuses at once."""

import itertools
import time

import pytest

from catalog.production import notion
from tests.production.fake_notion import DATABASE_ID, TOKEN, page


class Sleeps(list):
    """A sleep that records how long it was asked to wait, and returns at once."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(fake, *, sleep=None, attempts=3, rate=1000.0) -> notion.NotionClient:
    return notion.NotionClient(
        f"{fake.url}/v1", TOKEN, limiter=notion.RateLimiter(rate), max_attempts=attempts,
        retry_wait=0.5, sleep=Sleeps() if sleep is None else sleep,
    )  # fmt: skip


def test_a_database_of_250_pages_takes_three_queries_following_the_cursors(fake_notion):
    fake_notion.pages.extend(page(f"Video {n}", "UCx") for n in range(250))
    found = client(fake_notion).query_database(DATABASE_ID)
    assert [p["id"] for p in found] == [p["id"] for p in fake_notion.pages]
    queries = fake_notion.calls("POST", f"/v1/databases/{DATABASE_ID}/query")
    assert [q.body for q in queries] == [
        {"page_size": 100},
        {"page_size": 100, "start_cursor": fake_notion.pages[100]["id"]},
        {"page_size": 100, "start_cursor": fake_notion.pages[200]["id"]},
    ]
    assert {q.headers["notion-version"] for q in queries} == {"2022-06-28"}
    assert {q.headers["authorization"] for q in queries} == {f"Bearer {TOKEN}"}


def test_a_429_is_retried_after_the_seconds_retry_after_gives(fake_notion):
    fake_notion.pages.append(page("Only", "UCx"))
    fake_notion.fail_next(429, headers={"Retry-After": "7"})
    sleeps = Sleeps()
    api = client(fake_notion, sleep=sleeps)
    assert len(api.query_database(DATABASE_ID)) == 1
    assert sleeps == [7.0]
    assert (api.requests, api.retries) == (2, 1)


def test_a_5xx_is_retried_after_a_doubling_wait(fake_notion):
    fake_notion.fail_next(500)
    fake_notion.fail_next(503)
    sleeps = Sleeps()
    api = client(fake_notion, sleep=sleeps)
    assert api.query_database(DATABASE_ID) == []
    assert sleeps == [0.5, 1.0]
    assert len(fake_notion.calls("POST")) == 3


def test_a_failure_that_persists_is_given_up_after_the_last_attempt(fake_notion):
    fake_notion.fail_next(502, times=3)
    api = client(fake_notion, attempts=3)
    with pytest.raises(notion.NotionUnavailable, match=r"HTTP 502 bad_gateway.*after 3 attempts"):
        api.query_database(DATABASE_ID)
    assert len(fake_notion.calls()) == 3


def test_a_retry_after_longer_than_a_job_waits_fails_the_attempt_at_once(fake_notion):
    fake_notion.fail_next(429, headers={"Retry-After": "3600"})
    sleeps = Sleeps()
    with pytest.raises(notion.NotionUnavailable, match="asked to wait 3600 s"):
        client(fake_notion, sleep=sleeps).query_database(DATABASE_ID)
    assert sleeps == []


@pytest.mark.parametrize(
    ("status", "words"),
    [(401, "unauthorized: API token is invalid"), (404, "object_not_found"),
     (400, "validation_error")],
)  # fmt: skip
def test_a_refusal_is_not_retried_and_says_what_notion_said(fake_notion, status, words):
    fake_notion.fail_next(status)
    with pytest.raises(notion.NotionRefused, match=words) as raised:
        client(fake_notion).query_database(DATABASE_ID)
    assert raised.value.status == status
    assert len(fake_notion.calls()) == 1


def test_a_wrong_token_is_refused(fake_notion):
    api = notion.NotionClient(
        f"{fake_notion.url}/v1", "secret_wrong", limiter=notion.RateLimiter(9)
    )
    with pytest.raises(notion.NotionRefused, match="unauthorized"):
        api.query_database(DATABASE_ID)


def test_set_status_sends_the_property_in_notions_shape(fake_notion):
    target = page("Song", "UCx")
    fake_notion.pages.append(target)
    client(fake_notion).set_status(
        target["id"].replace("-", ""), "Catalog status", "select", "queued"
    )
    [call] = fake_notion.calls("PATCH")
    assert call.path == f"/v1/pages/{target['id'].replace('-', '')}"
    assert call.body == {"properties": {"Catalog status": {"select": {"name": "queued"}}}}
    assert target["properties"]["Catalog status"]["select"]["name"] == "queued"


def test_the_limiter_spaces_request_starts_and_waits_only_when_they_come_too_fast():
    now = [100.0]
    waits = Sleeps()

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    limiter = notion.RateLimiter(3, clock=lambda: now[0], sleep=sleep)
    starts = []
    for _ in range(4):  # a burst: each waits for its slot
        limiter.wait()
        starts.append(now[0])
    assert [round(b - a, 6) for a, b in itertools.pairwise(starts)] == [0.333333] * 3
    now[0] += 5.0  # after a pause, no wait at all
    assert limiter.wait() == 0
    assert len(waits) == 3


def test_every_request_goes_through_the_limiter(fake_notion):
    class Counting(notion.RateLimiter):
        calls = 0

        def wait(self) -> float:
            Counting.calls += 1
            return super().wait()

    fake_notion.fail_next(500)
    api = notion.NotionClient(
        f"{fake_notion.url}/v1", TOKEN, limiter=Counting(1000), retry_wait=0.001
    )
    api.query_database(DATABASE_ID)
    assert Counting.calls == 2  # the retry waited its turn too


def test_not_configured_is_said_before_any_call(app):
    with app.app_context():
        assert not notion.configured({"NOTION_TOKEN": "", "NOTION_DATABASE_ID": ""})
        with pytest.raises(notion.NotionNotConfigured, match="NOTION_TOKEN"):
            notion.notion_client({"NOTION_TOKEN": "", "NOTION_DATABASE_ID": DATABASE_ID})


def test_requests_leave_no_faster_than_the_rate_allows(fake_notion):
    target = page("Song", "UCx")
    fake_notion.pages.append(target)
    api = notion.NotionClient(f"{fake_notion.url}/v1", TOKEN, limiter=notion.RateLimiter(20))
    sent: list[float] = []
    send = api._send
    api._send = lambda *args: (sent.append(time.monotonic()), send(*args))[1]
    start = time.monotonic()
    for status in ("queued", "claimed", "generating_assets", "assets_ready", "published", "draft"):
        api.set_status(target["id"], "Catalog status", "select", status)
    # Six slots 1/20 s apart: the last request cannot leave before 5/20 s have passed, however
    # late the first one left (a lower bound only, so a busy machine cannot fail it).
    assert sent[-1] - start >= 5 / 20
    assert len(fake_notion.calls("PATCH")) == 6
