"""Production tasks: one video of a channel on its way from a Notion draft to YouTube.

The statuses are a PostgreSQL enum in pipeline order; which transitions are allowed (and
who may take each) is declared once in catalog/production/transitions.py and enforced again
by a trigger. The board groups the statuses into phases (PHASES below)."""

from datetime import date, datetime

from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models.base import Base, created_at_column, updated_at_column
from catalog.models.channel import Channel

# In pipeline order: the enum type keeps this order, so ORDER BY status follows the pipeline.
TASK_STATUSES = (
    "draft", "queued", "claimed",
    "generating_assets", "assets_ready", "assets_approved",
    "generating_composites", "composites_ready",
    "generating_video", "video_ready", "video_approved",
    "generating_audio", "audio_ready", "audio_approved",
    "generating_sfx", "sfx_ready",
    "assembling", "assembly_ready", "final_review", "approved",
    "uploading", "published",
    "asset_error", "video_error", "audio_error", "upload_error",
)  # fmt: skip
# Claim order: high first. The enum's order is the claim order, so ORDER BY priority works.
TASK_PRIORITIES = ("high", "normal", "low")
# The stages a worker claims work for, in pipeline order.
STAGES = ("assets", "composites", "video", "audio", "sfx", "assembly", "upload")

# The board's columns: each status belongs to exactly one phase.
PHASES: dict[str, tuple[str, ...]] = {
    "Draft": ("draft",),
    "Queued": ("queued",),
    "In production": (
        "claimed", "generating_assets", "assets_approved", "generating_composites",
        "composites_ready", "generating_video", "video_approved", "generating_audio",
        "audio_approved", "generating_sfx", "sfx_ready", "assembling",
    ),
    "Waiting for review": (
        "assets_ready", "video_ready", "audio_ready", "assembly_ready", "final_review",
    ),
    "Approved and uploading": ("approved", "uploading"),
    "Published": ("published",),
    "Errors": ("asset_error", "video_error", "audio_error", "upload_error"),
}  # fmt: skip

# What later stages' workers claim: the states a stage starts from (its claim moves the task
# into its working state) and the working states no worker holds (a retried task).
CLAIMABLE = (
    "assets_approved", "composites_ready", "video_approved", "audio_approved", "sfx_ready",
    "approved", "generating_assets", "generating_composites", "generating_video",
    "generating_audio", "generating_sfx", "assembling", "uploading",
)  # fmt: skip
CLAIMABLE_SQL = ", ".join(f"'{status}'" for status in CLAIMABLE)

NOTION_PAGE_ID = r"^[0-9a-f]{32}$"

task_status = Enum(*TASK_STATUSES, name="task_status")
task_priority = Enum(*TASK_PRIORITIES, name="task_priority")


class PipelineWorker(Base):
    """An external pipeline worker and its API token (stored hashed; shown once)."""

    __tablename__ = "pipeline_workers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # sha256 of the token, hex: tokens are long random strings, so a fast hash is enough.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    stages: Mapped[list[str]] = mapped_column(ARRAY(String(20)), default=list, server_default="{}")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_from: Mapped[str | None] = mapped_column(String(45))

    def __repr__(self) -> str:
        return f"<PipelineWorker {self.name!r}>"


