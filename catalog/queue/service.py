"""Staff actions on queued work: run a failed or cancelled entry again, cancel a pending one.

Both change the entry and the engine's job in the session's transaction and record an
audit row with them; the caller commits.
"""

from catalog import audit
from catalog.extensions import db
from catalog.jobs import engine
from catalog.models import ProcessingQueue, User
from catalog.rules import RuleError

RETRYABLE = ("failed", "cancelled")
QUEUE_ENTRY = audit.Entity("queue_entry", key=lambda entry: f"#{entry.id} {entry.task_type}")


class QueueError(RuleError):
    """The entry is not in a state that allows the action; the message says why."""


def retry_entry(entry: ProcessingQueue, *, actor: User | None, source: str = "web") -> int:
    """Run a failed or cancelled entry again: a new job, with a fresh set of attempts. The
    entry keeps its history (retry_count goes on counting, the last error stays until an
    attempt succeeds). Returns the new job's id. The entry should be locked by the caller."""
    if entry.status not in RETRYABLE:
        raise QueueError(f"Only failed or cancelled work can be run again; this is {entry.status}.")
    before = {"status": entry.status, "job_id": entry.job_id}
    entry.status = "pending"
    entry.completed_at = None
    entry.job_id = engine.defer(entry.task_type, entry.id, priority=entry.priority)
    QUEUE_ENTRY.record(entry, "update", _changes(entry, before), actor=actor, source=source)
    db.session.flush()
    return entry.job_id


def cancel_entry(entry: ProcessingQueue, *, actor: User | None, source: str = "web") -> None:
    """Cancel a pending entry and its job, unless a worker has just started it. The entry
    should be locked by the caller."""
    if entry.status != "pending":
        raise QueueError(f"Only pending work can be cancelled; this is {entry.status}.")
    cancelled = entry.job_id is None or engine.cancel(entry.job_id)
    # Not cancelled and not started: the job is gone or over, only the entry is left.
    if not cancelled and engine.job_status(entry.job_id) == "doing":
        raise QueueError("A worker has just started it: it can no longer be cancelled.")
    before = {"status": entry.status, "job_id": entry.job_id}
    entry.status = "cancelled"
    entry.completed_at = db.func.clock_timestamp()
    QUEUE_ENTRY.record(entry, "update", _changes(entry, before), actor=actor, source=source)
    db.session.flush()


def _changes(entry: ProcessingQueue, before: dict) -> dict[str, list]:
    return {
        field: [old, getattr(entry, field)]
        for field, old in before.items()
        if old != getattr(entry, field)
    }
