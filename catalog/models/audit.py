import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from catalog.models.base import Base

SOURCES = ("web", "bulk", "cli", "report", "worker", "revert", "upload")
ACTIONS = ("create", "update", "delete", "export")

# A row that stands for its whole batch in the collapsed log: not part of a batch, or the
# batch's first row (the one that carries the batch's size).
EVENT = text("batch_id IS NULL OR batch_size IS NOT NULL")


class AuditColumns:
    """The columns of an audit row, shared by the live table and its archive."""

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(30), default="video", server_default="video")
    entity_id: Mapped[int] = mapped_column(BigInteger)
    entity_key: Mapped[str | None] = mapped_column(String(100))
    video_title: Mapped[str | None] = mapped_column(String(200))
    channel_display_name: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(20))
    changes: Mapped[dict] = mapped_column(JSONB)
    user_email: Mapped[str | None] = mapped_column(String(255))
    batch_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # On the first row of a batch only: how many rows the batch wrote.
    batch_size: Mapped[int | None] = mapped_column(Integer)
    # The report whose import made this change (source "report"); no foreign key, as above.
    report_id: Mapped[int | None] = mapped_column(BigInteger)
    # A revert (source "revert") points to what it undid: the one change it reverted, or,
    # for "restore to a time", that time.
    reverts_id: Mapped[int | None] = mapped_column(BigInteger)
    restored_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The transaction's time: every row of one action carries the same instant.
    sync_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The hash chain (migration 0010): set by the database on insert, never by the app.
    chain_seq: Mapped[int] = mapped_column(BigInteger, server_default=FetchedValue())
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary, server_default=FetchedValue())
    row_hash: Mapped[bytes] = mapped_column(LargeBinary, server_default=FetchedValue())


class MetadataSync(AuditColumns, Base):
    """One audit row: who changed which entity, when, from where, and each field's [old, new].

    There is deliberately no foreign key to the entity: history outlives what it describes.
    Rows are append-only (the database refuses UPDATE, DELETE and TRUNCATE) and chained by
    hash; old months can be moved to MetadataSyncArchive, nothing else takes a row away.
    """

    __tablename__ = "metadata_syncs"

    @declared_attr
    def user_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    # A task's row is placed in the chain at its transaction's commit (migration 0023):
    # until then, inside that transaction, it has no place yet. Every committed row has one.
    chain_seq: Mapped[int | None] = mapped_column(BigInteger, server_default=FetchedValue())
    prev_hash: Mapped[bytes | None] = mapped_column(LargeBinary, server_default=FetchedValue())
    row_hash: Mapped[bytes | None] = mapped_column(LargeBinary, server_default=FetchedValue())

    __table_args__ = (
        CheckConstraint(
            "(chain_seq IS NULL) = (prev_hash IS NULL) "
            "AND (chain_seq IS NULL) = (row_hash IS NULL)",
            name="chained_whole",
        ),
        # The rows waiting for their place: those of transactions in flight, only.
        Index("ix_metadata_syncs_unchained", "id", postgresql_where="chain_seq IS NULL"),
        Index("ix_metadata_syncs_time", "sync_time", "id"),
        Index("ix_metadata_syncs_user_time", "user_id", "sync_time", "id"),
        Index("ix_metadata_syncs_source_time", "source", "sync_time", "id"),
        Index("ix_metadata_syncs_batch", "batch_id", postgresql_where="batch_id IS NOT NULL"),
        Index("ix_metadata_syncs_changes", "changes", postgresql_using="gin"),
        Index("uq_metadata_syncs_chain_seq", "chain_seq", unique=True),
        # The collapsed log (a batch shown as one line): by time, by user, by source.
        Index("ix_metadata_syncs_event_time", "sync_time", "id", postgresql_where=EVENT),
        Index(
            "ix_metadata_syncs_event_user_time",
            "user_id",
            "sync_time",
            "id",
            postgresql_where=EVENT,
        ),
        Index(
            "ix_metadata_syncs_event_source_time",
            "source",
            "sync_time",
            "id",
            postgresql_where=EVENT,
        ),
        Index("ix_metadata_syncs_reverts", "reverts_id", postgresql_where="reverts_id IS NOT NULL"),
    )


# The history of one entity, newest first (rows of one transaction share their time, so the
# id orders them); also serves "latest change per video".
Index(
    "ix_metadata_syncs_entity_time",
    MetadataSync.entity_type,
    MetadataSync.entity_id,
    MetadataSync.sync_time.desc(),
    MetadataSync.id.desc(),
)

# The history of one entity by its key (a YouTube id, an email): also after a deletion.
Index(
    "ix_metadata_syncs_entity_key_time",
    MetadataSync.entity_type,
    MetadataSync.entity_key,
    MetadataSync.sync_time,
    MetadataSync.id,
)


class MetadataSyncArchive(AuditColumns, Base):
    """Audit rows of old months, moved here by `flask catalog audit archive`: the same
    columns and hashes (the chain runs on across both tables), append-only as well, and
    searchable on /audit."""

    __tablename__ = "metadata_syncs_archive"

    user_id: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_metadata_syncs_archive_time", "sync_time", "id"),
        Index("ix_metadata_syncs_archive_user_time", "user_id", "sync_time", "id"),
        Index("ix_metadata_syncs_archive_source_time", "source", "sync_time", "id"),
        Index(
            "ix_metadata_syncs_archive_entity_key_time",
            "entity_type",
            "entity_key",
            "sync_time",
            "id",
        ),
        Index(
            "ix_metadata_syncs_archive_entity_time", "entity_type", "entity_id", "sync_time", "id"
        ),
        # The collapsed log, as on the live table.
        Index("ix_metadata_syncs_archive_event_time", "sync_time", "id", postgresql_where=EVENT),
        Index(
            "ix_metadata_syncs_archive_event_user_time",
            "user_id",
            "sync_time",
            "id",
            postgresql_where=EVENT,
        ),
        Index(
            "ix_metadata_syncs_archive_event_source_time",
            "source",
            "sync_time",
            "id",
            postgresql_where=EVENT,
        ),
        Index(
            "ix_metadata_syncs_archive_batch", "batch_id", postgresql_where="batch_id IS NOT NULL"
        ),
        Index("ix_metadata_syncs_archive_changes", "changes", postgresql_using="gin"),
        Index("uq_metadata_syncs_archive_chain_seq", "chain_seq", unique=True),
    )


class AuditChainHead(Base):
    """The end of the audit hash chain: one row, locked by each transaction that writes audit
    rows (from its first audit row to its commit), so chain positions follow commit order."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)
