import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from catalog.models.base import Base

SOURCES = ("web", "bulk", "cli", "report", "worker", "revert")
ACTIONS = ("create", "update", "delete")


class MetadataSync(Base):
    """One audit row: who changed which entity, when, from where, and each field's [old, new].

    There is deliberately no foreign key to the entity: history outlives what it describes.
    """

    __tablename__ = "metadata_syncs"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(30), default="video", server_default="video")
    entity_id: Mapped[int] = mapped_column(BigInteger)
    entity_key: Mapped[str | None] = mapped_column(String(100))
    video_title: Mapped[str | None] = mapped_column(String(200))
    channel_display_name: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(20))
    changes: Mapped[dict] = mapped_column(JSONB)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    user_email: Mapped[str | None] = mapped_column(String(255))
    batch_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # The report whose import made this change (source "report"); no foreign key, as above.
    report_id: Mapped[int | None] = mapped_column(BigInteger)
    # The transaction's time: every row of one action carries the same instant.
    sync_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("ix_metadata_syncs_time", "sync_time", "id"),
        Index("ix_metadata_syncs_user_time", "user_id", "sync_time", "id"),
        Index("ix_metadata_syncs_source_time", "source", "sync_time", "id"),
        Index("ix_metadata_syncs_batch", "batch_id", postgresql_where="batch_id IS NOT NULL"),
        Index("ix_metadata_syncs_changes", "changes", postgresql_using="gin"),
    )


# The history of one entity, newest first; also serves "latest change per video".
Index(
    "ix_metadata_syncs_entity_time",
    MetadataSync.entity_type,
    MetadataSync.entity_id,
    MetadataSync.sync_time.desc(),
)

# The history of one entity by its key (a YouTube id, an email): also after a deletion.
Index(
    "ix_metadata_syncs_entity_key_time",
    MetadataSync.entity_type,
    MetadataSync.entity_key,
    MetadataSync.sync_time,
    MetadataSync.id,
)