class Task(Base):
    """One video in production (reference D)."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="RESTRICT"))
    notion_page_id: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str | None] = mapped_column(String(500))
    story_direction: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(task_status, default="draft", server_default="draft")
    priority: Mapped[str] = mapped_column(task_priority, default="normal", server_default="normal")
    # Append-only: a trigger refuses any update that does not keep the old text as its prefix.
    error_log: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The state an error came from (set by the trigger on entering an error): a retry goes
    # back there, as errors are shared by stages (catalog/production/transitions.py).
    failed_from: Mapped[str | None] = mapped_column(task_status)
    youtube_url: Mapped[str | None] = mapped_column(String(255))
    # The catalog video, once published (found by the video id in youtube_url).
    video_id: Mapped[int | None] = mapped_column(ForeignKey("videos.id", ondelete="SET NULL"))
    # The stage's results: links kept on the task.
    asset_url: Mapped[str | None] = mapped_column(String(1000))
    composite_url: Mapped[str | None] = mapped_column(String(1000))
    video_url: Mapped[str | None] = mapped_column(String(1000))
    audio_url: Mapped[str | None] = mapped_column(String(1000))
    sfx_url: Mapped[str | None] = mapped_column(String(1000))
    final_url: Mapped[str | None] = mapped_column(String(1000))
    # Who holds it: the worker that claimed it, since when, and until when without a heartbeat.
    claimed_by: Mapped[int | None] = mapped_column(
        ForeignKey("pipeline_workers.id", ondelete="SET NULL")
    )
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The status the task's Notion page is known to show (migration 0016): the draft sync
    # pushes the status again while the two differ. Null: none known.
    notion_status_pushed: Mapped[str | None] = mapped_column(task_status)
    # When the status last changed: "how long in its state" on the board, the age filter.
    status_changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()"), nullable=False
    )
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    channel: Mapped[Channel] = relationship()
    worker: Mapped[PipelineWorker | None] = relationship()

    __table_args__ = (
        CheckConstraint(f"notion_page_id ~ '{NOTION_PAGE_ID}'", name="notion_page_id_hex"),
        CheckConstraint("length(title) > 0", name="title_not_empty"),
        Index("ix_tasks_status", "status"),
        Index("ix_tasks_channel_id", "channel_id"),
        Index("ix_tasks_created_at", "created_at"),
        Index("ix_tasks_channel_id_status", "channel_id", "status"),
        # The board's columns: each status's tasks in claim order (migration 0020).
        Index("ix_tasks_board", "status", "priority", "created_at", "id"),
        # The board's age filter: the tasks of a priority that entered their state after a
        # cutoff, with what the other filters read (an index-only scan). Without a priority
        # filter the queries ask for all three priorities: three ranges of this index.
        Index(
            "ix_tasks_priority_status_changed_at",
            "priority",
            "status_changed_at",
            postgresql_include=["status", "channel_id", "failed_from"],
        ),
        # The claim's index: only the queued tasks, in claim order (priority, then FIFO).
        Index(
            "ix_tasks_queued",
            "priority",
            "created_at",
            "id",
            postgresql_where=text("status = 'queued'"),
        ),
        # The fair claim's: each channel's first queued task (catalog/production/claim.py).
        Index(
            "ix_tasks_queued_channel",
            "channel_id",
            "priority",
            "created_at",
            "id",
            postgresql_where=text("status = 'queued'"),
        ),
        # Later stages' claims: the tasks waiting for a worker, by state and claim order.
        Index(
            "ix_tasks_claimable",
            "status",
            "priority",
            "status_changed_at",
            "id",
            postgresql_where=text(f"claimed_by IS NULL AND status IN ({CLAIMABLE_SQL})"),
        ),
        # The lease expiry's look-up: only held tasks have a lease.
        Index(
            "ix_tasks_lease_expires_at",
            "lease_expires_at",
            postgresql_where=text("lease_expires_at IS NOT NULL"),
        ),
    )

    def __repr__(self) -> str:
        return f"<Task {self.id} {self.status}>"


class TaskTransition(Base):
    """One allowed status change: the database's copy of catalog/production/transitions.py,
    which the trigger on `tasks` reads (migration 0015; a test keeps the two equal)."""

    __tablename__ = "task_transitions"

    from_status: Mapped[str] = mapped_column(task_status, primary_key=True)
    to_status: Mapped[str] = mapped_column(task_status, primary_key=True)
    # A permission's name (a user holding it), "worker" or "system".
    actor: Mapped[str] = mapped_column(String(20))


class ChannelQueue(Base):
    """Each channel's place in the fair claim, kept by triggers on `tasks` (migration 0015),
    never by the application: its queued tasks by priority, its tasks in production (for
    the capacity), its claims today (for the quota) and its last claim's turn (for the
    round-robin). The claim then sorts 500 small rows instead of counting tasks."""

    __tablename__ = "channel_queues"

    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    queued_high: Mapped[int] = mapped_column(Integer, server_default="0")
    queued_normal: Mapped[int] = mapped_column(Integer, server_default="0")
    queued_low: Mapped[int] = mapped_column(Integer, server_default="0")
    in_production: Mapped[int] = mapped_column(Integer, server_default="0")
    # Claims on `claims_day` (UTC): the daily quota's count, reset by the first claim of a day.
    claims_day: Mapped[date | None] = mapped_column(Date)
    claims_on_day: Mapped[int] = mapped_column(Integer, server_default="0")
    # From the sequence channel_claim_seq at each claim: the oldest turn is served first.
    last_claim_seq: Mapped[int | None] = mapped_column(BigInteger)


class TaskCount(Base):
    """How many tasks each (channel, status, priority, origin) has: the board's counts,
    kept by triggers on `tasks` (migration 0020), never by the application. `origin` is an
    error's `failed_from` (the stage filter places errors by it), else the status itself."""

    __tablename__ = "task_counts"

    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(task_status, primary_key=True)
    priority: Mapped[str] = mapped_column(task_priority, primary_key=True)
    origin: Mapped[str] = mapped_column(task_status, primary_key=True)
    tasks: Mapped[int] = mapped_column(Integer, server_default="0")
