"""Background work as staff see it (ProcessingQueue).

The job engine (procrastinate) has its own tables; a ProcessingQueue row is the readable
record of one piece of work, kept in step with its job.
"""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from catalog.models.base import Base, created_at_column

TASK_TYPES = ("report_import", "metadata_sync", "ownership_update", "asset_enrichment")
QUEUE_STATUSES = ("pending", "processing", "completed", "failed", "cancelled")


class ProcessingQueue(Base):
    """One piece of background work, for people: what, for whom, how it went."""

    __tablename__ = "processing_queue"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    task_type: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20), default="pending", server_default="pending")
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    video_id: Mapped[int | None] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    payload: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    result: Mapped[dict | None] = mapped_column(JSONB)
    error_message: Mapped[str | None] = mapped_column(Text)
    retry_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The engine's job id, to keep the two in step (retry, cancel).
    job_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("priority >= 0", name="priority_not_negative"),
        CheckConstraint("retry_count >= 0", name="retry_count_not_negative"),
        CheckConstraint(
            "status IN ('pending', 'processing', 'completed', 'failed', 'cancelled')",
            name="known_status",
        ),
        Index("ix_processing_queue_status", "status"),
        Index("ix_processing_queue_created_at", "created_at"),
    )


Index("ix_processing_queue_priority", ProcessingQueue.priority.desc())
