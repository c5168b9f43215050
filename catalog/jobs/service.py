"""Putting work on the queue, inside the caller's transaction."""

from catalog.extensions import db
from catalog.jobs import engine, registry
from catalog.models import ProcessingQueue, User


def enqueue(
    task_type: str,
    payload: dict,
    *,
    video_id: int | None = None,
    report_id: int | None = None,
    priority: int = 0,
    actor: User | None = None,
) -> ProcessingQueue:
    """Add a ProcessingQueue entry and defer its job in the session's transaction.

    Both are written on the session's connection, so they commit with the caller's change
    or vanish with its rollback; no worker sees the job before the commit. Never commits.
    `priority`: higher runs first (>= 0).
    """
    if not registry.is_known(task_type):
        raise ValueError(f"Unknown task type {task_type!r}")
    if priority < 0:
        raise ValueError("A priority is 0 or more")
    entry = ProcessingQueue(
        task_type=task_type,
        status="pending",
        priority=priority,
        video_id=video_id,
        report_id=report_id,
        payload=payload or {},
        retry_count=0,
        created_by=actor.id if actor else None,
    )
    db.session.add(entry)
    db.session.flush()  # the entry's id, for the job's arguments
    entry.job_id = engine.defer(task_type, entry.id, priority=priority)
    db.session.flush()
    return entry
