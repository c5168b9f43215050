"""The worker process: `flask catalog worker` (and `make worker`).

Any number of workers, on any number of machines, claim jobs from PostgreSQL; procrastinate
hands each job to one worker (FOR UPDATE SKIP LOCKED). Each worker records a heartbeat;
a worker silent for JOB_STALLED_TIMEOUT seconds is taken for dead, and a periodic check
(deferred once per tick for all workers together) hands its running jobs to the living.
A worker that loses the database (a restart) waits for it and goes on (Supervisor).
"""

import asyncio
import importlib
import logging
import os
import signal
import socket
from contextlib import suppress
from datetime import timedelta
from typing import Any

import psycopg
import psycopg_pool
from flask import Flask
from procrastinate import exceptions as engine_errors
from procrastinate import utils as engine_utils
from procrastinate.job_context import JobContext
from procrastinate.jobs import Job, Status
from procrastinate.psycopg_connector import PsycopgConnector
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from catalog.extensions import db
from catalog.jobs import checkpoints, engine, registry, runner, tasks  # noqa: F401  (tasks: the types)
from catalog.models import ProcessingQueue
from catalog.production import leases

logger = logging.getLogger(__name__)

# Modules holding @task handlers that create_app does not import already.
JOB_MODULES: tuple[str, ...] = ()

STALLED_MESSAGE = "The worker running this job stopped responding"


def configure_logging(level: int = logging.INFO) -> None:
    """Log to stderr, less the routine stalled-job checks (unless they found something); each
    line names the web request that enqueued the job it is about ("request -" otherwise)."""
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s [request %(request_id)s]: %(message)s",
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(_quiet_stalled_checks)
        handler.addFilter(runner.RequestIdFilter())


