"""The board's bulk actions on a filtered set of tasks: queue the drafts, change the
priority, retry the errors. A person first sees the exact count (`count`); `apply` then
locks the set, refuses if it is no longer that count (someone changed it meanwhile), and
takes each task through the same step as one task would (service.move: the transition
table, the actor's right), with one batch id on all the audit rows."""

import uuid
from dataclasses import dataclass

from sqlalchemy import Select, func, select

from catalog import audit
from catalog.extensions import db
from catalog.models import Task, User
from catalog.models.task import TASK_PRIORITIES, TASK_STATUSES
from catalog.production import service
from catalog.production.transitions import ERRORS
from catalog.rules import RuleError

# action -> the states of the set it applies to (the others in the selection are left alone)
APPLIES_TO = {
    "queue": ("draft",),
    "retry": ERRORS,
    "priority": tuple(status for status in TASK_STATUSES if status != "published"),
}


@dataclass(frozen=True)
class BulkResult:
    count: int
    batch_id: uuid.UUID | None


def _target(action: str, selection: Select) -> Select:
    """The tasks of `selection` (a SELECT of task ids) that `action` applies to."""
    if action not in APPLIES_TO:
        raise RuleError(f"No bulk action {action!r}.")
    return select(Task).where(Task.id.in_(selection), Task.status.in_(APPLIES_TO[action]))


def count(action: str, selection: Select, *, priority: str | None = None) -> int:
    """How many tasks of the selection `action` would change, exactly."""
    statement = _target(action, selection)
    if action == "priority":
        statement = statement.where(Task.priority != priority)
    return db.session.scalar(select(func.count()).select_from(statement.subquery()))


def apply(
    action: str,
    selection: Select,
    *,
    expected: int,
    actor: User,
    priority: str | None = None,
    source: str = "bulk",
) -> BulkResult:
    """Apply `action` to the selection's tasks it applies to, which must be `expected` in
    number (the count the person confirmed); one audit batch. Refuses the whole set, and
    changes nothing, if any task refuses."""
    if action == "priority" and priority not in TASK_PRIORITIES:
        raise RuleError(f"The priority is one of {', '.join(TASK_PRIORITIES)}.", field="priority")
    service.require_editor(actor)
    statement = _target(action, selection)
    if action == "priority":
        statement = statement.where(Task.priority != priority)
    # Locked in id order: two bulk actions over overlapping sets wait, never deadlock.
    tasks = db.session.scalars(
        statement.order_by(Task.id).with_for_update().execution_options(populate_existing=True)
    ).all()
    if len(tasks) != expected:
        raise RuleError(
            f"The set has changed: {len(tasks)} tasks now, not {expected}. Nothing was "
            "changed; look at it again."
        )
    if not tasks:
        return BulkResult(0, None)
    batch_id = uuid.uuid4()
    rows = []
    for task in tasks:
        old = task.status
        if action == "priority":
            changes = {"priority": [task.priority, priority]}
            task.priority = priority
        else:
            new = "queued" if action == "queue" else task.failed_from
            if new is None:
                raise RuleError(f"Task {task.id} has no state to go back to.")
            service.check_transition(task, new, actor)
            task.status = new
            task.claimed_by = task.claimed_at = task.lease_expires_at = None
            changes = {"status": [old, new]}
        rows.append({
            **service.audit_row(task, changes, actor=actor, source=source),
            "batch_id": batch_id,
        })  # fmt: skip
    db.session.flush()
    audit.record_many(rows)
    return BulkResult(len(tasks), batch_id)
