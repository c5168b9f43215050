"""The review queue: the tasks waiting for review (queries.REVIEW) in claim order, for the
task page's `j`/`k` and the next task to open after a decision, and how many wait."""

from sqlalchemy import func, literal, select, text, tuple_
from sqlalchemy.dialects.postgresql import ARRAY

from catalog.extensions import db
from catalog.models.task import Task, TaskCount, task_priority, task_status
from catalog.production.queries import REVIEW


def _review_first(condition=None, *, descending: bool = False):
    """The id of the first task waiting for review in claim order (the last: `descending`)
    that meets `condition`, as a scalar subquery: each review state's head read from
    ix_tasks_board by a LATERAL, then the first of those (an IN list over the five states
    would sort all of their tasks)."""
    order = (Task.priority, Task.created_at, Task.id)
    if descending:
        order = tuple(column.desc() for column in order)
    wanted = select(func.unnest(literal(list(REVIEW), ARRAY(task_status))).label("status"))
    wanted = wanted.subquery()
    head = (
        select(Task.id, Task.priority, Task.created_at)
        .where(Task.status == wanted.c.status, *(() if condition is None else (condition,)))
        .order_by(*order)
        .limit(1)
        .lateral()
    )
    heads = (head.c.priority, head.c.created_at, head.c.id)
    return (
        select(head.c.id)
        .select_from(wanted)
        .join(head, text("true"))
        .order_by(*(column.desc() for column in heads) if descending else heads)
        .limit(1)
        .scalar_subquery()
    )


def review_neighbours(task: Task) -> tuple[int | None, int | None]:
    """The waiting-for-review tasks just before and just after `task` in claim order (the
    first and the last when `task` is not waiting itself): `k` and `j` on its page."""
    here = tuple_(Task.priority, Task.created_at, Task.id)
    bound = tuple_(
        literal(task.priority, task_priority), literal(task.created_at), literal(task.id)
    )
    row = db.session.execute(
        select(_review_first(here < bound, descending=True), _review_first(here > bound))
    ).one()
    return row[0], row[1]


def next_for_review(after: Task) -> int | None:
    """The task to open after a decision on `after`: the next one waiting for review in claim
    order, else the first one waiting (None: the review queue is empty)."""
    _previous, following = review_neighbours(after)
    if following is not None:
        return following
    return db.session.scalar(select(_review_first(Task.id != after.id)))


def waiting_for_review() -> int:
    """How many tasks wait for review (from the board's counts)."""
    return db.session.scalar(
        select(func.coalesce(func.sum(TaskCount.tasks), 0)).where(TaskCount.status.in_(REVIEW))
    )
