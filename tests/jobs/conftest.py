"""Real worker processes on a database of their own (committed data), and waiting for them.

`start_worker()` runs `flask --app tests.jobs.worker_app catalog worker` as a subprocess
with short polling, heartbeat and backoff settings; each is stopped at the end of the test
(or module) that started it, and its log is printed when a test fails.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from catalog import create_app
from catalog.extensions import db
from catalog.models import ProcessingQueue
from catalog.pgserver import as_owner
from tests.conftest import app_config, migrated_database, start_cluster, stop_cluster
from tests.helpers import wait_for
from tests.jobs import tasks

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))
JOB_SETTINGS = {
    "JOB_MAX_ATTEMPTS": "3",
    "JOB_RETRY_WAIT": "0.2",  # backoff: 0.2 s, then 0.4 s
    "JOB_RETRY_MAX_WAIT": "5",
    "JOB_POLL_INTERVAL": "0.2",
    "JOB_HEARTBEAT_INTERVAL": "0.5",
    "JOB_STALLED_TIMEOUT": "2",
    "JOB_STALLED_CHECK_INTERVAL": "1",
    "JOB_POOL_TIMEOUT": "2",  # the database's loss noticed sooner than in production (5 s)
    "JOB_WORKER_CONCURRENCY": "1",
}


@pytest.fixture(scope="session")
def jobs_url(postgres) -> str:
    url = migrated_database(postgres, "catalog_jobs")
    engine = create_engine(as_owner(url))  # only the schema's owner may create a table
    with engine.begin() as connection:
        connection.execute(text(tasks.RUNS_TABLE))
    engine.dispose()
    return url


@pytest.fixture
def private_postgres():
    """A cluster of the test's own, migrated, for a test that stops and starts it: the
    session's cluster serves every other test meanwhile. (cluster, database URL)"""
    server = start_cluster()  # with the migrated template, as the session's
    try:
        url = migrated_database(server, "catalog_jobs")
        engine = create_engine(as_owner(url))  # only the schema's owner may create a table
        with engine.begin() as connection:
            connection.execute(text(tasks.RUNS_TABLE))
        engine.dispose()
        yield server, url
    finally:
        stop_cluster(server)


@pytest.fixture(scope="session")
def jobs_app(jobs_url):
    config = {key: _num(value) for key, value in JOB_SETTINGS.items()}
    return create_app({**app_config(jobs_url), **config})


def _num(value: str) -> int | float:
    return float(value) if "." in value else int(value)


class Workers:
    """Worker processes of the app module `app` (a module path for `flask --app`) on the
    database at `url`, with the short job settings and `env`; logs in `logs`."""

    def __init__(self, url: str, logs: Path, app: str = "tests.jobs.worker_app", **env: str):
        self.url, self.logs, self.app, self.env = url, logs, app, env
        self.processes: list[subprocess.Popen] = []

    def start(self, **env: str) -> subprocess.Popen:
        environment = {
            **os.environ, **JOB_SETTINGS, **self.env, **env,
            "DATABASE_URL": self.url, "PYTHONUNBUFFERED": "1",
        }  # fmt: skip
        log = self.logs / f"worker-{len(self.processes) + 1}.log"
        process = subprocess.Popen(  # noqa: S603  (our own venv's flask, fixed arguments)
            [FLASK, "--app", self.app, "catalog", "worker"],
            cwd=ROOT, env=environment, stdout=log.open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        process.log = log
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def dump(self) -> None:
        for process in self.processes:
            print(f"---- {process.log.name} (pid {process.pid}) ----")
            print(process.log.read_text()[-6000:])


@pytest.fixture
def workers(jobs_url, tmp_path):
    """Start worker processes for this test: workers.start(). Their logs are printed at the
    end, which pytest shows only when the test fails."""
    pool = Workers(jobs_url, tmp_path)
    yield pool
    pool.stop_all()
    pool.dump()


def entry_state(app, entry_id: int) -> ProcessingQueue:
    """The entry as committed now, detached."""
    with app.app_context():
        entry = db.session.get(ProcessingQueue, entry_id)
        db.session.expunge(entry)
        return entry


def wait_for_status(app, entry_id: int, *statuses: str, timeout: float = 15) -> ProcessingQueue:
    return wait_for(
        lambda: (e := entry_state(app, entry_id)).status in statuses and e,
        timeout,
        f"entry {entry_id} to become {' or '.join(statuses)}",
    )


def runs(app, entry_id: int) -> list[tuple[int, int]]:
    """(pid, attempt) of each committed run of a test task for the entry."""
    with app.app_context():
        rows = db.session.execute(
            text("SELECT pid, attempt FROM test_job_runs WHERE entry_id = :e ORDER BY id"),
            {"e": entry_id},
        )
        return [tuple(row) for row in rows]


def wait_for_job(app, job_id: int, status: str, timeout: float = 15) -> dict:
    """The engine's job row once it has `status`. The engine records a job's end in a
    transaction of its own, after the handler's commit that ended the entry: reading the row
    as soon as the entry changes can find the job still `doing`."""
    return wait_for(
        lambda: (row := job_row(app, job_id)) is not None and row["status"] == status and row,
        timeout,
        f"job {job_id} to become {status}",
    )


def job_row(app, job_id: int) -> dict | None:
    with app.app_context():
        row = db.session.execute(
            text("SELECT status::text AS status, attempts FROM procrastinate_jobs WHERE id = :j"),
            {"j": job_id},
        ).first()
        return row._asdict() if row else None
