"""The two stores: a local directory, and S3 (botocore checks every request's shape)."""

import hashlib
import io
from datetime import UTC, datetime

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from catalog.reports.storage import LocalStorage, S3Storage, StorageError, suffix_of

DATA = b"video_id,title\nvidAAAAAAA1,Song\n"


def test_the_local_store_keeps_files_under_its_directory(tmp_path):
    store = LocalStorage(tmp_path)
    stored = store.save(io.BytesIO(DATA), ".csv")
    assert stored.key.startswith("uploads/")
    assert stored.key.endswith(".csv")
    assert (stored.size, stored.sha256) == (len(DATA), hashlib.sha256(DATA).hexdigest())
    with store.open(stored.key) as f:
        assert f.read() == DATA
    assert store.size(stored.key) == len(DATA)
    assert list(tmp_path.rglob(".upload-*")) == []  # no temporary file left behind
    for key in ("../outside.csv", "/etc/passwd", ""):
        with pytest.raises(StorageError):
            store.open(key)
    with pytest.raises(StorageError, match="missing"):
        store.open("uploads/none.csv")


@pytest.mark.parametrize(
    ("name", "suffix"),
    [("a.csv", ".csv"), ("A.CSV.GZ", ".csv.gz"), ("a.gz", None), ("a.xlsx", None)],
)
def test_suffixes(name, suffix):
    assert suffix_of(name) == suffix


@pytest.fixture
def s3():
    client = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    with Stubber(client) as stubber:
        yield S3Storage("bucket", "reports", client=client), stubber
        stubber.assert_no_pending_responses()


def test_s3_uploads_go_under_the_prefix(s3):
    store, stubber = s3
    stubber.add_response(
        "put_object", {},
        {"Bucket": "bucket", "Key": ANY, "Body": ANY, "ContentLength": len(DATA),
         "ContentType": "text/csv"},
    )  # fmt: skip
    stored = store.save(io.BytesIO(DATA), ".csv")
    assert stored.key.startswith("uploads/")
    assert stored.sha256 == hashlib.sha256(DATA).hexdigest()


def test_s3_reads_and_lists_reports(s3):
    store, stubber = s3
    body = StreamingBody(io.BytesIO(DATA), len(DATA))
    stubber.add_response(
        "get_object", {"Body": body}, {"Bucket": "bucket", "Key": "reports/daily/a.csv"}
    )
    when = datetime(2026, 11, 1, tzinfo=UTC)
    stubber.add_response(
        "list_objects_v2",
        {"Contents": [
            {"Key": "reports/daily/a.csv", "Size": 10, "LastModified": when},
            {"Key": "reports/daily/b.csv.gz", "Size": 20, "LastModified": when.replace(day=2)},
            {"Key": "reports/daily/readme.txt", "Size": 1, "LastModified": when},
            {"Key": "reports/uploads/2026/11/x.csv", "Size": 1, "LastModified": when},
        ], "IsTruncated": False},
        {"Bucket": "bucket", "Prefix": "reports/"},
    )  # fmt: skip
    assert store.open("daily/a.csv").read() == DATA
    assert [a.key for a in store.available()] == ["daily/b.csv.gz", "daily/a.csv"]


def test_s3_errors_are_reported_not_raised_raw(s3):
    store, stubber = s3
    stubber.add_client_error("get_object", "NoSuchKey", http_status_code=404)
    with pytest.raises(StorageError, match="could not be read from S3"):
        store.open("daily/missing.csv")
    with pytest.raises(StorageError):
        store.open("../escape.csv")


def test_the_local_store_gives_the_library_a_file_to_serve(tmp_path):
    store = LocalStorage(tmp_path)
    stored = store.save(io.BytesIO(DATA), ".mp4")
    assert store.local_path(stored.key).read_bytes() == DATA
    for key in ("../outside.mp4", "uploads", "uploads/none.mp4"):
        with pytest.raises(StorageError):
            store.local_path(key)


def test_s3_presigns_a_link_without_a_request(s3):
    store, _stubber = s3  # no response queued: signing must not call S3
    url = store.presigned_url("uploads/a.webm", expires=60, content_type="video/webm")
    assert url.startswith("https://bucket.s3.amazonaws.com/reports/uploads/a.webm?")
    assert "response-content-type=video%2Fwebm" in url
    assert "Expires=" in url
    with pytest.raises(StorageError):
        store.presigned_url("../escape.webm", expires=60)
