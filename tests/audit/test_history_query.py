"""audit.history(): the one query of an entity's audit rows, and audit.Entity, the one way
the services write a non-video entity's row."""

from types import SimpleNamespace

import pytest

from catalog import audit
from catalog.channels import service as channel_service
from catalog.extensions import db
from catalog.revert import states
from tests.factories import VideoFactory

CHANNEL_ID = "UCuAXFkgsw1L7xaCfnd5JJOw"


def _channel_with_three_rows():
    channel = channel_service.create_channel(
        {"channel_id": CHANNEL_ID, "name": "First"}, actor=None
    )
    channel_service.update_channel(channel, {"name": "Second"}, actor=None)
    channel_service.update_channel(channel, {"name": "Third"}, actor=None)
    return channel


def test_newest_first_and_at_most_the_limit(app_ctx):
    channel = _channel_with_three_rows()
    rows = audit.history("channel", channel.id)
    assert [row.action for row in rows] == ["update", "update", "create"]
    assert [row.changes.get("name") for row in rows] == [
        ["Second", "Third"],
        ["First", "Second"],
        [None, "First"],
    ]
    assert audit.history("channel", channel.id, limit=2) == rows[:2]
    # The row names the channel as it was then: the history reads well after a rename.
    assert [row.channel_display_name for row in rows] == ["Third", "Second", "First"]


def test_by_key_and_only_that_entity_type(app_ctx):
    channel = _channel_with_three_rows()
    by_key = audit.history("channel", key=CHANNEL_ID)
    assert by_key == audit.history("channel", channel.id)
    assert audit.history("video", channel.id) == []
    assert audit.history("video", key=CHANNEL_ID) == []


def test_in_commit_order_with_the_archive(app_ctx):
    """archived=True is what the revert pages replay: oldest first, by the chain."""
    channel = _channel_with_three_rows()
    rows = audit.history("channel", key=CHANNEL_ID, archived=True)
    assert [row.action for row in rows] == ["create", "update", "update"]
    assert [row.chain_seq for row in rows] == sorted(row.chain_seq for row in rows)
    assert rows == list(reversed(audit.history("channel", channel.id)))


def test_a_video_keeps_one_history_by_its_key(app_ctx):
    video = VideoFactory()
    from catalog.videos import service as video_service

    video_service.update_video(
        video, {"title": "Renamed"}, expected_version=None, actor=None, source="web"
    )
    db.session.flush()
    assert [row.id for row in states.history(video.video_id)] == [
        row.id for row in reversed(audit.history("video", video.id))
    ]


def test_an_entity_must_be_named(app_ctx):
    with pytest.raises(ValueError, match="id or its key"):
        audit.history("channel")


def test_an_entity_kind_records_its_rows(app_ctx):
    kind = audit.Entity("category", key=lambda thing: thing.key, channel_name=lambda t: t.name)
    thing = SimpleNamespace(id=7, key="k" * 150, name="n" * 150)
    entry = kind.record(thing, "update", {"name": ["a", "b"]}, actor=None, source="cli")
    db.session.flush()
    assert entry in db.session
    assert (entry.entity_type, entry.entity_id, entry.action, entry.source) == (
        "category", 7, "update", "cli",
    )  # fmt: skip
    assert entry.entity_key == "k" * 100  # a snapshot for reading, cut to its column
    assert entry.channel_display_name == "n" * 100
    assert entry.changes == {"name": ["a", "b"]}
    assert audit.history("category", 7) == [entry]
