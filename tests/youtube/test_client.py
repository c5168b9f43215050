"""The API client against the local fake server: batches, the shared daily quota, the minimum
delay between calls, errors, and ISO 8601 durations."""

import itertools
import time
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from catalog.extensions import db
from catalog.jobs import PermanentError
from catalog.models import ProcessingQueue
from catalog.youtube import client as youtube
from catalog.youtube.quota import LEDGER_TASK_TYPE, DailyQuota, QuotaExhausted
from tests.youtube.fakeapi import video_resource


def ids(n: int) -> list[str]:
    return [f"vid{i:08d}" for i in range(n)]


def ledger(api: str = youtube.DATA_API) -> list[ProcessingQueue]:
    return db.session.scalars(
        select(ProcessingQueue).where(
            ProcessingQueue.task_type == LEDGER_TASK_TYPE,
            ProcessingQueue.payload["api"].astext == api,
        )
    ).all()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("PT4M13S", 253), ("PT1H", 3600), ("PT1H2M3S", 3723), ("P1DT2H", 93600),
     ("P0D", 0), ("PT0S", 0), ("PT59.9S", 59), ("P1W", 604800)],
)  # fmt: skip
def test_durations(text, seconds):
    assert youtube.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "P", "PT", "P1DT", "P1Y", "P1M2D", "4:13", "PT-1S", None])
def test_durations_that_are_refused(text):
    with pytest.raises(ValueError, match="ISO 8601"):
        youtube.parse_duration(text)


def test_120_ids_take_three_calls_of_at_most_50(app_ctx, fake_api):
    wanted = ids(120)
    for video_id in wanted[:110]:  # ten of them YouTube does not know
        fake_api.videos[video_id] = video_resource(video_id)
    found = youtube.youtube_client().list_videos([*wanted, wanted[0]])  # a duplicate, too
    calls = fake_api.calls("/videos")
    assert [len(call.ids) for call in calls] == [50, 50, 20]
    assert [i for call in calls for i in call.ids] == wanted
    assert {call.params["part"] for call in calls} == {"snippet,contentDetails,statistics,status"}
    assert {call.params["key"] for call in calls} == {"test-data-key"}
    assert set(found) == set(wanted[:110])
    assert found[wanted[0]]["contentDetails"]["duration"] == "PT3M20S"
    [row] = ledger()
    assert row.result["calls"] == 3
    assert row.status == "completed"
    assert row.payload == {"api": "youtube-data", "day": datetime.now(UTC).date().isoformat()}


def test_no_ids_no_call(app_ctx, fake_api):
    assert youtube.youtube_client().list_videos([]) == {}
    assert fake_api.requests == []


def test_the_daily_quota_stops_calls_before_they_are_made(app, app_ctx, fake_api, monkeypatch):
    monkeypatch.setitem(app.config, "YOUTUBE_DAILY_QUOTA", 2)
    client = youtube.youtube_client()
    with pytest.raises(QuotaExhausted, match="all 2 calls of the day are used") as caught:
        client.list_videos(ids(120))
    assert len(fake_api.calls("/videos")) == 2  # the third call was never made
    assert isinstance(caught.value, PermanentError)  # the job fails at once, no backoff loop
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    assert caught.value.retry_at == datetime(
        tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=UTC
    )
    # Another worker's client, sharing the count through PostgreSQL, is refused as well.
    with pytest.raises(QuotaExhausted):
        youtube.youtube_client().list_videos(ids(1))
    assert len(fake_api.calls("/videos")) == 2
    assert ledger()[0].result["calls"] == 2


def test_yesterdays_usage_does_not_count_today(app, app_ctx, fake_api, monkeypatch):
    monkeypatch.setitem(app.config, "YOUTUBE_DAILY_QUOTA", 2)
    yesterday = datetime.now(UTC) - timedelta(days=1)
    db.session.add(
        ProcessingQueue(
            task_type=LEDGER_TASK_TYPE, status="completed", created_at=yesterday,
            payload={"api": "youtube-data", "day": yesterday.date().isoformat()},
            result={"calls": 2, "limit": 2, "exhausted": True},
        )
    )  # fmt: skip
    db.session.flush()
    youtube.youtube_client().list_videos(ids(1))
    assert len(fake_api.calls("/videos")) == 1


