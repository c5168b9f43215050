"""Catalog figures of channels, kept by PostgreSQL triggers: right after every kind of write."""

import pytest
from sqlalchemy import select, text

from catalog.extensions import db
from catalog.models import ChannelStats, Video
from catalog.videos import bulk_edit
from catalog.videos import service as videos
from tests.factories import ChannelFactory, UserFactory, VideoFactory

FIGURES = ("video_count", "total_views", "claimed", "unclaimed", "monetized", "shorts")
# Counted the slow way, independently of the triggers' SQL.
RECOUNT = text("""
    SELECT count(*) AS video_count,
           coalesce(sum(views), 0) AS total_views,
           count(*) FILTER (WHERE claimed_status IS NOT NULL) AS claimed,
           count(*) FILTER (WHERE claimed_status IS NULL) AS unclaimed,
           count(*) FILTER (WHERE 'Yes' IN (third_party_ads_enabled, display_ads_enabled,
               sponsored_cards_enabled, overlay_ads_enabled, nonskippable_video_ads_enabled,
               long_nonskippable_video_ads_enabled, skippable_video_ads_enabled,
               prerolls_enabled, midrolls_enabled, postrolls_enabled)) AS monetized,
           count(*) FILTER (WHERE is_short) AS shorts
    FROM videos WHERE channel_id = :channel
""")


def stats(channel_id: int) -> dict[str, int]:
    db.session.flush()
    row = db.session.execute(
        select(*(getattr(ChannelStats, name) for name in FIGURES)).where(
            ChannelStats.channel_id == channel_id
        )
    ).one()
    return dict(zip(FIGURES, row, strict=True))


def recount(channel_id: int) -> dict[str, int]:
    db.session.flush()
    return dict(db.session.execute(RECOUNT, {"channel": channel_id}).one()._mapping)


def assert_exact(*channels) -> None:
    for channel in channels:
        assert stats(channel.id) == recount(channel.id), channel


@pytest.fixture
def channels(app_ctx):
    return ChannelFactory(), ChannelFactory()


def test_a_new_channel_has_zero_figures(channels):
    first, _ = channels
    assert stats(first.id) == dict.fromkeys(FIGURES, 0)


def test_videos_written_through_the_orm_are_counted(channels):
    first, second = channels
    VideoFactory(channel=first, views=10, claimed_status="claim", is_short=True)
    VideoFactory(channel=first, views=None, prerolls_enabled="Yes")
    VideoFactory(channel=second, views=5, display_ads_enabled="No")
    VideoFactory(channel=None, views=1_000)  # no channel: counted nowhere
    assert stats(first.id) == {
        "video_count": 2, "total_views": 10, "claimed": 1, "unclaimed": 1,
        "monetized": 1, "shorts": 1,
    }  # fmt: skip
    assert_exact(first, second)


def test_the_video_service_edits_and_deletes_are_counted(channels):
    first, second = channels
    editor = UserFactory()
    video = VideoFactory(channel=first, views=100)
    videos.update_video(
        video, {"views": 250, "claimed_status": "dispute", "channel_id": second.id},
        expected_version=video.version, actor=editor,
    )  # fmt: skip
    assert stats(first.id)["video_count"] == 0
    assert (stats(second.id)["video_count"], stats(second.id)["total_views"]) == (1, 250)
    assert_exact(first, second)
    videos.delete_video(video, actor=editor)
    assert stats(second.id) == dict.fromkeys(FIGURES, 0)


def test_bulk_edit_is_counted(channels):
    first, second = channels
    VideoFactory.create_batch(3, channel=first)
    VideoFactory.create_batch(2, channel=second, claimed_status="claim")
    selection = select(Video.id).where(Video.channel_id.in_([first.id, second.id]))
    changed = bulk_edit.bulk_update(
        selection, {"claimed_status": "appeal", "is_short": True}, actor=UserFactory()
    )
    assert changed == 5
    assert stats(first.id)["claimed"] == 3
    assert stats(second.id)["shorts"] == 2
    assert_exact(first, second)


def test_set_based_sql_is_counted(channels):
    """What a report import does: many rows per statement, with no Python in between."""
    first, second = channels
    db.session.execute(
        text("""
            INSERT INTO videos (video_id, channel_id, views, claimed_status, is_short,
                                midrolls_enabled)
            SELECT 'sql' || lpad(g::text, 8, '0'), CASE WHEN g % 3 = 0 THEN :a ELSE :b END, g,
                   CASE WHEN g % 2 = 0 THEN 'claim' END, g % 5 = 0,
                   CASE WHEN g % 4 = 0 THEN 'Yes' ELSE 'No' END
            FROM generate_series(1, 300) g
        """),
        {"a": first.id, "b": second.id},
    )
    assert stats(first.id)["video_count"] == 100
    assert_exact(first, second)
    # Move some between channels, change counted fields of others, leave the rest alone.
    db.session.execute(
        text("UPDATE videos SET channel_id = :a WHERE channel_id = :b AND views < 50"),
        {"a": first.id, "b": second.id},
    )
    db.session.execute(
        text("UPDATE videos SET views = views * 2, claimed_status = NULL "
             "WHERE channel_id = :a AND views > 200"),
        {"a": first.id},
    )  # fmt: skip
    db.session.execute(text("UPDATE videos SET channel_id = NULL WHERE views = 7"))
    assert_exact(first, second)
    db.session.execute(text("DELETE FROM videos WHERE video_id LIKE 'sql%' AND views % 7 = 0"))
    assert_exact(first, second)
    db.session.execute(text("DELETE FROM videos WHERE video_id LIKE 'sql%'"))
    assert stats(first.id) == stats(second.id) == dict.fromkeys(FIGURES, 0)


def test_a_change_of_nothing_counted_writes_no_figures(channels):
    """A title edit leaves channel_stats untouched: no row version, no lock to wait for."""
    first, _ = channels
    VideoFactory.create_batch(3, channel=first)
    db.session.flush()
    version = text("SELECT xmin::text FROM channel_stats WHERE channel_id = :c")
    before = db.session.scalar(version, {"c": first.id})
    db.session.execute(text("UPDATE videos SET title = 'renamed' WHERE channel_id = :c"),
                       {"c": first.id})  # fmt: skip
    assert db.session.scalar(version, {"c": first.id}) == before


# Only a table's owner may TRUNCATE it (the app's role may not): run as the owner.
@pytest.mark.parametrize("db_owner", [True])
def test_truncate_zeroes_the_figures(channels, db_owner):
    first, _ = channels
    VideoFactory.create_batch(2, channel=first)
    db.session.flush()
    db.session.execute(text("TRUNCATE videos CASCADE"))
    assert stats(first.id) == dict.fromkeys(FIGURES, 0)


def test_channels_created_with_sql_get_their_row(app_ctx):
    channel_pk = db.session.scalar(
        text("INSERT INTO channels (channel_id, name) VALUES ('UCsqlsqlsqlsqlsqlsqlsqls', 'S') "
             "RETURNING id")
    )  # fmt: skip
    assert stats(channel_pk) == dict.fromkeys(FIGURES, 0)
