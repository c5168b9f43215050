"""One attempt of a job, with its ProcessingQueue entry kept in step.

    pending ──claim (commit)──> processing ──handler + completion (one commit)──> completed
                                     └── error: rollback; then pending (a retry is due) or
                                         failed (no attempts left), with the error (commit)

The claim is committed on its own so people see the entry processing while it runs. The
handler's changes and the entry's completion are one transaction: a worker killed in the
middle leaves the entry processing with nothing of the handler's work applied, and the
engine's stalled-job check hands the job to another worker, which runs it again
(retry_count goes up).

The entry's row lock is held from the claim's re-check to the final commit, and the entry
is only worked on while it still names this job and is pending or processing. So even if a
job were run twice at once (a worker taken for dead while it was only slow), the second run
waits for the first, sees the entry completed, and does nothing.
"""

import logging
from contextvars import ContextVar
from typing import Any

from flask import Flask
from procrastinate.job_context import JobContext
from sqlalchemy import func, select

from catalog.audit import jsonable
from catalog.extensions import db
from catalog.jobs import engine, registry
from catalog.models import ProcessingQueue
from catalog.web import db_retry

logger = logging.getLogger(__name__)

ERROR_LIMIT = 4000  # characters of an error message kept on the entry
WORKABLE = ("pending", "processing")

# The id of the web request that enqueued the running job (in this job's thread alone), for
# every line logged while it runs: see RequestIdFilter.
origin_request: ContextVar[str | None] = ContextVar("origin_request", default=None)


class RequestIdFilter(logging.Filter):
    """Gives every log record a `request_id` (the running job's origin, or "-")."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = origin_request.get() or "-"
        return True


def run_job(context: JobContext, entry_id: int, request_id: str | None = None) -> dict | None:
    """The body of every task type's procrastinate task (run in a worker thread)."""
    flask_app: Flask = context.additional_context["flask_app"]
    job = context.job
    assert job.id is not None
    token = origin_request.set(request_id)
    try:
        logger.info(
            "Queue entry %s (job %s, attempt %s) started", entry_id, job.id, job.attempts + 1
        )
        with flask_app.app_context():
            return run_attempt(entry_id, job_id=job.id, attempts=job.attempts)
    finally:
        origin_request.reset(token)


def run_attempt(entry_id: int, *, job_id: int, attempts: int) -> dict | None:
    """Run the entry's handler once and record how it went; re-raise its error so the
    engine retries or fails the job. Needs an app context; commits."""
    if not _claim(entry_id, job_id):
        return None
    try:
        # A deadlock or serialization failure runs the handler again at once, in a new
        # transaction (catalog.web.db_retry), rather than failing the attempt and waiting for
        # the engine's backoff.
        result = db_retry.run_in_transaction(lambda: _work(entry_id, job_id))
    except Exception as exc:
        db.session.rollback()
        final = not engine.retry_policy.will_retry(exc, attempts)
        logger.warning(
            "Queue entry %s (job %s, attempt %s) failed%s: %s",
            entry_id, job_id, attempts + 1, "" if final else ", will retry", exc,
        )  # fmt: skip
        _record_failure(entry_id, job_id, exc, final=final)
        raise
    except BaseException:
        db.session.rollback()  # stopping: the entry stays processing until retried
        raise
    return result


def _work(entry_id: int, job_id: int) -> dict | None:
    """The handler and the entry's completion, one transaction (committed by the caller)."""
    entry = _locked(entry_id)
    if entry is None or entry.job_id != job_id or entry.status != "processing":
        return None  # a concurrent run of the same job finished it: nothing to write
    result = _as_result(registry.handler_for(entry.task_type)(entry))
    entry = db.session.get(ProcessingQueue, entry_id)  # the handler may have committed
    entry.status = "completed"
    entry.result = result
    entry.error_message = None
    entry.completed_at = func.clock_timestamp()
    return result


def _locked(entry_id: int) -> ProcessingQueue | None:
    statement = select(ProcessingQueue).where(ProcessingQueue.id == entry_id).with_for_update()
    return db.session.scalars(statement.execution_options(populate_existing=True)).first()


def _claim(entry_id: int, job_id: int) -> bool:
    """Mark the entry processing (and count a retry) in a transaction of its own."""
    entry = _locked(entry_id)
    if entry is None or entry.job_id != job_id or entry.status not in WORKABLE:
        # Cancelled, finished or handed to another job since this one was deferred.
        state = "missing" if entry is None else f"{entry.status}, job {entry.job_id}"
        logger.info("Job %s skipped: queue entry %s is %s", job_id, entry_id, state)
        db.session.rollback()
        return False
    if entry.started_at is not None:  # an earlier attempt started: this one is a retry
        entry.retry_count += 1
    entry.status = "processing"
    entry.started_at = func.clock_timestamp()
    entry.completed_at = None
    db.session.commit()
    return True


def _record_failure(entry_id: int, job_id: int, exc: Exception, *, final: bool) -> None:
    entry = _locked(entry_id)
    if entry is None or entry.job_id != job_id or entry.status != "processing":
        db.session.rollback()
        return
    entry.error_message = error_text(exc)
    entry.result = None
    if final:
        entry.status = "failed"
        entry.completed_at = func.clock_timestamp()
    else:
        entry.status = "pending"  # the engine runs it again after the backoff
    db.session.commit()


def error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text[:ERROR_LIMIT]


def _as_result(value: Any) -> dict | None:
    """A handler's return value as stored on the entry (a JSON object)."""
    if value is None:
        return None
    if isinstance(value, dict):
        return _plain(value)
    return {"value": _plain(value)}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return jsonable(value)
