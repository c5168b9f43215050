"""The read side of the Queue page: entries newest first, filtered, keyset-paged by id."""

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import aliased

from catalog.extensions import db
from catalog.models import ProcessingQueue, Report, User, Video
from catalog.models.queue import QUEUE_STATUSES, TASK_TYPES

PAGE_SIZE = 50


@dataclass(frozen=True)
class QueueFilters:
    status: str = ""
    task_type: str = ""
    after: int | None = None  # older than this id
    before: int | None = None  # newer than this id

    def args(self) -> dict[str, Any]:
        values = {"status": self.status, "type": self.task_type}
        return {key: value for key, value in values.items() if value}

    def page(self, **cursor: int) -> dict[str, Any]:
        return {**replace(self, after=None, before=None).args(), **cursor}

    def with_status(self, status: str) -> dict[str, Any]:
        return replace(self, status=status, after=None, before=None).args()


def parse_filters(args) -> QueueFilters:
    status = args.get("status", "")
    after, before = args.get("after", type=int), args.get("before", type=int)
    return QueueFilters(
        status=status if status in QUEUE_STATUSES else "",
        task_type=(args.get("type") or "").strip()[:50],
        # Ids are positive: another number points at no entry.
        after=after if after and after > 0 else None,
        before=before if before and before > 0 else None,
    )


def _conditions(filters: QueueFilters, *, with_status: bool = True) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if filters.task_type:
        found.append(ProcessingQueue.task_type == filters.task_type)
    if with_status and filters.status:
        found.append(ProcessingQueue.status == filters.status)
    return found


def status_counts(filters: QueueFilters) -> dict[str, int]:
    """Entries per status (for the task type filter, whatever the status filter)."""
    statement = (
        select(ProcessingQueue.status, func.count())
        .where(*_conditions(filters, with_status=False))
        .group_by(ProcessingQueue.status)
    )
    counts = dict.fromkeys(QUEUE_STATUSES, 0)
    counts.update((status, count) for status, count in db.session.execute(statement))
    return counts


def task_types() -> list[str]:
    """The standard task types and any other type the queue holds, for the filter menu."""
    present = db.session.scalars(select(ProcessingQueue.task_type).distinct())
    return sorted(set(TASK_TYPES) | set(present))


@dataclass
class QueueRow:
    entry: ProcessingQueue
    video_key: str | None
    video_title: str | None
    report_name: str | None
    created_by_email: str | None


@dataclass
class QueuePage:
    rows: list[QueueRow]
    newer: int | None
    older: int | None


def queue_page(filters: QueueFilters, size: int = PAGE_SIZE) -> QueuePage:
    """Newest first by id; `after` walks to older entries, `before` to newer ones."""
    backwards = filters.before is not None
    creator = aliased(User)
    statement = (
        select(ProcessingQueue, Video.video_id, Video.title, Report.original_name, creator.email)
        .outerjoin(Video, Video.id == ProcessingQueue.video_id)
        .outerjoin(Report, Report.id == ProcessingQueue.report_id)
        .outerjoin(creator, creator.id == ProcessingQueue.created_by)
        .where(*_conditions(filters))
    )
    if backwards:
        statement = statement.where(ProcessingQueue.id > filters.before)
        statement = statement.order_by(ProcessingQueue.id)
    else:
        if filters.after is not None:
            statement = statement.where(ProcessingQueue.id < filters.after)
        statement = statement.order_by(ProcessingQueue.id.desc())
    rows = [QueueRow(*row) for row in db.session.execute(statement.limit(size + 1))]
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    cursor = filters.before or filters.after
    has_newer = more if backwards else cursor is not None
    has_older = cursor is not None if backwards else more
    newer = rows[0].entry.id if rows and has_newer else None
    older = rows[-1].entry.id if rows and has_older else None
    return QueuePage(rows, newer, older)


def entry_for_update(entry_id: int) -> ProcessingQueue | None:
    """The entry, row-locked for a change; None when missing or locked by a running job
    (whose worker holds the lock until its transaction ends)."""
    statement = (
        select(ProcessingQueue)
        .where(ProcessingQueue.id == entry_id)
        .with_for_update(skip_locked=True)
    )
    return db.session.scalars(statement).first()
