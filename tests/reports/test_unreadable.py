"""An import never blanks what it cannot read: an unreadable date keeps the catalog's value
(a new video gets none) and is listed as a warning; nothing to change, nothing to confirm;
a binary file is called one; counts read "1 value", "2 values"."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from catalog.extensions import db
from catalog.models import MetadataSync, ProcessingQueue, Video
from catalog.reports import importer
from catalog.reports.formats import ReportFileError
from tests.factories import VideoFactory
from tests.helpers import csrf_token
from tests.reports.test_cli import invoke
from tests.reports.test_views import latest_report, post_file

LIMIT = 10**9
PUBLISHED = datetime(2024, 6, 8, 0, 53, 11, tzinfo=UTC)
BAD_DATES = (
    "video_id,title,published_at\n"
    "vidKEEPxxx1,A new title,2025-02-30\n"
    "vidNEWxxxx2,A new video,2025-02-30\n"
)


def write(tmp_path, body: bytes | str, name: str = "report.csv"):
    path = tmp_path / name
    path.write_bytes(body.encode() if isinstance(body, str) else body)
    return path


def preview(path):
    return importer.preview(lambda: path.open("rb"), max_bytes=LIMIT)


def video(video_id: str) -> Video:
    return db.session.scalars(select(Video).where(Video.video_id == video_id)).one()


def test_an_unreadable_date_keeps_the_catalogs_date_and_a_new_video_gets_none(app_ctx, tmp_path):
    VideoFactory(video_id="vidKEEPxxx1", title="The old title", time_published=PUBLISHED)
    path = write(tmp_path, BAD_DATES)

    checked = preview(path)
    assert (checked.created, checked.updated, checked.invalid) == (1, 1, 0)
    updated = next(s for s in checked.sample if s["video_id"] == "vidKEEPxxx1")
    assert set(updated["changes"]) == {"title"}  # not "time published → empty"

    outcome = importer.apply(lambda: path.open("rb"), actor=None, report_id=None, max_bytes=LIMIT)
    assert video("vidKEEPxxx1").time_published == PUBLISHED
    assert video("vidKEEPxxx1").title == "A new title"
    assert video("vidNEWxxxx2").time_published is None
    audit = db.session.scalars(
        select(MetadataSync).where(MetadataSync.entity_key == "vidKEEPxxx1",
                                   MetadataSync.source == "report")
    ).one()  # fmt: skip
    assert set(audit.changes) == {"title"}
    assert outcome.unreadable == 2


def test_each_unreadable_cell_is_a_warning_with_row_column_value_and_reason(app_ctx, tmp_path):
    VideoFactory(video_id="vidKEEPxxx1", time_published=PUBLISHED)
    outcome = preview(write(tmp_path, BAD_DATES))

    reason = "not a date (YYYY-MM-DD, with an optional time and zone); "
    assert outcome.warnings == [
        {"row": 2, "column": "published_at", "value": "2025-02-30",
         "reason": reason + "the catalog's value is kept"},
        {"row": 3, "column": "published_at", "value": "2025-02-30",
         "reason": reason + "the new video gets none"},
    ]  # fmt: skip
    assert "2 values could not be read" in " ".join(outcome.notes)
    assert outcome.as_preview()["warnings"] == outcome.warnings


def test_the_report_page_lists_the_warnings(client, db_session, sign_in_as, reports_dir):
    sign_in_as("editor")
    VideoFactory(video_id="vidKEEPxxx1", time_published=PUBLISHED)
    post_file(client, "bad_dates.csv", BAD_DATES.encode())
    report = latest_report(db_session)
    html = client.get(f"/reports/{report.id}").get_data(as_text=True)

    assert 'data-testid="warnings"' in html
    assert "2025-02-30" in html
    assert "the catalog&#39;s value is kept" in html
    assert 'data-testid="confirm"' in html  # a title changes and a video is created


def test_the_cli_dry_run_prints_the_warnings(app, db_session, reports_dir, tmp_path):
    result = invoke(app, str(write(tmp_path, BAD_DATES)), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Values that could not be read (2)" in result.output
    assert "row 2, published_at: “2025-02-30”: not a date" in result.output
    assert "the new video gets none" in result.output


def test_no_import_is_offered_when_nothing_would_change(
    client, db_session, sign_in_as, reports_dir
):
    sign_in_as("editor")
    VideoFactory(video_id="vidSAMExxx1", title="Same title")
    post_file(client, "same.csv", b"video_id,title\nvidSAMExxx1,Same title\n")
    report = latest_report(db_session)
    assert (report.preview["created"], report.preview["updated"]) == (0, 0)

    html = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert 'data-testid="confirm"' not in html
    assert 'data-testid="nothing-to-import"' in html
    assert "already has every video of the file as the file has it" in html
    assert "checked: nothing to import" in html
    assert "checked: nothing to import" in client.get("/reports").get_data(as_text=True)

    # Nor is a hand-made confirmation taken.
    token = csrf_token(client.get(f"/reports/{report.id}"))
    response = client.post(f"/reports/{report.id}/confirm", data={"csrf_token": token})
    assert response.status_code == 302
    assert db_session.scalars(select(ProcessingQueue)).all() == []
    followed = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "nothing to import" in followed


def test_a_binary_file_is_called_a_binary_file(client, db_session, sign_in_as, reports_dir):
    sign_in_as("editor")
    noise = bytes((n * 7919 + 13) % 256 for n in range(8192))  # every byte value, mixed
    post_file(client, "noise.csv", noise)
    report = latest_report(db_session)
    assert report.status == "error"
    assert "binary file" in report.error_message
    assert "Latin-1" not in report.error_message


def test_binary_data_after_a_header_is_called_binary_too(app_ctx, tmp_path):
    # Past the first bytes, which the sniff reads: found line by line.
    body = b"video_id,title\n" + b"vidAAAAAAA1,Fine\n" * 400 + bytes(range(256)) * 40
    with pytest.raises(ReportFileError, match="binary data") as raised:
        preview(write(tmp_path, body))
    assert "Latin-1" not in str(raised.value)


def test_latin1_text_is_still_called_latin1(app_ctx, tmp_path):
    body = "video_id,title\nvidAAAAAAA1,Café del Mar\n".encode("latin-1")
    with pytest.raises(ReportFileError, match="Latin-1"):
        preview(write(tmp_path, body))


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "0 values"), (1, "1 value"), (2, "2 values"), (1000, "1,000 values")],
)
def test_counts_agree_with_their_noun(count, expected):
    assert importer.plural(count, "value") == expected
