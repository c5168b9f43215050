"""The handler of each task type: the table the runner (catalog.jobs.runner) reads when a
job runs. Handlers are added by the @task decorator (catalog.jobs.tasks), which also makes
the task type's procrastinate task; that side lives there so that this table depends on
neither the runner nor the engine (the runner imports it, and the task's body is the runner).
"""

from collections.abc import Callable
from typing import Any

from catalog.models.queue import TASK_TYPES

Handler = Callable[[Any], dict | None]

_handlers: dict[str, Handler] = {}


def add(task_type: str, handler: Handler) -> None:
    """Make `handler` the handler of `task_type`; a second, different handler is refused."""
    if task_type in _handlers and _handlers[task_type] is not handler:
        raise ValueError(f"Task type {task_type!r} already has a handler")
    _handlers[task_type] = handler


def handler_for(task_type: str) -> Handler:
    try:
        return _handlers[task_type]
    except KeyError:
        raise LookupError(
            f"No handler for task type {task_type!r} in this worker "
            "(is its module imported by create_app or listed in JOB_MODULES?)"
        ) from None


def is_known(task_type: str) -> bool:
    """A task type that enqueue accepts: a standard one, or one with a handler."""
    return task_type in TASK_TYPES or task_type in _handlers


# Called by every worker as it starts, with the app's settings: where a module registers its
# periodic jobs (procrastinate's cron), which depend on the settings.
_on_worker_start: list[Callable[[Any], None]] = []


def on_worker_start(schedule: Callable[[Any], None]) -> Callable[[Any], None]:
    """Decorate a function of the app's config that every worker calls before it starts."""
    if schedule not in _on_worker_start:
        _on_worker_start.append(schedule)
    return schedule


def worker_start_hooks() -> list[Callable[[Any], None]]:
    return list(_on_worker_start)
