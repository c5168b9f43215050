from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    literal_column,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models.base import Base, created_at_column, updated_at_column
from catalog.models.channel import Channel

CLAIM_STATUSES = ("claim", "appeal", "dispute")
PRIVACY_STATUSES = ("public", "private", "unlisted")
YES_NO = ("Yes", "No")
MONETIZATION_FIELDS = (
    "third_party_ads_enabled",
    "display_ads_enabled",
    "sponsored_cards_enabled",
    "overlay_ads_enabled",
    "nonskippable_video_ads_enabled",
    "long_nonskippable_video_ads_enabled",
    "skippable_video_ads_enabled",
    "prerolls_enabled",
    "midrolls_enabled",
    "postrolls_enabled",
)
ENGAGEMENT_FIELDS = ("embedding_allowed", "ratings_allowed", "comments_allowed")

# Substring search runs over one lower-cased text per video, kept by PostgreSQL itself
# (a generated column) so that every write path, the set-based import included, keeps it
# right. array_to_string is only STABLE, hence the IMMUTABLE wrapper the migration creates.
SEARCH_TEXT_SQL = (
    "lower(coalesce(video_id, '') || ' ' || coalesce(title, '') || ' ' || "
    "coalesce(asset_id, '') || ' ' || coalesce(custom_id, '') || ' ' || "
    "coalesce(isrc, '') || ' ' || coalesce(upc, '') || ' ' || "
    "catalog_array_text(artist))"
)


class VideoCategory(Base):
    __tablename__ = "video_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")

    def __repr__(self) -> str:
        return f"<VideoCategory {self.slug}>"


def _yes_no() -> Mapped[str | None]:
    return mapped_column(String(10))


class Video(Base):
    """The core record of the catalog; every write goes through catalog.videos.service."""

    __tablename__ = "videos"

    id: Mapped[int] = mapped_column(primary_key=True)
    # YouTube identifiers
    video_id: Mapped[str] = mapped_column(String(20), unique=True)
    asset_id: Mapped[str | None] = mapped_column(String(50), index=True)
    custom_id: Mapped[str | None] = mapped_column(String(100), index=True)
    # content
    title: Mapped[str | None] = mapped_column(String(200))
    artist: Mapped[list[str]] = mapped_column(ARRAY(String(200)), default=list, server_default="{}")
    genre: Mapped[list[str]] = mapped_column(ARRAY(String(100)), default=list, server_default="{}")
    label: Mapped[str | None] = mapped_column(String(200))
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id", ondelete="RESTRICT"))
    channel_display_name: Mapped[str | None] = mapped_column(String(100))
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("video_categories.id", ondelete="RESTRICT")
    )
    # rights identifiers
    upc: Mapped[str | None] = mapped_column(String(20))
    isrc: Mapped[str | None] = mapped_column(String(12))
    # ownership and claims
    claimed_status: Mapped[str | None] = mapped_column(String(10))
    claimed_by_another_owner: Mapped[str | None] = _yes_no()
    other_owners_claiming: Mapped[str | None] = mapped_column(Text)
    # monetization
    third_party_ads_enabled: Mapped[str | None] = _yes_no()
    display_ads_enabled: Mapped[str | None] = _yes_no()
    sponsored_cards_enabled: Mapped[str | None] = _yes_no()
    overlay_ads_enabled: Mapped[str | None] = _yes_no()
    nonskippable_video_ads_enabled: Mapped[str | None] = _yes_no()
    long_nonskippable_video_ads_enabled: Mapped[str | None] = _yes_no()
    skippable_video_ads_enabled: Mapped[str | None] = _yes_no()
    prerolls_enabled: Mapped[str | None] = _yes_no()
    midrolls_enabled: Mapped[str | None] = _yes_no()
    postrolls_enabled: Mapped[str | None] = _yes_no()
    # engagement
    embedding_allowed: Mapped[str | None] = _yes_no()
    ratings_allowed: Mapped[str | None] = _yes_no()
    comments_allowed: Mapped[str | None] = _yes_no()
    # status
    privacy_status: Mapped[str | None] = mapped_column(String(20))
    effective_policy: Mapped[str | None] = mapped_column(Text)
    video_length: Mapped[int | None] = mapped_column(Integer)
    views: Mapped[int | None] = mapped_column(BigInteger)
    # operational flags
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    administered: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    administered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    is_short: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    is_live_stream: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    upload_source: Mapped[str | None] = mapped_column(String(20))
    published: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    is_hero: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    # the library: the uploaded file (a storage key), its probed length, and who put it in
    video_url: Mapped[str | None] = mapped_column(String(512))
    duration_seconds: Mapped[float | None] = mapped_column(Double)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # housekeeping
    time_published: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    notes: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    # Optimistic locking: bumped by every change; a save built on an older value is refused.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    search_text: Mapped[str] = mapped_column(Text, Computed(SEARCH_TEXT_SQL, persisted=True))

    channel: Mapped[Channel | None] = relationship()
    category: Mapped[VideoCategory | None] = relationship()
    extra: Mapped["VideoMetadata | None"] = relationship(
        back_populates="video", uselist=False, cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        CheckConstraint("video_length >= 0", name="video_length_not_negative"),
        CheckConstraint("views >= 0", name="views_not_negative"),
        CheckConstraint("duration_seconds >= 0", name="duration_seconds_not_negative"),
    )
    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Video {self.video_id}>"


