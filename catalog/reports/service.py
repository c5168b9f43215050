"""The rules for reports: upload, check (preview), confirm, import. Nothing here commits or
touches the request: the web, the command line and the worker share these functions, and
the caller owns the transaction.

A report's life:

    upload ─> pending, checking ─> pending, ready (preview stored) ─confirm─> pending, queued
          ─worker─> processing ─> completed          (or error, with the reason)

The preview runs in the request for a small file, in the background (a `report_import` job
with mode "preview") for a large one. Confirming enqueues the import job; the import runs
in one transaction (catalog.reports.importer), all or nothing.

Safety:
- The same file (by SHA-256) is imported once: once a report of it has completed, importing
  it again changes nothing and says so (the preview warns before).
- One import of a file at a time: the import holds a transaction-level advisory lock keyed
  by the file's SHA-256 (so also by report), then re-reads the report's status; a second
  worker on the same report waits, then sees it completed and does nothing.
- A worker killed mid-import leaves nothing applied (one transaction); the job engine
  hands the job to another worker, which imports the report again from the start.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO

from flask import current_app
from sqlalchemy import func, select

from catalog import jobs
from catalog.extensions import db
from catalog.models import ProcessingQueue, Report, User
from catalog.reports import importer
from catalog.reports.formats import ReportFileError
from catalog.reports.queries import TASK, duplicate_of, latest_job
from catalog.reports.storage import Storage, StorageError, get_storage, suffix_of
from catalog.rules import RuleError

ACTIVE = ("pending", "processing")
# The advisory lock namespace of report imports ("RP"); the key is the file's checksum.
LOCK_NAMESPACE = 0x5250


class ReportStateError(RuleError):
    """The report is not in a state that allows this (e.g. confirming twice)."""


@dataclass(frozen=True)
class Applied:
    """What apply_report did: the import's outcome, or the earlier report that had
    imported the same file already (and then nothing was changed)."""

    outcome: importer.Outcome | None
    duplicate_of: Report | None = None
    already_done: bool = False


def _config(name: str) -> int:
    return int(current_app.config[name])


def _opener(report: Report, storage: Storage):
    return lambda: storage.open(report.storage_key)


# -- creating ---------------------------------------------------------------------------------


def create_report(
    stream: BinaryIO, original_name: str, *, actor: User | None, storage: Storage | None = None
) -> Report:
    """Store an uploaded file and add its Report (pending). StorageError when the store
    fails; ValueError for a name that is not .csv or .csv.gz."""
    suffix = suffix_of(original_name)
    if suffix is None:
        raise ValueError("Reports are .csv or .csv.gz files.")
    stored = (storage or get_storage()).save(stream, suffix)
    report = Report(
        storage_key=stored.key, original_name=original_name[:255], size=stored.size,
        sha256=stored.sha256, status="pending", uploaded_by=actor.id if actor else None,
    )  # fmt: skip
    db.session.add(report)
    db.session.flush()
    return report


def create_from_storage(key: str, *, actor: User | None, storage: Storage | None = None) -> Report:
    """Add a Report for a file already in the store (picked from S3). Its checksum is
    learnt when it is checked."""
    storage = storage or get_storage()
    if key not in {item.key for item in storage.available()}:
        raise StorageError(f"{key} is not a report in the bucket.")
    report = Report(
        storage_key=key, original_name=key.rsplit("/", 1)[-1][:255], size=storage.size(key),
        sha256="", status="pending", uploaded_by=actor.id if actor else None,
    )  # fmt: skip
    db.session.add(report)
    db.session.flush()
    return report


# -- checking -----------------------------------------------------------------------------------


def previews_inline(report: Report) -> bool:
    """Whether the check is quick enough to run in the request (else it is a job)."""
    return report.size <= _config("REPORTS_INLINE_PREVIEW_BYTES")


def request_preview(report: Report, *, actor: User | None) -> ProcessingQueue | None:
    """Check the report now when it is small, else enqueue the check; the entry if queued."""
    if previews_inline(report):
        preview_report(report)
        return None
    return jobs.enqueue(
        TASK, {"report_id": report.id, "mode": "preview"}, report_id=report.id, actor=actor
    )


def preview_report(report: Report, *, storage: Storage | None = None, progress=None):
    """Work out what importing the report would do and keep it on the report (preview, row
    errors); nothing else changes. A bad file puts the report in error, with the reason.
    Returns the outcome, or None for a bad file."""
    storage = storage or get_storage()
    try:
        outcome = importer.preview(
            _opener(report, storage), max_bytes=_config("REPORTS_MAX_UNCOMPRESSED_BYTES"),
            expected_sha256=report.sha256 or None, size=report.size, progress=progress,
        )  # fmt: skip
    except (ReportFileError, StorageError) as exc:
        report.status = "error"
        report.error_message = str(exc)
        report.preview = None
        db.session.flush()
        return None
    report.sha256 = outcome.sha256
    report.format = outcome.format
    report.rows_total = outcome.rows
    report.row_errors = outcome.errors
    preview = outcome.as_preview()
    earlier = duplicate_of(report)
    preview["duplicate_of"] = earlier.id if earlier else None
    report.preview = preview
    db.session.flush()
    return outcome


# -- state --------------------------------------------------------------------------------------


def state(report: Report, job: ProcessingQueue | None = None) -> str:
    """checking, ready, queued, processing, completed or error: what a person sees, from
    the report and its latest job (queries.latest_job). A job that failed for good shows as an
    error; a cancelled import leaves the report ready to confirm again."""
    if report.status in ("completed", "error"):
        return report.status
    if job is not None and job.status == "failed":
        return "error"
    importing = job is not None and job.payload.get("mode") != "preview"
    if importing and job.status == "pending":
        return "queued"
    if report.status == "processing" or (importing and job.status == "processing"):
        return "processing"
    if report.preview is None:
        return "error" if job is not None and job.status == "cancelled" else "checking"
    return "ready"


def error_message(report: Report, job: ProcessingQueue | None = None) -> str | None:
    """Why the report is in error, or what went wrong with the last attempt."""
    if job is not None and job.status in ("failed", "cancelled") and report.status != "error":
        return job.error_message or f"The job was {job.status}."
    return report.error_message


# -- importing ----------------------------------------------------------------------------------


def nothing_to_import(report: Report) -> str | None:
    """Why importing the checked report would change nothing (so it is not offered), or
    None when it would change something."""
    preview = report.preview or {}
    if preview.get("duplicate_of"):
        return (
            f"This exact file has been imported already (report #{preview['duplicate_of']}); "
            "importing it again changes nothing."
        )
    if any(preview.get(key) for key in CHANGES):
        return None
    if preview.get("videos"):
        return (
            "The catalog already has every video of the file as the file has it: nothing to import."
        )
    if preview.get("invalid"):
        return "No row of the file can be imported (see the invalid rows): nothing to import."
    return "The file has no rows to import."


# The preview counts that mean importing writes something.
CHANGES = ("created", "updated", "channels_created", "channels_renamed")


def confirm_report(report: Report, *, actor: User | None) -> ProcessingQueue:
    """Queue the import of a checked report. The caller holds the report's row lock (SELECT
    … FOR UPDATE), so two confirmations cannot both queue it. ReportStateError when the
    report is not ready, or importing it would change nothing."""
    current = state(report, latest_job(report))
    if current == "ready" and (reason := nothing_to_import(report)):
        raise ReportStateError(reason)
    if current != "ready":
        raise ReportStateError(
            {
                "checking": "The report is still being checked.",
                "queued": "The import is already queued.",
                "processing": "The report is being imported.",
                "completed": "The report has been imported already.",
                "error": "The report cannot be imported: " + (report.error_message or "error."),
            }[current]
        )
    return jobs.enqueue(TASK, {"report_id": report.id}, report_id=report.id, actor=actor)


def apply_report(
    report: Report,
    *,
    actor: User | None,
    storage: Storage | None = None,
    progress: importer.Progress | None = None,
) -> Applied:
    """Import the report in the caller's transaction and record the outcome on it.

    Takes the import lock of the report's file first, then re-reads the report: one that
    has completed meanwhile is left alone, and a file that another report has imported
    already changes nothing. ReportFileError for a bad file (nothing changed)."""
    storage = storage or get_storage()
    if not report.sha256:  # picked from the bucket: confirming needs its check first
        raise ReportStateError("The report has not been checked yet.")
    db.session.execute(
        select(func.pg_advisory_xact_lock(LOCK_NAMESPACE, func.hashtext(report.sha256)))
    )
    db.session.refresh(report)  # what other transactions committed while we waited
    if report.status == "completed":
        return Applied(None, already_done=True)
    earlier = duplicate_of(report)
    now = datetime.now(UTC)
    if earlier is not None:
        report.status = "completed"
        report.processed_at = now
        report.created_count = report.updated_count = report.unchanged_count = 0
        report.error_message = None
        report.preview = {**(report.preview or {}), "duplicate_of": earlier.id}
        db.session.flush()
        return Applied(None, duplicate_of=earlier)
    outcome = importer.apply(
        _opener(report, storage), actor=actor, report_id=report.id,
        max_bytes=_config("REPORTS_MAX_UNCOMPRESSED_BYTES"), expected_sha256=report.sha256,
        size=report.size, progress=progress,
    )  # fmt: skip
    # The report's row is written only now, at the end: its progress was written meanwhile
    # from another connection, which must never wait for this transaction.
    report.status = "completed"
    report.format = outcome.format
    report.rows_total = outcome.rows
    report.rows_done = outcome.rows
    report.created_count = outcome.created
    report.updated_count = outcome.updated
    report.unchanged_count = outcome.unchanged
    report.failed_count = outcome.invalid
    report.row_errors = outcome.errors
    report.error_message = None
    report.processed_at = now
    if report.started_at is None:
        report.started_at = now
    db.session.flush()
    return Applied(outcome)
