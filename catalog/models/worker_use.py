"""Every call a pipeline worker makes with its token: when, from where, what, and what it was
answered (migration 0019). PipelineWorker.last_used_at/from say the latest at a glance; this
log keeps them all, for the question "what did this token do, and from where?"."""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from catalog.models.base import Base, created_at_column


class PipelineWorkerUse(Base):
    """One authenticated API call of a pipeline worker (an unknown token names no worker, so
    it leaves no row here: the web server's access log has those)."""

    __tablename__ = "pipeline_worker_uses"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # Workers are revoked, never deleted; CASCADE only so that a test's cleanup can delete.
    worker_id: Mapped[int] = mapped_column(ForeignKey("pipeline_workers.id", ondelete="CASCADE"))
    used_at: Mapped[datetime] = created_at_column()
    address: Mapped[str | None] = mapped_column(String(45))
    call: Mapped[str] = mapped_column(String(20))
    # The task the call named or was given; no foreign key: the log outlives nothing, and
    # a refused call may name a task that does not exist.
    task_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[int] = mapped_column(SmallInteger)

    __table_args__ = (Index("ix_pipeline_worker_uses_worker_id_used_at", "worker_id", "used_at"),)

    def __repr__(self) -> str:
        return f"<PipelineWorkerUse {self.worker_id} {self.call} {self.status}>"
