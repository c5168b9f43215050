"""Background work: jobs on procrastinate (PostgreSQL), each mirrored by a ProcessingQueue row.

The interface the rest of the app uses (implemented in this package):

    enqueue(task_type, payload, *, video_id=None, report_id=None, priority=0, actor=None)
        -> ProcessingQueue
        Adds the ProcessingQueue row and defers its job in the caller's transaction, so a
        rolled-back change never starts a job. Never commits.

    @task("metadata_sync")          # registers a handler for a task type
    def sync(entry: ProcessingQueue) -> dict:   # runs in the worker with an app context
        ...                         # returns the result stored on the entry; raising fails
                                    # the attempt (retried with backoff up to a limit)
"""

from catalog.jobs.engine import PermanentError
from catalog.jobs.service import enqueue
from catalog.jobs.tasks import task

__all__ = ["PermanentError", "enqueue", "task"]
