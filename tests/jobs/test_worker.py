"""End to end, with real worker processes (`flask catalog worker`) on a committed database."""

import os
import signal
from datetime import timedelta

from sqlalchemy import create_engine, select, text

from catalog import create_app
from catalog.extensions import db
from catalog.jobs import enqueue
from catalog.models import ProcessingQueue
from catalog.queue import service as queue_service
from tests.conftest import app_config
from tests.jobs.conftest import (
    JOB_SETTINGS,
    Workers,
    _num,
    job_row,
    runs,
    wait_for,
    wait_for_job,
    wait_for_status,
)


def _enqueue(app, task_type: str, payload: dict, **options) -> ProcessingQueue:
    with app.app_context():
        entry = enqueue(task_type, payload, **options)
        db.session.commit()
        db.session.refresh(entry)
        db.session.expunge(entry)
        return entry


def test_a_job_runs_once_and_its_entry_completes(jobs_app, workers):
    workers.start()
    entry = _enqueue(jobs_app, "test_echo", {"message": "hello"}, priority=3)
    done = wait_for_status(jobs_app, entry.id, "completed")
    assert done.result["echo"] == "hello"
    assert done.result["pid"] == workers.processes[0].pid
    assert done.started_at is not None
    assert done.completed_at >= done.started_at
    assert (done.retry_count, done.error_message) == (0, None)
    assert runs(jobs_app, entry.id) == [(workers.processes[0].pid, 0)]
    # Succeeded jobs are not kept by the engine: the entry is the record.
    wait_for(lambda: job_row(jobs_app, entry.job_id) is None, 5, "the finished job to go")


def test_failed_attempts_retry_with_backoff_then_fail_and_run_again(jobs_app, workers):
    workers.start()
    # Fails on attempts 1, 2 and 3 (JOB_MAX_ATTEMPTS=3), would succeed on a fourth.
    entry = _enqueue(jobs_app, "test_flaky", {"fail_times": 3})
    failed = wait_for_status(jobs_app, entry.id, "failed")
    assert failed.retry_count == 2
    assert failed.error_message == "RuntimeError: planned failure 3"
    assert failed.completed_at is not None
    assert failed.result is None
    assert runs(jobs_app, entry.id) == []  # each failed attempt's writes were rolled back
    assert wait_for_job(jobs_app, entry.job_id, "failed") == {"status": "failed", "attempts": 3}
    # Exponential backoff: each retry was scheduled twice as far out as the one before.
    delays = _retry_delays(jobs_app, entry.job_id)
    assert len(delays) == 2
    # The waits are 0.2 s then 0.4 s; the margins absorb a loaded machine's clock skew
    # between the worker computing the time and PostgreSQL stamping the event.
    assert timedelta(seconds=0.1) < delays[0] < timedelta(seconds=0.45)
    assert timedelta(seconds=0.3) < delays[1] < timedelta(seconds=0.7)
    assert delays[1] - delays[0] > timedelta(seconds=0.1)  # doubled, not constant

    # Staff run it again: a new job with fresh attempts; the count of retries goes on.
    with jobs_app.app_context():
        locked = db.session.get(ProcessingQueue, entry.id, with_for_update=True)
        new_job = queue_service.retry_entry(locked, actor=None)
        db.session.commit()
    assert new_job != entry.job_id
    done = wait_for_status(jobs_app, entry.id, "completed")
    assert done.retry_count == 3
    assert done.result == {"succeeded_after": 3}
    assert done.error_message is None
    assert [attempt for _pid, attempt in runs(jobs_app, entry.id)] == [3]


def test_a_flaky_job_recovers_on_a_retry(jobs_app, workers):
    workers.start()
    entry = _enqueue(jobs_app, "test_flaky", {"fail_times": 1})
    done = wait_for_status(jobs_app, entry.id, "completed")
    assert (done.retry_count, done.result) == (1, {"succeeded_after": 1})


def test_a_permanent_error_is_not_retried(jobs_app, workers):
    workers.start()
    entry = _enqueue(jobs_app, "test_permanent", {})
    failed = wait_for_status(jobs_app, entry.id, "failed")
    assert failed.retry_count == 0
    assert failed.error_message == "PermanentError: this file can never be imported"
    assert wait_for_job(jobs_app, entry.job_id, "failed") == {"status": "failed", "attempts": 1}


def test_rollback_leaves_neither_entry_nor_job(jobs_app, jobs_url):
    observer = create_engine(jobs_url)  # another connection, as a worker would see it

    def visible(entry_id: int, job_id: int) -> tuple[int, int]:
        with observer.connect() as connection:
            entries = connection.scalar(
                text("SELECT count(*) FROM processing_queue WHERE id = :i"), {"i": entry_id}
            )
            jobs = connection.scalar(
                text("SELECT count(*) FROM procrastinate_jobs WHERE id = :j"), {"j": job_id}
            )
            return entries, jobs

    with jobs_app.app_context():
        entry = enqueue("test_echo", {"message": "never"})
        entry_id, job_id = entry.id, entry.job_id
        # Inside the transaction both exist, and the job names its entry ...
        args = db.session.scalar(
            text("SELECT args FROM procrastinate_jobs WHERE id = :j"), {"j": job_id}
        )
        assert args == {"entry_id": entry_id}
        # ... but nobody else sees either before the commit,
        assert visible(entry_id, job_id) == (0, 0)
        db.session.rollback()
        # and after a rollback neither exists at all.
        assert db.session.get(ProcessingQueue, entry_id) is None
        assert visible(entry_id, job_id) == (0, 0)

        entry = enqueue("test_echo", {"message": "kept"})
        db.session.commit()
        assert visible(entry.id, entry.job_id) == (1, 1)
    observer.dispose()


