"""The engine's parts in-process: enqueue in the caller's transaction, the runner keeping the
entry in step, the retry policy, the registry, the migration."""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import flask_migrate
import pytest
from procrastinate import exceptions as engine_errors
from procrastinate.jobs import Job
from sqlalchemy import inspect, text
from sqlalchemy.exc import OperationalError

from catalog import create_app
from catalog.extensions import db
from catalog.jobs import PermanentError, engine, enqueue, registry, task, worker
from catalog.jobs.runner import run_attempt
from catalog.models import MetadataSync, ProcessingQueue
from catalog.queue import service as queue_service
from tests.conftest import app_config
from tests.factories import UserFactory, VideoFactory
from tests.jobs import tasks


def _job(job_id: int) -> dict | None:
    row = db.session.execute(
        text(
            "SELECT task_name, queue_name, priority, args, status::text AS status, attempts"
            " FROM procrastinate_jobs WHERE id = :j"
        ),
        {"j": job_id},
    ).first()
    return row._asdict() if row else None


def test_enqueue_writes_entry_and_job_in_the_callers_transaction(app_ctx):
    user = UserFactory(roles=["editor"])
    video = VideoFactory()
    entry = enqueue(
        "metadata_sync", {"ids": [video.video_id]}, video_id=video.id, priority=2, actor=user
    )
    assert (entry.status, entry.task_type, entry.priority) == ("pending", "metadata_sync", 2)
    assert (entry.video_id, entry.created_by, entry.retry_count) == (video.id, user.id, 0)
    assert entry.payload == {"ids": [video.video_id]}
    assert _job(entry.job_id) == {
        "task_name": "metadata_sync", "queue_name": "catalog", "priority": 2,
        "args": {"entry_id": entry.id}, "status": "todo", "attempts": 0,
    }  # fmt: skip

    entry_id, job_id = entry.id, entry.job_id
    db.session.rollback()  # the caller's change fails: nothing of the work is left
    assert db.session.get(ProcessingQueue, entry_id) is None
    assert _job(job_id) is None


def test_enqueue_refuses_unknown_types_and_negative_priorities(app_ctx):
    with pytest.raises(ValueError, match="Unknown task type"):
        enqueue("no_such_task", {})
    with pytest.raises(ValueError, match="priority"):
        enqueue("metadata_sync", {}, priority=-1)


def test_registry_accepts_new_types_once():
    assert registry.is_known("test_echo")  # registered by tests/jobs/tasks.py
    assert "test_echo" in engine.app.tasks
    assert registry.handler_for("test_echo") is tasks.echo
    with pytest.raises(ValueError, match="already has a handler"):
        task("test_echo")(lambda entry: None)
    with pytest.raises(LookupError, match="No handler"):
        registry.handler_for("asset_enrichment_not_here")


def test_retry_policy_backs_off_exponentially_up_to_its_limits():
    policy = engine.RetryPolicy()
    policy.configure({"JOB_MAX_ATTEMPTS": 4, "JOB_RETRY_WAIT": 10, "JOB_RETRY_MAX_WAIT": 35})
    assert [policy.delay(n) for n in range(4)] == [10, 20, 35, 35]
    error = RuntimeError("boom")
    assert [policy.will_retry(error, n) for n in range(4)] == [True, True, True, False]
    assert not policy.will_retry(PermanentError("never"), 0)
    job = Job(id=1, queue="catalog", lock=None, queueing_lock=None, task_name="x", attempts=1)
    decision = policy.get_retry_decision(exception=error, job=job)
    assert decision is not None
    assert policy.get_retry_decision(exception=error, job=job.evolve(attempts=3)) is None


@pytest.fixture
def two_attempts(app):
    """The shared retry policy, as a worker configured with JOB_MAX_ATTEMPTS=2 has it."""
    engine.retry_policy.configure({**app.config, "JOB_MAX_ATTEMPTS": 2})
    yield
    engine.retry_policy.configure(app.config)


