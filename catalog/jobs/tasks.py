"""Task types: the @task decorator, and one procrastinate task per type.

Each task type is one procrastinate task of the same name whose body is the runner
(catalog.jobs.runner); the runner looks the handler up in catalog.jobs.registry when the job
runs. The known types (models.queue.TASK_TYPES) are registered with the engine at import, so
jobs of a type whose handler module a process has not imported still defer, and fail visibly
("no handler") instead of vanishing, should a worker lack it.

Handler modules must be imported by the worker: from their blueprint package (create_app
imports every blueprint) or through JOB_MODULES in catalog.jobs.worker.
"""

from collections.abc import Callable

from procrastinate.job_context import JobContext

from catalog.jobs import engine, registry, runner
from catalog.jobs.registry import Handler
from catalog.models.queue import TASK_TYPES


def task(task_type: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of `task_type`.

    It is called in the worker with an app context and the ProcessingQueue entry, inside
    the job's transaction (committed by the runner after it returns, with the entry marked
    completed and its return value stored as the result). Raising fails the attempt: the
    runner rolls back, and the job is retried with backoff up to JOB_MAX_ATTEMPTS
    (PermanentError: not retried).
    """
    if not task_type or len(task_type) > 50:
        raise ValueError(f"A task type is 1 to 50 characters: {task_type!r}")

    def register(handler: Handler) -> Handler:
        registry.add(task_type, handler)
        _ensure_engine_task(task_type)
        return handler

    return register


def _ensure_engine_task(task_type: str) -> None:
    if task_type in engine.app.tasks:
        return

    def run_job(context: JobContext, entry_id: int, request_id: str | None = None) -> dict | None:
        return runner.run_job(context, entry_id, request_id)

    engine.app.task(
        name=task_type, pass_context=True, queue=engine.QUEUE, retry=engine.retry_policy
    )(run_job)


for _task_type in TASK_TYPES:
    _ensure_engine_task(_task_type)
