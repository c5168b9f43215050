"""The read side of reports: the list, one report, its latest job, the earlier import of
the same file. Nothing here writes; service.py holds the rules."""

from sqlalchemy import Row, select
from sqlalchemy.dialects.postgresql import distinct_on

from catalog.extensions import db
from catalog.models import ProcessingQueue, Report, User

# The task type of a report's jobs, its check (mode "preview") and its import alike.
TASK = "report_import"


def recent(limit: int) -> list[Row[tuple[Report, str | None]]]:
    """The latest reports, newest first, each with its uploader's email."""
    return db.session.execute(
        select(Report, User.email)
        .outerjoin(User, User.id == Report.uploaded_by)
        .order_by(Report.id.desc())
        .limit(limit)
    ).all()


def report(report_id: int, *, lock: bool = False) -> Report | None:
    """The report, or None; `lock` takes its row lock (a confirmation reads it so)."""
    statement = select(Report).where(Report.id == report_id)
    if lock:
        statement = statement.with_for_update()
    return db.session.scalars(statement).first()


def uploader(report: Report) -> User | None:
    return db.session.get(User, report.uploaded_by) if report.uploaded_by else None


def latest_job(report: Report) -> ProcessingQueue | None:
    """The report's latest report_import job (its check or its import), if any."""
    return db.session.scalars(
        select(ProcessingQueue)
        .where(ProcessingQueue.report_id == report.id, ProcessingQueue.task_type == TASK)
        .order_by(ProcessingQueue.id.desc())
        .limit(1)
    ).first()


def latest_jobs(report_ids: list[int]) -> dict[int, ProcessingQueue]:
    """The latest report_import job of each report, in one query."""
    if not report_ids:
        return {}
    entries = db.session.scalars(
        select(ProcessingQueue)
        .where(ProcessingQueue.report_id.in_(report_ids), ProcessingQueue.task_type == TASK)
        .order_by(ProcessingQueue.report_id, ProcessingQueue.id.desc())
        .ext(distinct_on(ProcessingQueue.report_id))
    )
    return {entry.report_id: entry for entry in entries}


def duplicate_of(report: Report) -> Report | None:
    """The first completed report of the same file (same SHA-256), if any."""
    if not report.sha256:
        return None
    return db.session.scalars(
        select(Report)
        .where(Report.sha256 == report.sha256, Report.id != report.id, Report.status == "completed")
        .order_by(Report.id)
        .limit(1)
    ).first()