class VideoMetadata(Base):
    """Optional 1:1 extension of a video (named so, never `metadata`, which SQLAlchemy owns)."""

    __tablename__ = "video_metadata"

    video_id: Mapped[int] = mapped_column(
        ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True
    )
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str] | None] = mapped_column(JSONB)
    thumbnail_url: Mapped[str | None] = mapped_column(String(512))
    caption_url: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    video: Mapped[Video] = relationship(back_populates="extra")


def _text_key(column):
    return func.lower(func.coalesce(column, literal_column("''")))


# Sort keys of the list page. Each is NOT NULL (missing values sort as the lowest), so a
# row comparison `(key, id) > (:key, :id)` pages through it, and each has its own index,
# walked forwards or backwards, so a deep page costs what page 1 costs.
SORT_KEYS = {
    "video_id": Video.video_id,
    "title": _text_key(Video.title),
    "channel": _text_key(Video.channel_display_name),
    "artist": _text_key(Video.artist[1]),
    "category": func.coalesce(Video.category_id, literal_column("0")),
    "claim": func.coalesce(Video.claimed_status, literal_column("''")),
    "privacy": func.coalesce(Video.privacy_status, literal_column("''")),
    "views": func.coalesce(Video.views, literal_column("-1")),
    "changed": Video.updated_at,
}

for _name, _key in SORT_KEYS.items():
    if _name != "video_id":  # the unique index on video_id serves that order already
        Index(f"ix_videos_sort_{_name}", _key, Video.id)

# Filtering by channel or category keeps the default order (newest first) on the index.
Index("ix_videos_channel_id_id", Video.channel_id, Video.id)
Index("ix_videos_category_id_id", Video.category_id, Video.id)
# The library's rows: published videos of a category by view count (reference E).
Index("ix_videos_published_category_id_views", Video.published, Video.category_id, Video.views)
# At most one hero per category (the videos service checks first and says so on the form).
Index(
    "uq_videos_hero_per_category",
    Video.category_id,
    unique=True,
    postgresql_where=Video.is_hero & Video.category_id.is_not(None),
)
# The library's hero: found among the few published hero videos (migration 0018).
Index(
    "ix_videos_library_hero",
    Video.category_id,
    postgresql_where=literal_column("is_hero AND published"),
)
Index(
    "ix_videos_search_text_trgm",
    Video.search_text,
    postgresql_using="gin",
    postgresql_ops={"search_text": "gin_trgm_ops"},
)
