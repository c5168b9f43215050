"""A video file put into the library: stored at once, probed by a worker (catalog.library).

    pending ──probe──> ready     (the video's file, duration and thumbnail are set, audited)
           └────────> refused   (the reason says why; the video is left as it was)

Not catalog data itself: the audit row is written when a ready upload changes the video."""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from catalog.models.base import Base, created_at_column

UPLOAD_STATUSES = ("pending", "ready", "refused")


class VideoUpload(Base):
    """One upload of a video file (with its thumbnail and captions, when given)."""

    __tablename__ = "video_uploads"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="pending", server_default="pending")
    reason: Mapped[str | None] = mapped_column(Text)
    # Storage keys (catalog.reports.storage); the extension gives the content type.
    video_key: Mapped[str] = mapped_column(String(512))
    thumbnail_key: Mapped[str | None] = mapped_column(String(512))
    caption_key: Mapped[str | None] = mapped_column(String(512))
    original_name: Mapped[str | None] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    # What the probe found.
    duration_seconds: Mapped[float | None] = mapped_column(Double)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    video_codec: Mapped[str | None] = mapped_column(String(50))
    audio_codec: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = created_at_column()
    probed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'ready', 'refused')", name="known_status"),
        CheckConstraint("status <> 'refused' OR reason IS NOT NULL", name="refused_says_why"),
        CheckConstraint("size >= 0", name="size_not_negative"),
        CheckConstraint("duration_seconds >= 0", name="duration_seconds_not_negative"),
        # The video page shows its latest upload.
        Index("ix_video_uploads_video_id_id", "video_id", "id"),
    )
