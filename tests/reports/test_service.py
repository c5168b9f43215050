"""Reports as staff see them: upload, check, confirm, the job, the same file twice."""

import hashlib

import pytest
from sqlalchemy import func, select

from catalog.extensions import db
from catalog.jobs import PermanentError
from catalog.models import MetadataSync, ProcessingQueue, Video
from catalog.reports import queries, service, tasks
from catalog.reports.storage import get_storage
from tests.factories import UserFactory
from tests.reports.conftest import sample

A2 = "youtube_video_report_a2.csv"


def upload(name: str = A2, actor=None):
    with sample(name).open("rb") as stream:
        return service.create_report(stream, name, actor=actor)


def audit_count(**where) -> int:
    statement = select(func.count()).select_from(MetadataSync)
    for key, value in where.items():
        statement = statement.where(getattr(MetadataSync, key) == value)
    return db.session.scalar(statement)


def test_an_upload_is_stored_with_its_size_and_checksum(app_ctx, reports_dir):
    editor = UserFactory(roles=["editor"])
    report = upload(actor=editor)
    data = sample(A2).read_bytes()
    assert (report.size, report.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert (report.status, report.uploaded_by, report.original_name) == ("pending", editor.id, A2)
    assert (reports_dir / report.storage_key).read_bytes() == data
    with get_storage().open(report.storage_key) as stored:
        assert stored.read() == data


def test_only_csv_and_csv_gz_are_accepted(app_ctx, reports_dir):
    with pytest.raises(ValueError, match=r"\.csv or \.csv\.gz"):
        service.create_report(sample(A2).open("rb"), "report.xlsx", actor=None)


def test_a_small_report_is_checked_at_once_and_the_preview_kept(app_ctx, reports_dir):
    report = upload()
    assert service.request_preview(report, actor=None) is None  # inline, no job
    assert service.state(report) == "ready"
    assert report.preview["created"] == 4
    assert report.preview["duplicate_of"] is None
    assert report.rows_total == 7
    assert [e["row"] for e in report.row_errors] == [6, 7]
    assert db.session.scalar(select(func.count()).select_from(Video)) == 0


def test_a_large_report_is_checked_by_a_job(app, app_ctx, reports_dir, monkeypatch):
    monkeypatch.setitem(app.config, "REPORTS_INLINE_PREVIEW_BYTES", 10)
    report = upload()
    entry = service.request_preview(report, actor=None)
    assert (entry.task_type, entry.payload, entry.report_id) == (
        "report_import", {"report_id": report.id, "mode": "preview"}, report.id,
    )  # fmt: skip
    assert service.state(report, queries.latest_job(report)) == "checking"
    result = tasks.import_report(entry)
    assert result == {"mode": "preview", "rows": 7, "invalid": 2}
    assert report.preview["created"] == 4


def test_a_bad_file_puts_the_report_in_error(app_ctx, reports_dir):
    report = upload("zip_renamed.csv")
    service.preview_report(report)
    assert service.state(report) == "error"
    assert "ZIP archive" in report.error_message


def test_confirming_queues_the_import_once(app_ctx, reports_dir):
    editor = UserFactory(roles=["editor"])
    report = upload(actor=editor)
    service.preview_report(report)
    entry = service.confirm_report(report, actor=editor)
    assert (entry.task_type, entry.payload, entry.created_by) == (
        "report_import", {"report_id": report.id}, editor.id,
    )  # fmt: skip
    assert service.state(report, queries.latest_job(report)) == "queued"
    with pytest.raises(service.ReportStateError, match="already queued"):
        service.confirm_report(report, actor=editor)


def test_the_job_imports_the_report_as_the_person_who_confirmed_it(app_ctx, reports_dir):
    editor = UserFactory(roles=["editor"])
    report = upload(actor=editor)
    service.preview_report(report)
    entry = service.confirm_report(report, actor=editor)

    result = tasks.import_report(entry)

    assert (result["created"], result["invalid"]) == (4, 2)
    assert report.status == "completed"
    assert (report.created_count, report.updated_count, report.failed_count) == (4, 0, 2)
    assert report.rows_done == report.rows_total == 7
    assert report.processed_at is not None
    rows = db.session.scalars(select(MetadataSync).where(MetadataSync.entity_type == "video")).all()
    assert len(rows) == 4
    assert {(r.source, r.report_id, r.user_id) for r in rows} == {("report", report.id, editor.id)}
    assert str(rows[0].batch_id) == result["batch_id"]


def test_a_report_already_imported_is_not_imported_again(app_ctx, reports_dir):
    report = upload()
    service.preview_report(report)
    entry = service.confirm_report(report, actor=None)
    tasks.import_report(entry)
    before = audit_count()
    assert tasks.import_report(entry) == {"report_id": report.id, "already_imported": True}
    assert audit_count() == before


def test_the_same_file_twice_changes_nothing_the_second_time_and_says_so(app_ctx, reports_dir):
    first = upload()
    service.preview_report(first)
    service.apply_report(first, actor=None)
    # Staff change a video since; importing the same file again must not undo that.
    video = db.session.scalars(select(Video).where(Video.video_id == "vidAAAAAAA1")).one()
    video.views = 1
    db.session.flush()
    before = audit_count()

    second = upload()
    service.preview_report(second)
    assert second.preview["duplicate_of"] == first.id
    applied = service.apply_report(second, actor=None)

    assert applied.duplicate_of.id == first.id
    assert applied.outcome is None
    assert second.status == "completed"
    assert (second.created_count, second.updated_count) == (0, 0)
    assert audit_count() == before
    assert video.views == 1


def test_a_file_changed_in_storage_fails_the_job_for_good(app_ctx, reports_dir):
    report = upload()
    service.preview_report(report)
    entry = service.confirm_report(report, actor=None)
    (reports_dir / report.storage_key).write_bytes(sample("catalog_tool.csv").read_bytes())
    with pytest.raises(PermanentError, match="SHA-256 differs"):
        tasks.import_report(entry)
    db.session.rollback()


@pytest.mark.parametrize(
    ("report_status", "job_status", "mode", "preview", "expected"),
    [
        ("pending", None, None, False, "checking"),
        ("pending", "pending", "preview", False, "checking"),
        ("pending", "failed", "preview", False, "error"),
        ("pending", "completed", "preview", True, "ready"),
        ("pending", "pending", None, True, "queued"),
        ("pending", "processing", None, True, "processing"),
        ("processing", "processing", None, True, "processing"),
        ("pending", "cancelled", None, True, "ready"),
        ("processing", "failed", None, True, "error"),
        ("completed", "completed", None, True, "completed"),
        ("error", None, None, False, "error"),
    ],
)
def test_what_a_person_sees(app_ctx, report_status, job_status, mode, preview, expected):
    report = service.Report(status=report_status, preview={"rows": 1} if preview else None)
    job = None
    if job_status:
        payload = {"report_id": 1, **({"mode": mode} if mode else {})}
        job = ProcessingQueue(task_type="report_import", status=job_status, payload=payload)
    assert service.state(report, job) == expected
