"""The periodic audit checkpoint (catalog.changes.checkpoints): every worker schedules it on
AUDIT_CHECKPOINT_CRON (hourly by default), procrastinate defers one job per tick whatever
the number of workers, and one worker writes the checkpoint. A tick whose chain does not
verify writes nothing and fails the job, which the worker logs; the next tick tries again."""

import logging
from typing import Any

from flask import Flask

from catalog.jobs import engine

logger = logging.getLogger(__name__)

CHECKPOINT_TASK = "catalog.audit_checkpoint"


def checkpoint_now(flask_app: Flask) -> dict[str, Any]:
    """Write a checkpoint of the chain's head (see catalog.changes.integrity.checkpoint)."""
    from catalog.changes.integrity import checkpoint

    with flask_app.app_context():
        written = checkpoint()
    if written is None:
        return {"seq": 0}
    logger.info("Audit checkpoint at chain position %s: %s", written.seq, written.name)
    return {"seq": written.seq, "file": written.name}


write_checkpoint = engine.tick_task(CHECKPOINT_TASK, checkpoint_now)


def schedule(cron: str) -> None:
    """Have this worker defer the checkpoint on `cron` (empty: never)."""
    engine.schedule(write_checkpoint, cron)
