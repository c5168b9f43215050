"""Task types for tests only, registered through the same decorator as the real ones.

Both the test process and the worker processes it starts import this module (the workers
through tests/jobs/worker_app.py). Handlers that leave a trace write a row into
test_job_runs in the job's transaction, so a rolled-back attempt leaves none.
"""

import os
import time
from pathlib import Path

from sqlalchemy import text

from catalog.extensions import db
from catalog.jobs import PermanentError, task

RUNS_TABLE = """
CREATE TABLE IF NOT EXISTS test_job_runs (
    id bigserial PRIMARY KEY,
    entry_id bigint NOT NULL,
    pid integer NOT NULL,
    attempt integer NOT NULL
)
"""


def _ran(entry) -> None:
    db.session.execute(
        text("INSERT INTO test_job_runs (entry_id, pid, attempt) VALUES (:e, :p, :a)"),
        {"e": entry.id, "p": os.getpid(), "a": entry.retry_count},
    )


@task("test_echo")
def echo(entry) -> dict:
    _ran(entry)
    time.sleep(entry.payload.get("sleep", 0))
    return {"echo": entry.payload.get("message"), "pid": os.getpid()}


@task("test_flaky")
def flaky(entry) -> dict:
    """Fails (after writing its trace) until it has failed `fail_times` times."""
    _ran(entry)
    if entry.retry_count < entry.payload["fail_times"]:
        raise RuntimeError(f"planned failure {entry.retry_count + 1}")
    return {"succeeded_after": entry.retry_count}


@task("test_permanent")
def permanent(entry) -> None:
    raise PermanentError("this file can never be imported")


@task("test_slow")
def slow(entry) -> dict:
    """The first attempt says where it runs, then dawdles long enough to be killed."""
    _ran(entry)
    if entry.retry_count == 0:
        db.session.flush()
        Path(entry.payload["pid_file"]).write_text(str(os.getpid()))
        time.sleep(entry.payload["sleep"])
    return {"resumed": entry.retry_count > 0, "pid": os.getpid()}


CONFLICT_SQL = (
    "DO $$ BEGIN RAISE EXCEPTION 'planned conflict' USING ERRCODE = 'serialization_failure'; END $$"
)
_conflicts: dict[int, int] = {}  # entry id → conflicts raised so far, in this process


@task("test_conflicted")
def conflicted(entry) -> dict:
    """Loses a race (serialization failure, after writing its trace) `conflicts` times."""
    _ran(entry)
    raised = _conflicts.get(entry.id, 0)
    if raised < entry.payload["conflicts"]:
        _conflicts[entry.id] = raised + 1
        db.session.execute(text(CONFLICT_SQL))
    return {"conflicts": raised}


@task("test_busy")
def busy(entry) -> dict:
    """The first attempt says it has started, then keeps the database busy (short queries)
    for `seconds`; a retry returns at once."""
    _ran(entry)
    if entry.retry_count == 0:
        db.session.flush()
        Path(entry.payload["started_file"]).write_text(str(os.getpid()))
        deadline = time.monotonic() + entry.payload["seconds"]
        while time.monotonic() < deadline:
            db.session.execute(text("SELECT pg_sleep(0.05)"))
    return {"resumed": entry.retry_count > 0, "pid": os.getpid()}