def test_cancelled_work_never_runs_and_two_workers_share_the_rest(jobs_app, workers):
    with jobs_app.app_context():
        cancelled = enqueue("test_echo", {"message": "cancelled"})
        cancelled_id, cancelled_job = cancelled.id, cancelled.job_id
        db.session.commit()
        locked = db.session.get(ProcessingQueue, cancelled_id, with_for_update=True)
        queue_service.cancel_entry(locked, actor=None)
        db.session.commit()
        entries = [enqueue("test_echo", {"message": n, "sleep": 0.05}) for n in range(24)]
        ids = [entry.id for entry in entries]
        db.session.commit()
    first, second = workers.start(), workers.start()

    def all_done():
        with jobs_app.app_context():
            statuses = db.session.scalars(
                select(ProcessingQueue.status).where(ProcessingQueue.id.in_(ids))
            ).all()
            return all(status == "completed" for status in statuses)

    wait_for(all_done, 30, "every entry to complete")
    per_entry = {entry_id: runs(jobs_app, entry_id) for entry_id in ids}
    assert all(len(done) == 1 for done in per_entry.values()), per_entry  # once each
    pids = {pid for done in per_entry.values() for pid, _attempt in done}
    assert pids == {first.pid, second.pid}  # both took part
    assert entry_state_status(jobs_app, cancelled_id) == "cancelled"
    assert runs(jobs_app, cancelled_id) == []
    assert job_row(jobs_app, cancelled_job)["status"] == "cancelled"


def test_the_job_of_a_killed_worker_is_picked_up_again(jobs_app, workers, tmp_path):
    victim = workers.start()
    pid_file = tmp_path / "slow.pid"
    entry = _enqueue(jobs_app, "test_slow", {"pid_file": str(pid_file), "sleep": 60})
    wait_for(pid_file.exists, 15, "the slow job to start")
    assert int(pid_file.read_text()) == victim.pid
    assert wait_for_status(jobs_app, entry.id, "processing").retry_count == 0

    os.kill(victim.pid, signal.SIGKILL)  # no goodbye: no unregistering, no rollback sent
    victim.wait()
    rescuer = workers.start()
    done = wait_for_status(jobs_app, entry.id, "completed", timeout=20)
    assert done.result == {"resumed": True, "pid": rescuer.pid}
    assert done.retry_count == 1
    assert done.error_message is None
    # The killed attempt's writes died with its transaction; the rerun's are there.
    assert runs(jobs_app, entry.id) == [(rescuer.pid, 1)]


def entry_state_status(app, entry_id: int) -> str:
    with app.app_context():
        return db.session.get(ProcessingQueue, entry_id).status


def _retry_delays(app, job_id: int) -> list[timedelta]:
    """For each retry: how long after the failed attempt it was scheduled to run (the
    engine's events record both: `scheduled` events carry the time it was scheduled for)."""
    with app.app_context():
        events = db.session.execute(
            text("SELECT type::text, at FROM procrastinate_events WHERE job_id = :j ORDER BY id"),
            {"j": job_id},
        ).all()
    failed = [at for kind, at in events if kind == "deferred_for_retry"]
    scheduled = [at for kind, at in events if kind == "scheduled"]
    return [when - at for at, when in zip(failed, scheduled, strict=True)]


def test_the_worker_outlives_a_restart_of_the_database(private_postgres, tmp_path):
    server, url = private_postgres
    app = create_app({**app_config(url), **{k: _num(v) for k, v in JOB_SETTINGS.items()}})
    pool = Workers(url, tmp_path, JOB_RECONNECT_WAIT="0.2", JOB_RECONNECT_MAX_WAIT="1")
    try:
        worker = pool.start()
        before = _enqueue(app, "test_echo", {"message": "before"})
        assert wait_for_status(app, before.id, "completed").result["pid"] == worker.pid
        started = tmp_path / "busy.started"
        busy = _enqueue(app, "test_busy", {"started_file": str(started), "seconds": 60})
        wait_for(started.exists, 15, "the busy job to start")

        server.stop()  # a fast shutdown: every connection is cut, the busy job's too
        wait_for(
            lambda: "Database unreachable (attempt 3)" in worker.log.read_text(),
            30, "the worker to try the database again, and again",
        )  # fmt: skip
        assert worker.poll() is None  # still there, waiting for the database
        server.start()

        after = _enqueue(app, "test_echo", {"message": "after"})
        done = wait_for_status(app, after.id, "completed", timeout=30)
        assert done.result == {"echo": "after", "pid": worker.pid}  # the same process
        # The job cut off by the restart is run again (by the stalled-job check), once.
        resumed = wait_for_status(app, busy.id, "completed", timeout=30)
        assert resumed.result == {"resumed": True, "pid": worker.pid}
        assert resumed.retry_count == 1
        assert runs(app, busy.id) == [(worker.pid, 1)]  # the cut attempt left nothing
        assert worker.poll() is None
        log = worker.log.read_text()
        # Backoff: the waits between attempts grow (0.2 s, 0.4 s, 0.8 s, then 1 s at most).
        assert "trying again in 0.2 s" in log
        assert "trying again in 0.4 s" in log
        assert "Database reachable again after" in log
    finally:
        pool.stop_all()
        pool.dump()
        with app.app_context():
            db.engine.dispose()
    assert worker.returncode == 0  # a SIGTERM is still a clean stop
