"""The reports pages over HTTP: upload, preview, confirm, progress, errors, S3 picking."""

import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from catalog.models import ProcessingQueue, Report
from catalog.reports import storage as storage_module
from catalog.reports import views
from catalog.reports.storage import S3Storage
from tests.helpers import csrf_token
from tests.reports.conftest import sample

A2 = "youtube_video_report_a2.csv"


def post_file(client, name: str, data: bytes | None = None, filename: str | None = None):
    token = csrf_token(client.get("/reports"))
    body = data if data is not None else sample(name).read_bytes()
    return client.post(
        "/reports",
        data={"csrf_token": token, "file": (io.BytesIO(body), filename or name)},
        content_type="multipart/form-data",
    )


def latest_report(db_session) -> Report:
    return db_session.scalars(select(Report).order_by(Report.id.desc()).limit(1)).one()


def test_readers_see_the_list_but_not_the_upload_form(client, db_session, sign_in_as, reports_dir):
    sign_in_as("viewer")
    html = client.get("/reports").get_data(as_text=True)
    assert 'href="/reports"' in html  # the navigation
    assert "No reports yet." in html
    assert 'data-testid="upload-form"' not in html
    assert post_file(client, A2).status_code == 403


def test_an_upload_is_checked_and_shows_what_importing_would_do(
    client, db_session, sign_in_as, reports_dir
):
    editor = sign_in_as("editor")
    response = post_file(client, A2)
    assert response.status_code == 302
    report = latest_report(db_session)
    assert response.headers["Location"].endswith(f"/reports/{report.id}")
    assert (report.uploaded_by, report.status) == (editor.id, "pending")

    html = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert 'data-count="created">4<' in html
    assert 'data-count="invalid">2<' in html
    assert "not a whole number: 12a" in html  # a row error, with its row and column
    assert "video_privacy_status" in html
    assert 'data-testid="confirm"' in html
    assert "YouTube Content Manager video report" in html
    list_html = client.get("/reports").get_data(as_text=True)
    assert A2 in list_html
    assert "checked, awaiting confirmation" in list_html


def test_confirming_queues_the_import_and_the_page_follows_it(
    client, db_session, sign_in_as, reports_dir
):
    sign_in_as("editor")
    post_file(client, A2)
    report = latest_report(db_session)
    token = csrf_token(client.get(f"/reports/{report.id}"))

    response = client.post(f"/reports/{report.id}/confirm", data={"csrf_token": token})
    assert response.status_code == 302
    entries = db_session.scalars(
        select(ProcessingQueue).where(ProcessingQueue.report_id == report.id)
    ).all()
    assert [(e.task_type, e.status) for e in entries] == [("report_import", "pending")]

    html = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "waiting for a background worker" in html
    assert 'hx-trigger="every 1s"' in html
    assert 'data-testid="confirm"' not in html
    fragment = client.get(f"/reports/{report.id}/progress")
    assert fragment.status_code == 200
    assert 'data-state="queued"' in fragment.get_data(as_text=True)
    assert "HX-Refresh" not in fragment.headers

    again = client.post(f"/reports/{report.id}/confirm", data={"csrf_token": token})
    assert again.status_code == 302
    assert "already queued" in client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert db_session.query(ProcessingQueue).filter_by(report_id=report.id).count() == 1


def test_the_progress_fragment_reloads_the_page_when_done(client, db_session, sign_in_as):
    sign_in_as("viewer")
    report = Report(
        storage_key="k", original_name="r.csv", size=1, sha256="0" * 64, status="processing",
        rows_total=1000, rows_done=250, preview={"rows": 1000},
    )  # fmt: skip
    db_session.add(report)
    db_session.flush()
    fragment = client.get(f"/reports/{report.id}/progress")
    html = fragment.get_data(as_text=True)
    assert '<progress class="w-100" value="250" max="1000"' in html
    assert "about 250 of 1,000 rows (25%)" in html
    assert "HX-Refresh" not in fragment.headers

    report.status = "completed"
    db_session.flush()
    done = client.get(f"/reports/{report.id}/progress")
    assert done.headers["HX-Refresh"] == "true"
    assert "hx-trigger" not in done.get_data(as_text=True)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("zip_renamed.csv", "ZIP archive"),
        ("utf16.csv", "UTF-16"),
        ("latin1.csv", "not UTF-8"),
        ("unknown_columns.csv", "Unknown report format"),
        ("empty.csv", "The file is empty"),
    ],
)
def test_a_bad_file_shows_its_reason_never_a_500(
    client, db_session, sign_in_as, reports_dir, name, message
):
    sign_in_as("editor")
    response = post_file(client, name)
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert message in html
    assert "cannot be imported" in html
    assert 'data-testid="confirm"' not in html


