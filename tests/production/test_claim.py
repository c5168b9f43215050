"""The claim's order, one claim after another: priority, round-robin across channels, FIFO
within a channel, channels at capacity or out of quota skipped; later stages."""

import pytest
from sqlalchemy import text

from catalog.extensions import db
from catalog.production import service
from tests import factories
from tests.production.claim_data import make_task, make_worker

BIG = 1000  # a capacity that does not get in the way


@pytest.fixture
def worker(app_ctx):
    return make_worker()


def _claims(worker, count: int, stage: str = "assets") -> list:
    claimed = [service.claim(stage, worker=worker) for _ in range(count)]
    return [task and (task.channel_id, task.title) for task in claimed]


def test_high_beats_normal_beats_low(worker):
    channels = [factories.ChannelFactory(production_capacity=BIG) for _ in range(3)]
    make_task(channels[0], priority="low", title="low", age=1)
    make_task(channels[1], priority="normal", title="normal", age=2)
    make_task(channels[2], priority="high", title="high", age=3)
    make_task(channels[0], priority="high", title="high 2", age=4)
    titles = [title for _, title in _claims(worker, 4)]
    assert titles == ["high", "high 2", "normal", "low"]
    assert service.claim("assets", worker=worker) is None


def test_channels_take_turns_and_each_serves_its_oldest_first(worker):
    channels = [factories.ChannelFactory(production_capacity=BIG) for _ in range(3)]
    # The first channel's tasks are all older than the others': FIFO alone would drain it.
    for n in range(3):
        for index, channel in enumerate(channels):
            make_task(channel, title=f"{index}:{n}", age=index * 100 + (2 - n))
    claimed = _claims(worker, 9)
    order = [channels.index(next(c for c in channels if c.id == cid)) for cid, _ in claimed]
    assert order[:3] == [0, 1, 2]
    assert order[3:6] == order[:3]
    assert order[6:] == order[:3]
    # Within a channel, the oldest (the highest n here) first.
    assert [title for _, title in claimed if title.startswith("0:")] == ["0:2", "0:1", "0:0"]


def test_a_channel_that_had_a_turn_waits_for_the_others(worker):
    first, second = (factories.ChannelFactory(production_capacity=BIG) for _ in range(2))
    make_task(first, title="a1", age=1)
    assert _claims(worker, 1) == [(first.id, "a1")]
    # New work arrives on both; the second channel's turn comes first though it is newer.
    make_task(first, title="a2", age=2)
    make_task(second, title="b1", age=3)
    assert _claims(worker, 2) == [(second.id, "b1"), (first.id, "a2")]


def test_a_channel_at_capacity_is_skipped(worker):
    full = factories.ChannelFactory(production_capacity=1)
    other = factories.ChannelFactory(production_capacity=BIG)
    make_task(full, "generating_video")  # in production: the channel's one place is taken
    make_task(full, priority="high", title="waits", age=1)
    make_task(other, priority="low", title="goes", age=2)
    assert _claims(worker, 2) == [(other.id, "goes"), None]
    busy = db.session.execute(
        text("SELECT in_production FROM channel_queues WHERE channel_id = :c"), {"c": full.id}
    ).scalar()
    assert busy == 1


def test_a_channel_out_of_daily_quota_is_skipped(worker):
    limited = factories.ChannelFactory(production_capacity=BIG, daily_claim_quota=2)
    for n in range(4):
        make_task(limited, title=f"q{n}", age=n)
    assert [title for _, title in _claims(worker, 2)] == ["q0", "q1"]
    assert service.claim("assets", worker=worker) is None
    # A new day: the count starts again.
    db.session.execute(
        text("UPDATE channel_queues SET claims_day = claims_day - 1 WHERE channel_id = :c"),
        {"c": limited.id},
    )
    assert _claims(worker, 1) == [(limited.id, "q2")]


def test_later_stages_claim_by_priority_then_waiting_time(worker):
    channel = factories.ChannelFactory(production_capacity=BIG)
    make_task(channel, "video_approved", title="normal")
    make_task(channel, "video_approved", title="high", priority="high")
    make_task(channel, "audio_approved", title="other stage")
    assert _claims(worker, 3, stage="audio") == [
        (channel.id, "high"),
        (channel.id, "normal"),
        None,  # the audio stage claims video_approved only
    ]