def test_quota_exceeded_from_the_api_stops_every_worker(app_ctx, fake_api):
    fake_api.fail_with = "quotaExceeded"
    with pytest.raises(QuotaExhausted, match="the API answered quotaExceeded"):
        youtube.youtube_client().list_videos(ids(120))
    assert len(fake_api.calls("/videos")) == 1
    fake_api.fail_with = None  # even with the API willing again, nobody calls it today
    with pytest.raises(QuotaExhausted):
        youtube.youtube_client().list_videos(ids(1))
    assert len(fake_api.calls("/videos")) == 1
    assert ledger()[0].result["exhausted"] is True


def test_the_minimum_delay_holds_between_calls_and_across_clients(
    app, app_ctx, fake_api, monkeypatch
):
    monkeypatch.setitem(app.config, "YOUTUBE_MIN_DELAY", 0.2)
    # When each request leaves (the spacing is the client's to keep): the arrival times at
    # the fake server add its own thread's scheduling, which on a busy machine was enough to
    # bring one gap under the slack (0.181 s).
    sent = []
    send = urllib.request.urlopen

    def sending(request, **kwargs):
        sent.append(time.monotonic())
        return send(request, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", sending)
    first, second = youtube.youtube_client(), youtube.youtube_client()  # as two workers
    first.list_videos(ids(100))
    second.list_videos(ids(50))
    first.list_videos(ids(1))
    assert len(fake_api.calls("/videos")) == len(sent) == 4
    gaps = [later - earlier for earlier, later in itertools.pairwise(sent)]
    # Unspaced, the gaps are a few milliseconds; 10 % of slack for the scheduler.
    assert min(gaps) >= 0.18, gaps


def test_no_delay_is_added_when_calls_are_already_far_apart(app, app_ctx, fake_api, monkeypatch):
    monkeypatch.setitem(app.config, "YOUTUBE_MIN_DELAY", 0.05)
    slept = []
    client = youtube.youtube_client()
    client.sleep = slept.append
    client.list_videos(ids(1))
    assert slept == []  # the first call of the day waits for nothing


def test_a_bad_key_is_refused_for_good(app, app_ctx, fake_api, monkeypatch):
    monkeypatch.setitem(app.config, "YOUTUBE_API_KEY", "wrong")
    with pytest.raises(youtube.ApiRefused, match=r"API key not valid.*HTTP 400, keyInvalid"):
        youtube.youtube_client().list_videos(ids(3))
    assert issubclass(youtube.ApiRefused, PermanentError)


@pytest.mark.parametrize("reason", ["backendError", "rateLimitExceeded"])
def test_server_trouble_is_worth_retrying(app_ctx, fake_api, reason):
    fake_api.fail_with = reason
    with pytest.raises(youtube.ApiError) as caught:
        youtube.youtube_client().list_videos(ids(3))
    assert not isinstance(caught.value, PermanentError)
    assert caught.value.reason == reason


def test_an_unreachable_api_is_worth_retrying(app, app_ctx, fake_api, monkeypatch):
    monkeypatch.setitem(app.config, "YOUTUBE_API_BASE_URL", "http://127.0.0.1:9/youtube/v3")
    with pytest.raises(youtube.ApiError, match="could not be reached") as caught:
        youtube.youtube_client().list_videos(ids(3))
    assert not isinstance(caught.value, PermanentError)


def test_missing_configuration_calls_nothing(app, app_ctx, fake_api, monkeypatch):
    monkeypatch.setitem(app.config, "YOUTUBE_API_KEY", "")
    with pytest.raises(youtube.ApiNotConfigured, match="YOUTUBE_API_KEY"):
        youtube.youtube_client()
    monkeypatch.setitem(app.config, "YOUTUBE_RIGHTS_API_URL", "")
    with pytest.raises(youtube.ApiNotConfigured, match="YOUTUBE_RIGHTS_API_URL"):
        youtube.rights_client()
    monkeypatch.setitem(app.config, "YOUTUBE_RIGHTS_API_URL", "file:///etc/passwd")
    with pytest.raises(youtube.ApiNotConfigured, match="http"):
        youtube.rights_client()
    assert fake_api.requests == []


def test_a_quota_without_limit_counts_and_spaces_only(app_ctx):
    quota = DailyQuota("elsewhere", None, min_delay=10)
    assert quota.acquire() == 0
    assert 9 < quota.acquire() <= 10  # the second call's turn comes 10 s after the first
    assert quota.used_today() == 2
