"""The video library's personal activity: how far each person watched, and how they reacted.

Not catalog data: no audit rows, no MetadataSync. A row goes with its user and with its
video (ON DELETE CASCADE), and there is one per person and video (upserted)."""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Double,
    Enum,
    ForeignKey,
    Index,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from catalog.models.base import Base, created_at_column, updated_at_column

REACTION_TYPES = ("like", "love", "haha", "wow", "sad", "angry")
reaction_type = Enum(*REACTION_TYPES, name="reaction_type")


class VideoProgress(Base):
    """How far one person has watched one video."""

    __tablename__ = "video_progress"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    # Time actually played, in seconds (seeking ahead does not add to it).
    watched_seconds: Mapped[float] = mapped_column(Double, default=0, server_default="0")
    duration_seconds: Mapped[float] = mapped_column(Double)
    last_position: Mapped[float] = mapped_column(Double, default=0, server_default="0")
    # Reached at 90 % and kept once reached.
    completed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    __table_args__ = (
        UniqueConstraint("user_id", "video_id"),
        CheckConstraint("watched_seconds >= 0", name="watched_seconds_not_negative"),
        CheckConstraint("duration_seconds > 0", name="duration_seconds_positive"),
        CheckConstraint(
            "last_position >= 0 AND last_position <= duration_seconds",
            name="last_position_in_range",
        ),
        # The library's "Continue watching" row: one person's unfinished videos, newest first.
        Index(
            "ix_video_progress_continue_watching",
            "user_id",
            text("updated_at DESC"),
            postgresql_where=text("NOT completed"),
        ),
    )


class VideoReaction(Base):
    """One person's reaction to one video (choosing another replaces it)."""

    __tablename__ = "video_reactions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    reaction_type: Mapped[str] = mapped_column(reaction_type)
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (UniqueConstraint("user_id", "video_id"),)
