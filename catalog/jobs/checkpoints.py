"""The periodic audit checkpoint (catalog.changes.checkpoints): every worker schedules it on
AUDIT_CHECKPOINT_CRON (hourly by default), procrastinate defers one job per tick whatever
the number of workers, and one worker writes the checkpoint. A tick whose chain does not
verify writes nothing and fails the job, which the worker logs; the next tick tries again."""

import logging
from typing import Any

from flask import Flask
from procrastinate import utils as engine_utils
from procrastinate.job_context import JobContext

from catalog.jobs import engine

logger = logging.getLogger(__name__)

CHECKPOINT_TASK = "catalog.audit_checkpoint"


@engine.app.task(
    name=CHECKPOINT_TASK,
    pass_context=True,
    queue=engine.QUEUE,
    # One waiting at a time, whatever the number of workers deferring it.
    queueing_lock=CHECKPOINT_TASK,
)
async def write_checkpoint(context: JobContext, timestamp: int) -> dict[str, Any]:
    flask_app = context.additional_context["flask_app"]
    return await engine_utils.sync_to_async(checkpoint_now, flask_app)


def checkpoint_now(flask_app: Flask) -> dict[str, Any]:
    """Write a checkpoint of the chain's head (see catalog.changes.integrity.checkpoint)."""
    from catalog.changes.integrity import checkpoint

    with flask_app.app_context():
        written = checkpoint()
    if written is None:
        return {"seq": 0}
    logger.info("Audit checkpoint at chain position %s: %s", written.seq, written.name)
    return {"seq": written.seq, "file": written.name}


def schedule(cron: str) -> None:
    """Have this worker defer the checkpoint on `cron` (empty: never)."""
    registry = engine.app.periodic_registry
    if not cron or (CHECKPOINT_TASK, "") in registry.periodic_tasks:
        return
    registry.register_task(task=write_checkpoint, cron=cron, periodic_id="", configure_kwargs={})
