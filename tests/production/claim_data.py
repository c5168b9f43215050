"""Test data of the production rules and the claim: tasks in any state, pipeline workers.
Written through the session the factories use (tests/factories.py), or any given one."""

import itertools
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from catalog.models import PipelineWorker, Task
from catalog.models.task import STAGES
from tests import factories

_numbers = itertools.count(1)
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def page_id() -> str:
    return uuid.uuid4().hex


def make_task(channel, status: str = "queued", *, session=None, age: int | None = None, **values):
    """A task of `channel` inserted straight in `status` (inserts may start anywhere; only
    changes are checked). `age`: created `age` seconds after EPOCH, for FIFO order."""
    session = session or factories.state.session
    number = next(_numbers)
    if age is not None:
        values.setdefault("created_at", EPOCH + timedelta(seconds=age))
    task = Task(
        channel_id=channel.id if hasattr(channel, "id") else channel,
        notion_page_id=page_id(),
        title=values.pop("title", f"Task {number}"),
        status=status,
        **values,
    )
    session.add(task)
    session.flush()
    return task


def make_worker(name: str | None = None, stages=STAGES, *, session=None) -> PipelineWorker:
    session = session or factories.state.session
    worker = PipelineWorker(
        name=name or f"worker-{uuid.uuid4().hex[:8]}",
        token_hash=secrets.token_hex(32),
        stages=list(stages),
    )
    session.add(worker)
    session.flush()
    return worker