def _quiet_stalled_checks(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING or engine.STALLED_TASK not in record.getMessage()


def conninfo(database_uri: str) -> str:
    """A libpq URL for psycopg from SQLAlchemy's (postgresql+psycopg://...)."""
    return make_url(database_uri).set(drivername="postgresql").render_as_string(False)


def stalled_check_cron(seconds: int) -> str:
    """A cron line for 'every `seconds` seconds' (procrastinate's cron has a seconds field)."""
    seconds = max(1, seconds)
    if seconds < 60:
        return f"* * * * * */{seconds}"
    return f"*/{max(1, seconds // 60)} * * * *"


def run_worker(flask_app: Flask, *, concurrency: int | None = None, wait: bool = True) -> None:
    """Run a worker until stopped (SIGINT/SIGTERM: running jobs finish first), or with
    `wait=False` until the queue is empty. A worker that loses the database (a restart, a
    network cut) waits for it with backoff and goes on claiming jobs when it is back."""
    config = flask_app.config
    for module in JOB_MODULES:
        importlib.import_module(module)
    engine.retry_policy.configure(config)
    concurrency = concurrency or int(config["JOB_WORKER_CONCURRENCY"])
    _schedule_stalled_check(int(config["JOB_STALLED_CHECK_INTERVAL"]))
    checkpoints.schedule(config["AUDIT_CHECKPOINT_CRON"])
    for hook in registry.worker_start_hooks():  # the areas' periodic jobs (Notion sync...)
        hook(config)
    lease_check = int(config["PIPELINE_LEASE_CHECK_SECONDS"])
    leases.schedule(stalled_check_cron(lease_check) if lease_check > 0 else "")
    supervisor = Supervisor(
        conninfo(config["SQLALCHEMY_DATABASE_URI"]),
        pool_size=concurrency + 4,  # + listen, fetch, heartbeat and the periodic deferrer
        pool_timeout=float(config["JOB_POOL_TIMEOUT"]),
        backoff=Backoff(
            float(config["JOB_RECONNECT_WAIT"]), float(config["JOB_RECONNECT_MAX_WAIT"])
        ),
        options={
            "name": f"catalog@{socket.gethostname()}:{os.getpid()}",
            "concurrency": concurrency,
            "wait": wait,
            "fetch_job_polling_interval": float(config["JOB_POLL_INTERVAL"]),
            "update_heartbeat_interval": float(config["JOB_HEARTBEAT_INTERVAL"]),
            "stalled_worker_timeout": float(config["JOB_STALLED_TIMEOUT"]),
            # The ProcessingQueue entry is the lasting record; finished jobs that
            # succeeded need not pile up in the engine's table.
            "delete_jobs": "successful",
            "additional_context": {
                "flask_app": flask_app,
                "stalled_timeout": float(config["JOB_STALLED_TIMEOUT"]),
            },
            # The supervisor handles SIGINT/SIGTERM: a stop must also end a wait for the
            # database, which the engine's own handlers (installed only while its worker
            # runs) would miss.
            "install_signal_handlers": False,
        },
    )
    asyncio.run(supervisor.run())


# -- losing the database --------------------------------------------------------------------


class Backoff:
    """Seconds to wait before attempt n (1, 2 …) to reach the database: doubling, capped."""

    def __init__(self, first: float, longest: float):
        self.first, self.longest = max(0.01, first), max(first, longest)

    def delay(self, attempt: int) -> float:
        return min(self.longest, self.first * 2 ** (attempt - 1))


# A worker that ran this long before it lost the database starts again without a pause.
STEADY = 60.0

# What a worker that lost the database meets: the engine's wrapper of any database error,
# the driver's own (connecting), and the pool's (no connection came in time).
LOST = (engine_errors.ConnectorException, psycopg.OperationalError, psycopg_pool.PoolTimeout)


class Supervisor:
    """Runs procrastinate's worker (App.run_worker_async) and runs it again when it stops
    because the database went away.

    procrastinate 3.10 leaves reconnection to the caller: a failed side task (heartbeat,
    LISTEN) stops the worker ("Stop requested") and a failed claim raises ConnectorException
    out of run_worker_async. Only a stop asked for (a signal) or, without `wait`, an empty
    queue ends `run`; anything else is a lost database: wait for it (with backoff, each
    attempt logged), open a new pool, start a new worker in the same process. Jobs that
    were running when it went are handed out again by the stalled-job check, as for a
    worker that died.
    """

    def __init__(
        self, conninfo: str, *, pool_size: int, pool_timeout: float, backoff: Backoff,
        options: dict,
    ):  # fmt: skip
        self.conninfo, self.pool_size, self.backoff = conninfo, pool_size, backoff
        self.pool_timeout = pool_timeout
        self.options = options
        self.stopping = asyncio.Event()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        self.catch_signals(loop)
        quick_stops = 0
        try:
            while await self.reachable():
                started = loop.time()
                try:
                    if await self.serve():
                        return
                    logger.warning("The worker stopped without being asked to: starting again")
                except LOST as exc:
                    if self.stopping.is_set():
                        return  # stopping anyway; the database went at the same time
                    logger.warning("Lost the database: %s", _first_line(exc))
                # A database that answers but fails the worker again and again (not a
                # restart) must not make it spin: back off too.
                quick_stops = 0 if loop.time() - started >= STEADY else quick_stops + 1
                if quick_stops > 1:
                    delay = self.backoff.delay(quick_stops - 1)
                    logger.warning("Stopped again soon after starting: next start in %.1f s", delay)
                    await self.pause(delay)
        finally:
            self.stop()

    def catch_signals(self, loop: asyncio.AbstractEventLoop) -> None:
        """SIGINT/SIGTERM ask for a stop (see `stop`)."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self.stop)

    async def pause(self, seconds: float) -> None:
        """Wait `seconds`, or less if a stop is asked for meanwhile."""
        with suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), seconds)

    def stop(self) -> None:
        """The first SIGINT/SIGTERM: stop once the running jobs are done. The handlers go,
        so a second signal stops the process at once."""
        if not self.stopping.is_set():
            logger.info("Stop requested: finishing the running jobs")
        self.stopping.set()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)

    async def reachable(self) -> bool:
        """Wait until the database answers (True), or a stop is asked for (False)."""
        attempt = 0
        while not self.stopping.is_set():
            try:
                connection = await psycopg.AsyncConnection.connect(
                    self.conninfo, connect_timeout=10
                )
            except psycopg.OperationalError as exc:
                attempt += 1
                delay = self.backoff.delay(attempt)
                logger.warning(
                    "Database unreachable (attempt %s): %s; trying again in %.1f s",
                    attempt, _first_line(exc), delay,
                )  # fmt: skip
                await self.pause(delay)
                continue
            await connection.close()
            if attempt:
                logger.warning("Database reachable again after %s attempts", attempt)
            return True
        return False

    async def serve(self) -> bool:
        """One worker on a new pool, until it stops: True when it was asked to (or, not
        waiting, ran out of jobs); False when it stopped by itself (the database went)."""
        connector = PsycopgConnector(
            conninfo=self.conninfo,
            min_size=2,
            max_size=self.pool_size,  # enough that nobody waits for a connection, so
            timeout=self.pool_timeout,  # a long wait means the database is gone: say so soon
        )
        with engine.app.replace_connector(connector):
            async with engine.app.open_async():
                worker = asyncio.create_task(engine.app.run_worker_async(**self.options))
                stop = asyncio.create_task(self.stopping.wait())
                await asyncio.wait({worker, stop}, return_when=asyncio.FIRST_COMPLETED)
                if not worker.done():
                    # Cancelling run_worker_async is procrastinate's graceful stop: no new
                    # jobs, the running ones finish.
                    worker.cancel()
                    with suppress(asyncio.CancelledError):
                        await worker
                    return True
                stop.cancel()
                worker.result()  # the database's error, if that is how it ended
                return self.stopping.is_set() or not self.options["wait"]


def _first_line(exc: BaseException) -> str:
    cause = exc.__cause__ or exc
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0] if lines else ''}"


# -- stalled jobs ---------------------------------------------------------------------------


@engine.app.task(
    name=engine.STALLED_TASK,
    pass_context=True,
    queue=engine.QUEUE,
    # One waiting at a time, whatever the number of workers deferring it.
    queueing_lock=engine.STALLED_TASK,
)
async def retry_stalled_jobs(context: JobContext, timestamp: int) -> dict[str, Any]:
    """Hand the running jobs of dead workers back to the queue (with backoff), or fail them
    when they have had all their attempts."""
    manager = context.app.job_manager
    timeout = context.additional_context["stalled_timeout"]
    retried, failed = [], []
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=timeout):
        assert job.id is not None
        try:
            if job.task_name == engine.STALLED_TASK:  # an earlier check that died: drop it
                await manager.finish_job_by_id_async(job.id, Status.FAILED, delete_job=True)
                continue
            final = not engine.retry_policy.will_retry(RuntimeError(), job.attempts)
            flask_app = context.additional_context["flask_app"]
            if not await engine_utils.sync_to_async(_entry_stalled, flask_app, job, final):
                continue
            if final:
                await manager.finish_job_by_id_async(job.id, Status.FAILED, delete_job=False)
                failed.append(job.id)
            else:
                delay = timedelta(seconds=engine.retry_policy.delay(job.attempts))
                await manager.retry_job(job, retry_at=engine_utils.utcnow() + delay)
                retried.append(job.id)
        except engine_errors.ConnectorException:
            # Another check (or the worker, back to life) moved it first.
            logger.info("Stalled job %s changed meanwhile; left alone", job.id)
    if retried or failed:
        logger.warning("Stalled jobs: retried %s, failed %s", retried, failed)
    return {"retried": retried, "failed": failed}


def _entry_stalled(flask_app: Flask, job: Job, final: bool) -> bool:
    """Record on the job's entry that its worker died: pending again, or failed. False
    when the entry is locked: the job's transaction is still open, so its worker is alive
    after all (only slow to beat), and the job is left to it."""
    entry_id = job.task_kwargs.get("entry_id")
    if not isinstance(entry_id, int):
        return True
    with flask_app.app_context():
        statement = (
            select(ProcessingQueue)
            .where(ProcessingQueue.id == entry_id)
            .with_for_update(skip_locked=True)
        )
        entry = db.session.scalars(statement).first()
        if entry is None:
            alive = db.session.get(ProcessingQueue, entry_id) is not None
            db.session.rollback()
            if alive:
                logger.info("Job %s looks stalled but its entry is in use: left alone", job.id)
            return not alive
        if entry.job_id == job.id and entry.status == "processing":
            entry.error_message = f"{STALLED_MESSAGE} (attempt {job.attempts + 1})."
            if final:
                entry.status = "failed"
                entry.completed_at = func.clock_timestamp()
            else:
                entry.status = "pending"
        db.session.commit()
        return True


def _schedule_stalled_check(seconds: int) -> None:
    engine.schedule(retry_stalled_jobs, stalled_check_cron(seconds))