def test_a_file_that_is_not_csv_is_refused_by_the_form(client, db_session, sign_in_as, reports_dir):
    sign_in_as("editor")
    response = post_file(client, A2, filename="report.xlsx")
    assert response.status_code == 400
    assert "Choose a .csv or .csv.gz file." in response.get_data(as_text=True)
    assert db_session.scalars(select(Report)).first() is None


def test_the_upload_size_limit_gives_413(
    app, client, db_session, sign_in_as, reports_dir, monkeypatch
):
    sign_in_as("editor")
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    response = post_file(client, A2, data=b"video_id,title\n" + b"x" * 5000)
    assert response.status_code == 413
    assert "larger than the upload limit" in response.get_data(as_text=True)


def test_a_gzipped_report_is_accepted(client, db_session, sign_in_as, reports_dir):
    sign_in_as("editor")
    response = post_file(client, A2 + ".gz")
    assert response.status_code == 302
    report = latest_report(db_session)
    assert report.storage_key.endswith(".csv.gz")
    assert report.preview["created"] == 4


def test_a_large_report_is_checked_in_the_background(
    app, client, db_session, sign_in_as, reports_dir, monkeypatch
):
    monkeypatch.setitem(app.config, "REPORTS_INLINE_PREVIEW_BYTES", 10)
    sign_in_as("editor")
    post_file(client, A2)
    report = latest_report(db_session)
    assert report.preview is None
    html = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "Checking the file" in html
    assert 'hx-trigger="every 1s"' in html


# -- S3 ------------------------------------------------------------------------------------------


class FakeBucket:
    """The few S3 calls the store makes, answered from memory (botocore's own shapes)."""

    def __init__(self, objects: dict[str, bytes]):
        self.objects = dict(objects)

    def put_object(self, Bucket, Key, Body, **kwargs):
        self.objects[Key] = Body.read()

    def get_object(self, Bucket, Key):
        return {"Body": io.BytesIO(self.objects[Key])}

    def head_object(self, Bucket, Key):
        return {"ContentLength": len(self.objects[Key])}

    def get_paginator(self, name):
        bucket = self

        class Pages:
            def paginate(self, Bucket, Prefix):
                when = datetime(2026, 11, 1, tzinfo=UTC)
                yield {
                    "Contents": [
                        {"Key": key, "Size": len(data), "LastModified": when}
                        for key, data in bucket.objects.items()
                        if key.startswith(Prefix)
                    ]
                }

        return Pages()


@pytest.fixture
def bucket(app, monkeypatch):
    fake = FakeBucket(
        {
            "reports/daily/video_report.csv": sample(A2).read_bytes(),
            "reports/daily/notes.txt": b"not a report",
            "other/elsewhere.csv": b"outside the prefix",
        }
    )
    monkeypatch.setitem(app.config, "S3_BUCKET", "catalog-reports")

    def storage():
        return S3Storage("catalog-reports", "reports/", client=fake)

    for module in (storage_module, views):
        monkeypatch.setattr(module, "get_storage", storage)
    monkeypatch.setattr("catalog.reports.service.get_storage", storage)
    return fake


def test_a_report_in_the_bucket_can_be_picked_and_checked(client, db_session, sign_in_as, bucket):
    sign_in_as("editor")
    html = client.get("/reports").get_data(as_text=True)
    assert "daily/video_report.csv" in html
    assert "notes.txt" not in html
    assert "elsewhere" not in html
    token = csrf_token(client.get("/reports"))
    response = client.post(
        "/reports/pick", data={"csrf_token": token, "key": "daily/video_report.csv"}
    )
    assert response.status_code == 302
    report = latest_report(db_session)
    assert report.storage_key == "daily/video_report.csv"
    assert len(report.sha256) == 64  # learnt while checking
    assert report.preview["created"] == 4


def test_only_listed_objects_can_be_picked(client, db_session, sign_in_as, bucket):
    sign_in_as("editor")
    token = csrf_token(client.get("/reports"))
    response = client.post(
        "/reports/pick", data={"csrf_token": token, "key": "../other/elsewhere.csv"}
    )
    assert response.status_code == 302
    assert db_session.scalars(select(Report)).first() is None


def test_uploads_go_to_the_bucket_when_it_is_configured(client, db_session, sign_in_as, bucket):
    sign_in_as("editor")
    post_file(client, A2)
    report = latest_report(db_session)
    assert report.storage_key.startswith("uploads/")
    assert bucket.objects["reports/" + report.storage_key] == sample(A2).read_bytes()
