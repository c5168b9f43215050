"""The job engine: procrastinate, set up once per process.

Two ways in:

- **Inside the caller's transaction** (enqueue, cancel, retry from the web, the CLI or a
  job): procrastinate 3.10's `connection=` option runs its SQL on a connection we hand it.
  We hand it the psycopg connection under the SQLAlchemy session, so the job row is written
  in the same transaction as the ProcessingQueue row and the change that asked for it; a
  rollback removes all three, and workers (whose NOTIFY and polling only see committed
  rows) never see a job whose request was rolled back. A never-opened
  `SyncPsycopgConnector` does this: with an external connection it needs no pool and no URL,
  so the same code works in a web process, in the CLI and inside a job's thread.
- **The worker** (catalog.jobs.worker) opens `app` with an async pool of its own to claim,
  finish and retry jobs.
"""

from collections.abc import Callable
from typing import Any

import procrastinate
from procrastinate import exceptions as engine_errors
from procrastinate import jobs as engine_jobs
from procrastinate import utils as engine_utils
from procrastinate.manager import JobManager
from procrastinate.psycopg_connector import PsycopgConnector
from procrastinate.retry import BaseRetryStrategy, RetryDecision
from procrastinate.sync_psycopg_connector import SyncPsycopgConnector

from catalog.extensions import db
from catalog.web import request_id

QUEUE = "catalog"
STALLED_TASK = "catalog.retry_stalled_jobs"


class PermanentError(Exception):
    """Raised by a handler when trying again cannot help (a malformed file, a video that no
    longer exists): the entry fails at once, without the remaining attempts."""


class RetryPolicy(BaseRetryStrategy):
    """Exponential backoff up to a number of attempts, from the app's JOB_* settings.

    One object is shared by every task and by the runner, so procrastinate's decision to
    retry and the runner's status (pending again, or failed for good) always agree. The
    worker calls `configure` with its app's settings before it starts.
    """

    def __init__(self) -> None:
        self.max_attempts = 5
        self.wait = 10.0
        self.max_wait = 3600.0

    def configure(self, config: dict[str, Any]) -> None:
        self.max_attempts = max(1, int(config["JOB_MAX_ATTEMPTS"]))
        self.wait = float(config["JOB_RETRY_WAIT"])
        self.max_wait = float(config["JOB_RETRY_MAX_WAIT"])

    def will_retry(self, exception: BaseException, attempts: int) -> bool:
        """Whether an attempt that raised `exception` gets another one; `attempts` is the
        number of attempts before it (procrastinate's job.attempts: 0 on the first run)."""
        if isinstance(exception, PermanentError) or not isinstance(exception, Exception):
            return False
        return attempts + 1 < self.max_attempts

    def delay(self, attempts: int) -> float:
        return min(self.max_wait, self.wait * 2**attempts)

    def get_retry_decision(
        self, *, exception: BaseException, job: engine_jobs.Job
    ) -> RetryDecision | None:
        if not self.will_retry(exception, job.attempts):
            return None
        return RetryDecision(retry_in={"seconds": self.delay(job.attempts)})


retry_policy = RetryPolicy()

# The worker swaps in a connector with a real pool (App.replace_connector); until then
# this one is never opened.
app = procrastinate.App(connector=PsycopgConnector())

# For SQL on the caller's own connection: it never opens a pool of its own.
_in_transaction = JobManager(SyncPsycopgConnector())


def tick_task(name: str, run: Callable[[Any], dict[str, Any]]):
    """The task of a periodic chore: each tick runs `run(flask_app)` in a thread, with one
    job waiting at a time whatever the number of workers deferring it."""

    @app.task(name=name, pass_context=True, queue=QUEUE, queueing_lock=name)
    async def tick(context, timestamp: int) -> dict[str, Any]:
        return await engine_utils.sync_to_async(run, context.additional_context["flask_app"])

    return tick


def schedule(task: Any, cron: str) -> None:
    """Have this worker defer `task` on `cron` (empty: never); once, however often asked."""
    registry = app.periodic_registry
    if not cron or (task.name, "") in registry.periodic_tasks:
        return
    registry.register_task(task=task, cron=cron, periodic_id="", configure_kwargs={})


def session_connection() -> Any:
    """The psycopg connection under db.session, inside the session's transaction (begun
    if need be). Statements run on it commit or roll back with the session."""
    return db.session.connection().connection.driver_connection


def defer(task_type: str, entry_id: int, *, priority: int = 0) -> int:
    """Write the job for a ProcessingQueue entry in the session's transaction; its id. A job
    deferred by a web request carries the request's id, which the worker logs with it."""
    task_kwargs: dict[str, Any] = {"entry_id": entry_id}
    if origin := request_id.current():
        task_kwargs["request_id"] = origin
    job = engine_jobs.Job(
        id=None,
        queue=QUEUE,
        lock=None,
        queueing_lock=None,
        task_name=task_type,
        priority=priority,
        task_kwargs=task_kwargs,
    )
    deferred = _in_transaction.defer_job(job, connection=session_connection())
    assert deferred.id is not None
    return deferred.id


def cancel(job_id: int) -> bool:
    """Cancel a job that has not started, in the session's transaction. False when it has
    started (or ended) already, so it can no longer be cancelled."""
    return _in_transaction.cancel_job_by_id(job_id, connection=session_connection())


def job_status(job_id: int) -> str | None:
    """The engine's status of a job (todo, doing, succeeded, failed, cancelled...)."""
    try:
        status = _in_transaction.get_job_status(job_id, connection=session_connection())
    except engine_errors.NoResult:
        return None
    return status.value
