"""`flask catalog import-report FILE [--dry-run]`: the same check and import as the web's."""

from sqlalchemy import func, select, text

from catalog.extensions import db
from catalog.models import Channel, MetadataSync, Report, Video
from catalog.reports import service
from tests.reports.conftest import sample

A2 = str(sample("youtube_video_report_a2.csv"))
CONFLICT = "DO $$ BEGIN RAISE EXCEPTION 'lost' USING ERRCODE = 'deadlock_detected'; END $$"


def invoke(app, *args: str):
    return app.test_cli_runner().invoke(args=["catalog", "import-report", *args])


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_dry_run_prints_the_preview_and_changes_nothing(app, db_session, reports_dir):
    result = invoke(app, A2, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Format: YouTube Content Manager video report" in result.output
    assert "Rows: 7; videos: 4" in result.output
    assert "Would create 4, would update 0, unchanged 0; invalid rows skipped: 2" in result.output
    assert "row 6, views: not a whole number: 12a" in result.output
    assert "Dry run: nothing was changed." in result.output
    assert count(db_session, Video) == count(db_session, Channel) == 0
    assert count(db_session, Report) == count(db_session, MetadataSync) == 0


def test_the_import_applies_the_report_through_the_same_path(app, db_session, reports_dir):
    result = invoke(app, A2)
    assert result.exit_code == 0, result.output
    assert "Created 4, updated 0, unchanged 0; invalid rows skipped: 2" in result.output
    report = db_session.scalars(select(Report)).one()
    assert f"Imported as report #{report.id}." in result.output
    assert (report.status, report.created_count, report.uploaded_by) == ("completed", 4, None)
    assert (reports_dir / report.storage_key).exists()
    rows = db_session.scalars(select(MetadataSync).where(MetadataSync.entity_type == "video"))
    assert {(r.source, r.report_id, r.user_id) for r in rows} == {("report", report.id, None)}


def test_importing_the_same_file_again_says_so_and_changes_nothing(app, db_session, reports_dir):
    assert invoke(app, A2).exit_code == 0
    before = count(db_session, MetadataSync)
    result = invoke(app, A2)
    assert result.exit_code == 0, result.output
    assert "This file was imported already, as report #" in result.output
    assert count(db_session, MetadataSync) == before


def test_a_bad_file_exits_non_zero_with_the_reason(app, db_session, reports_dir):
    result = invoke(app, str(sample("zip_renamed.csv")))
    assert result.exit_code == 1
    assert "ZIP archive" in result.output
    assert "Nothing was changed." in result.output
    report = db_session.scalars(select(Report)).one()
    assert report.status == "error"
    assert "ZIP archive" in report.error_message
    dry = invoke(app, str(sample("unknown_columns.csv")), "--dry-run")
    assert dry.exit_code == 1
    assert "Unknown report format" in dry.output


def test_a_file_that_is_no_csv_by_name_is_refused(app, db_session, reports_dir, tmp_path):
    path = tmp_path / "report.txt"
    path.write_text("video_id,title\n")
    result = invoke(app, str(path), "--dry-run")
    assert result.exit_code == 1
    assert "reports are .csv or .csv.gz files" in result.output


def test_a_missing_file_is_refused(app, db_session, reports_dir):
    assert invoke(app, "/no/such/report.csv").exit_code == 2


def test_an_import_that_lost_a_race_is_run_again_whole(app, db_session, reports_dir, monkeypatch):
    """The first run is aborted by PostgreSQL after writing (as a deadlock victim is); the
    second imports the report, once."""
    real, runs = service.apply_report, []

    def loses_the_first_race(*args, **kwargs):
        applied = real(*args, **kwargs)
        runs.append(applied.outcome.created)
        if len(runs) == 1:
            db.session.execute(text(CONFLICT))
        return applied

    monkeypatch.setattr(service, "apply_report", loses_the_first_race)
    result = invoke(app, A2)
    assert result.exit_code == 0, result.output
    assert "Created 4, updated 0, unchanged 0" in result.output
    assert runs == [4, 4]
    assert count(db_session, Video) == 4
    assert count(db_session, MetadataSync, MetadataSync.entity_type == "video") == 4