# It creates the test task's table, which only the schema's owner may do.
@pytest.mark.parametrize("db_owner", [True])
def test_runner_keeps_the_entry_in_step(app_ctx, two_attempts, db_owner):
    db.session.execute(text(tasks.RUNS_TABLE))
    entry = enqueue("test_flaky", {"fail_times": 1})
    entry_id, job_id = entry.id, entry.job_id
    db.session.commit()

    with pytest.raises(RuntimeError, match="planned failure 1"):
        run_attempt(entry_id, job_id=job_id, attempts=0)
    entry = db.session.get(ProcessingQueue, entry_id)
    assert (entry.status, entry.retry_count) == ("pending", 0)  # a retry is due
    assert entry.error_message == "RuntimeError: planned failure 1"
    assert entry.started_at is not None

    assert run_attempt(entry_id, job_id=job_id, attempts=1) == {"succeeded_after": 1}
    entry = db.session.get(ProcessingQueue, entry_id)
    assert (entry.status, entry.retry_count, entry.error_message) == ("completed", 1, None)
    assert entry.result == {"succeeded_after": 1}
    assert entry.completed_at >= entry.started_at
    runs = db.session.execute(
        text("SELECT attempt FROM test_job_runs WHERE entry_id = :e"), {"e": entry_id}
    )
    assert runs.scalars().all() == [1]  # the failed attempt's write was rolled back

    # A job that is not (or no longer) the entry's own does nothing.
    assert run_attempt(entry_id, job_id=job_id, attempts=2) is None
    assert run_attempt(entry_id, job_id=job_id + 1000, attempts=0) is None
    assert db.session.get(ProcessingQueue, entry_id).status == "completed"


@pytest.mark.parametrize("db_owner", [True])
def test_runner_runs_a_handler_that_lost_a_race_again_within_the_attempt(app_ctx, db_owner):
    db.session.execute(text(tasks.RUNS_TABLE))
    entry = enqueue("test_conflicted", {"conflicts": 2})
    entry_id, job_id = entry.id, entry.job_id
    db.session.commit()

    assert run_attempt(entry_id, job_id=job_id, attempts=0) == {"conflicts": 2}
    entry = db.session.get(ProcessingQueue, entry_id)
    # Not a failed attempt: no retry counted, no backoff, no error left on the entry.
    assert (entry.status, entry.retry_count, entry.error_message) == ("completed", 0, None)
    runs = db.session.execute(
        text("SELECT count(*) FROM test_job_runs WHERE entry_id = :e"), {"e": entry_id}
    )
    assert runs.scalar() == 1  # the two runs that lost were rolled back whole


@pytest.mark.parametrize("db_owner", [True])
def test_runner_gives_up_on_a_race_lost_every_time(app_ctx, two_attempts, db_owner):
    db.session.execute(text(tasks.RUNS_TABLE))
    entry = enqueue("test_conflicted", {"conflicts": 99})
    entry_id, job_id = entry.id, entry.job_id
    db.session.commit()
    with pytest.raises(OperationalError, match="planned conflict"):
        run_attempt(entry_id, job_id=job_id, attempts=0)
    entry = db.session.get(ProcessingQueue, entry_id)
    assert (entry.status, entry.retry_count) == ("pending", 0)  # the engine's retry is due
    assert "planned conflict" in entry.error_message


def test_runner_fails_the_entry_on_the_last_attempt(app_ctx, two_attempts):
    entry = enqueue("test_permanent", {})
    entry_id, job_id = entry.id, entry.job_id
    db.session.commit()
    with pytest.raises(PermanentError):
        run_attempt(entry_id, job_id=job_id, attempts=0)
    entry = db.session.get(ProcessingQueue, entry_id)
    assert entry.status == "failed"
    assert entry.completed_at is not None
    assert entry.error_message == "PermanentError: this file can never be imported"


def test_cancel_and_retry_change_entry_and_job_together(app_ctx):
    user = UserFactory(roles=["editor"])
    entry = enqueue("test_echo", {})
    old_job = entry.job_id

    queue_service.cancel_entry(entry, actor=user)
    assert entry.status == "cancelled"
    assert _job(old_job)["status"] == "cancelled"
    with pytest.raises(queue_service.QueueError, match="Only pending"):
        queue_service.cancel_entry(entry, actor=user)

    new_job = queue_service.retry_entry(entry, actor=user)
    assert (entry.status, entry.job_id) == ("pending", new_job)
    assert _job(new_job)["status"] == "todo"
    with pytest.raises(queue_service.QueueError, match="Only failed or cancelled"):
        queue_service.retry_entry(entry, actor=user)

    history = db.session.scalars(
        db.select(MetadataSync)
        .where(MetadataSync.entity_type == "queue_entry", MetadataSync.entity_id == entry.id)
        .order_by(MetadataSync.id)
    ).all()
    assert [row.changes["status"] for row in history] == [
        ["pending", "cancelled"], ["cancelled", "pending"],
    ]  # fmt: skip
    assert history[1].changes["job_id"] == [old_job, new_job]
    assert {row.user_id for row in history} == {user.id}


def test_a_started_job_cannot_be_cancelled(app_ctx):
    entry = enqueue("test_echo", {})
    db.session.execute(
        text("UPDATE procrastinate_jobs SET status = 'doing' WHERE id = :j"), {"j": entry.job_id}
    )
    with pytest.raises(queue_service.QueueError, match="just started"):
        queue_service.cancel_entry(entry, actor=None)


