from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    all_,
    any_,
    func,
    literal_column,
    or_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models.base import Base, created_at_column, updated_at_column


class Channel(Base):
    """A YouTube channel; its videos point to it by foreign key.

    `subscriber_count`, `video_count` and `view_count` are the channel's own YouTube figures,
    as typed or reported. What the catalog holds of it is in `stats` (ChannelStats).
    """

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    image_url: Mapped[str | None] = mapped_column(String(500))
    subscriber_count: Mapped[int | None] = mapped_column(BigInteger)
    video_count: Mapped[int | None] = mapped_column(BigInteger)
    view_count: Mapped[int | None] = mapped_column(BigInteger)
    description: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(String(2))
    is_monetized: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    # How many of the channel's production tasks may be in production at once (claims skip
    # a channel at capacity).
    production_capacity: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    # How many tasks workers may claim from the channel per UTC day (None: no limit).
    daily_claim_quota: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    # Written only by PostgreSQL (see ChannelStats); the application reads it.
    stats: Mapped["ChannelStats | None"] = relationship(viewonly=True, uselist=False)

    __table_args__ = (
        CheckConstraint("subscriber_count >= 0", name="subscriber_count_not_negative"),
        CheckConstraint("video_count >= 0", name="video_count_not_negative"),
        CheckConstraint("view_count >= 0", name="view_count_not_negative"),
        CheckConstraint("production_capacity >= 0", name="production_capacity_not_negative"),
        CheckConstraint("daily_claim_quota >= 0", name="daily_claim_quota_not_negative"),
    )

    def __repr__(self) -> str:
        return f"<Channel {self.channel_id} {self.name!r}>"


class ChannelStats(Base):
    """What the catalog holds of one channel, counted from its videos.

    Kept by PostgreSQL triggers on `videos` (migration 0004), never by the application:
    every way a video is written (a form, bulk edit's set-based UPDATE, a report imported
    with COPY or INSERT … SELECT, a psql session) passes through the table's triggers, while
    only some of them pass through a Python service. The triggers are statement-level with
    transition tables, so a statement that writes a million videos adjusts each channel's
    row once, by the sum of its rows' differences, rather than once per video. Reading a
    figure, or sorting channels by one, is then a primary-key or index look-up at any size
    of catalog, never a count(*) over the videos.

    Every channel has its row from its creation on (a trigger on `channels`).
    """

    __tablename__ = "channel_stats"

    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    video_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    total_views: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # claimed: a claim status is set (claim, appeal or dispute); unclaimed: none is.
    claimed: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    unclaimed: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # monetized: at least one of the ten monetization settings is "Yes".
    monetized: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    shorts: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    def __repr__(self) -> str:
        return f"<ChannelStats {self.channel_id}: {self.video_count} videos>"


# Sort keys of the channel list, each NOT NULL (missing figures sort lowest) and indexed with
# the id, so that keyset pages walk an index; the catalog's video count sorts on
# channel_stats, whose channel_id is the channel's id.
CHANNEL_SORT_KEYS = {
    "name": func.lower(Channel.name),
    "subscribers": func.coalesce(Channel.subscriber_count, literal_column("-1")),
    "views": func.coalesce(Channel.view_count, literal_column("-1")),
    "videos": ChannelStats.video_count,
}
Index("ix_channels_sort_name", CHANNEL_SORT_KEYS["name"], Channel.id)
Index("ix_channels_sort_subscribers", CHANNEL_SORT_KEYS["subscribers"], Channel.id)
Index("ix_channels_sort_views", CHANNEL_SORT_KEYS["views"], Channel.id)
Index("ix_channel_stats_video_count", ChannelStats.video_count, ChannelStats.channel_id)
# The few hidden channels, read once by every video list (see HIDDEN_CHANNEL_IDS).
Index("ix_channels_hidden", Channel.id, postgresql_where=text("hidden"))


# The ids of the hidden channels, as one array: PostgreSQL evaluates it once per statement (an
# InitPlan, an index-only scan of ix_channels_hidden), so a list filtered by it keeps its plan
# (walk the sort index, check each row against a handful of ids, no join). Written as SQL text
# on purpose: it never varies, and a literal costs SQLAlchemy nothing to compile and cache on
# each request, where the equivalent select() costs a measurable share of a list page.
HIDDEN_CHANNEL_IDS = literal_column("ARRAY(SELECT id FROM channels WHERE hidden)")


def in_visible_channel(channel_id) -> ColumnElement[bool]:
    """`channel_id` (a column holding channels.id) is no channel, or a channel not hidden."""
    return or_(channel_id.is_(None), channel_id != all_(HIDDEN_CHANNEL_IDS))


def in_hidden_channel(channel_id) -> ColumnElement[bool]:
    """`channel_id` (a column holding channels.id) is that of a hidden channel."""
    return channel_id == any_(HIDDEN_CHANNEL_IDS)
