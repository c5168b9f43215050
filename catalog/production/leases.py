"""The periodic lease expiry: every worker schedules it every PIPELINE_LEASE_CHECK_SECONDS,
procrastinate defers one job per tick whatever the number of workers, and the job returns
the tasks whose pipeline worker stopped sending heartbeats (service.expire_leases). Claims
run the same expiry first, so a queue with active claimers does not wait for the tick."""

from typing import Any

from flask import Flask
from procrastinate import utils as engine_utils
from procrastinate.job_context import JobContext

from catalog.jobs import engine

EXPIRY_TASK = "catalog.expire_task_leases"


@engine.app.task(
    name=EXPIRY_TASK,
    pass_context=True,
    queue=engine.QUEUE,
    # One waiting at a time, whatever the number of workers deferring it.
    queueing_lock=EXPIRY_TASK,
)
async def expire_task_leases(context: JobContext, timestamp: int) -> dict[str, Any]:
    flask_app = context.additional_context["flask_app"]
    return await engine_utils.sync_to_async(expire_now, flask_app)


def expire_now(flask_app: Flask) -> dict[str, Any]:
    """Return every task whose lease has expired, in batches, each committed."""
    from catalog.production import service
    from catalog.web import db_retry

    total = 0
    with flask_app.app_context():
        while count := db_retry.run_in_transaction(lambda: service.expire_leases(source="worker")):
            total += count
    return {"expired": total}


def schedule(cron: str) -> None:
    """Have this worker defer the expiry on `cron` (empty: never)."""
    registry = engine.app.periodic_registry
    if not cron or (EXPIRY_TASK, "") in registry.periodic_tasks:
        return
    registry.register_task(task=expire_task_leases, cron=cron, periodic_id="", configure_kwargs={})