def test_worker_settings():
    assert worker.stalled_check_cron(1) == "* * * * * */1"
    assert worker.stalled_check_cron(60) == "*/1 * * * *"
    assert worker.stalled_check_cron(300) == "*/5 * * * *"
    url = "postgresql+psycopg://catalog:s3cret@db.example:5433/catalog?sslmode=require"
    assert (
        worker.conninfo(url)
        == "postgresql://catalog:s3cret@db.example:5433/catalog?sslmode=require"
    )
    defaults = engine.RetryPolicy()  # 5 attempts, 10 s doubling
    assert [timedelta(seconds=defaults.delay(n)) for n in range(3)] == [
        timedelta(seconds=10), timedelta(seconds=20), timedelta(seconds=40),
    ]  # fmt: skip


def test_reconnecting_backs_off_doubling_up_to_its_limit():
    backoff = worker.Backoff(1, 30)
    assert [backoff.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_a_worker_failing_again_and_again_backs_off_instead_of_spinning():
    """The database answers, yet the worker fails at once each time: the supervisor pauses
    longer and longer between starts (the first loss, a restart, costs no pause)."""

    class Failing(worker.Supervisor):
        starts, pauses = 0, []

        async def reachable(self) -> bool:
            return True

        async def serve(self) -> bool:
            self.starts += 1
            if self.starts < 5:
                raise engine_errors.ConnectorException("planned")
            return True

        async def pause(self, seconds: float) -> None:
            self.pauses.append(seconds)

        def catch_signals(self, loop) -> None:
            pass  # signal handlers belong to the main thread; this runs in another one

    supervisor = Failing("", pool_size=1, pool_timeout=5, backoff=worker.Backoff(1, 30), options={})
    # In a thread of its own: this thread may already run an event loop (Playwright's sync
    # API keeps one while the browser tests' browser is open in the same test process).
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, supervisor.run()).result(timeout=60)
    assert (supervisor.starts, supervisor.pauses) == (5, [1, 2, 4])


def test_a_dead_workers_entry_is_put_back_or_failed(app, app_ctx):
    entries = [enqueue("test_echo", {}) for _ in range(2)]
    for entry in entries:
        entry.status = "processing"
    ids = [(entry.id, entry.job_id) for entry in entries]
    db.session.commit()

    def stalled_job(entry_id: int, job_id: int, attempts: int) -> Job:
        return Job(
            id=job_id, queue="catalog", lock=None, queueing_lock=None, task_name="test_echo",
            task_kwargs={"entry_id": entry_id}, attempts=attempts,
        )  # fmt: skip

    assert worker._entry_stalled(app, stalled_job(*ids[0], attempts=0), final=False)
    assert worker._entry_stalled(app, stalled_job(*ids[1], attempts=4), final=True)
    again, failed = (db.session.get(ProcessingQueue, entry_id) for entry_id, _ in ids)
    db.session.refresh(again)
    db.session.refresh(failed)
    assert again.status == "pending"
    assert again.error_message == "The worker running this job stopped responding (attempt 1)."
    assert failed.status == "failed"
    assert failed.completed_at is not None
    # Another job's stall, or a job without an entry, changes no entry.
    assert worker._entry_stalled(app, stalled_job(ids[0][0], ids[0][1] + 99, 0), final=True)
    assert db.session.get(ProcessingQueue, ids[0][0]).status == "pending"


def test_migration_installs_and_removes_the_engine_schema(postgres):
    postgres.drop_database("catalog_jobs_schema")
    postgres.create_database("catalog_jobs_schema")
    app = create_app(app_config(postgres.url("catalog_jobs_schema")))

    def engine_objects() -> dict[str, int]:
        counts = {}
        for kind, query in {
            "functions": "SELECT count(*) FROM pg_proc WHERE proname LIKE 'procrastinate%'",
            "types": "SELECT count(*) FROM pg_type WHERE typname LIKE 'procrastinate%'",
        }.items():
            counts[kind] = db.session.scalar(text(query))
        tables = [t for t in inspect(db.engine).get_table_names() if t.startswith("procrastinate")]
        counts["tables"] = len(tables)
        db.session.rollback()
        return counts

    with app.app_context():
        flask_migrate.upgrade()
        installed = engine_objects()
        assert installed["tables"] == 4
        assert installed["functions"] > 10
        flask_migrate.downgrade(revision="0007")
        assert engine_objects() == {"functions": 0, "types": 0, "tables": 0}
        flask_migrate.upgrade()
        assert engine_objects() == installed
        db.session.remove()
        db.engine.dispose()
    postgres.drop_database("catalog_jobs_schema")
