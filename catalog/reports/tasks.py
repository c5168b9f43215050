"""The `report_import` job: checks (payload mode "preview") or imports one report.

Registered with the job engine when this package is imported (create_app imports every
blueprint, so the worker has it). The engine runs the handler inside the job's transaction
and commits after it returns; the import is therefore all or nothing, and a retry after a
crash starts from a clean slate.
"""

import logging
import time
from datetime import UTC, datetime

from sqlalchemy import text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from catalog.extensions import db
from catalog.jobs import PermanentError, task
from catalog.models import ProcessingQueue, Report, User
from catalog.reports import service
from catalog.reports.formats import ReportFileError

logger = logging.getLogger(__name__)

PROGRESS_EVERY = 1.0  # seconds between two progress writes


class Visible:
    """Writes people must see while the import's transaction is still open (processing,
    progress, a failed attempt): on a connection of its own, committed at once.

    The import's transaction leaves the report's row alone until its very end, so these
    writes never wait for it; a lock timeout makes sure of it all the same. Under the test
    suite's fixtures the app has one connection only (its transaction is the test's), and
    these writes are skipped."""

    def __init__(self, report_id: int):
        self.report_id = report_id
        self.last = 0.0

    def write(self, *where, **values) -> None:
        engine = db.engine
        if not isinstance(engine, Engine):
            return
        try:
            with engine.connect() as connection:
                connection.execute(text("SET LOCAL lock_timeout = '2s'"))
                connection.execute(
                    update(Report).where(Report.id == self.report_id, *where).values(**values)
                )
                connection.commit()
        except DBAPIError as exc:  # progress is a courtesy; the import goes on
            logger.warning("Report %s: could not record %s: %s", self.report_id, values, exc)

    def progress(self, rows_total: int | None):
        """A callback for the import's reading phase: rows read so far, about."""

        def report(fraction: float) -> None:
            now = time.monotonic()
            if rows_total and now - self.last >= PROGRESS_EVERY:
                self.last = now
                self.write(rows_done=int(fraction * rows_total))

        return report


@task(service.TASK)
def import_report(entry: ProcessingQueue) -> dict:
    """Check or import the report the entry names; the result says what it did."""
    report_id = int(entry.payload["report_id"])
    report = db.session.get(Report, report_id)
    if report is None:
        raise PermanentError(f"Report {report_id} no longer exists.")
    if entry.payload.get("mode") == "preview":
        outcome = service.preview_report(report)
        if outcome is None:
            return {"mode": "preview", "error": report.error_message}
        return {"mode": "preview", "rows": outcome.rows, "invalid": outcome.invalid}
    actor = db.session.get(User, entry.created_by) if entry.created_by else None
    visible = Visible(report_id)
    visible.write(
        Report.status != "completed",
        status="processing", started_at=datetime.now(UTC), rows_done=0, error_message=None,
    )  # fmt: skip
    try:
        applied = service.apply_report(
            report, actor=actor, progress=visible.progress(report.rows_total)
        )
    except ReportFileError as exc:  # the file will not get better by trying again
        db.session.rollback()
        visible.write(status="error", error_message=str(exc), processed_at=datetime.now(UTC))
        raise PermanentError(str(exc)) from exc
    except Exception as exc:
        db.session.rollback()
        visible.write(
            Report.status != "completed",
            status="pending",
            error_message=f"The last attempt failed and changed nothing ({exc}); "
            "the queue tries again.",
        )
        raise
    if applied.already_done:
        return {"report_id": report_id, "already_imported": True}
    if applied.duplicate_of is not None:
        return {"report_id": report_id, "duplicate_of": applied.duplicate_of.id}
    outcome = applied.outcome
    return {
        "report_id": report_id, "rows": outcome.rows, "created": outcome.created,
        "updated": outcome.updated, "unchanged": outcome.unchanged, "invalid": outcome.invalid,
        "batch_id": outcome.batch_id,
    }  # fmt: skip
