"""Where report files live: a local directory (REPORTS_DIR, under instance/ by default) or an
S3-compatible bucket (S3_BUCKET, under S3_PREFIX; S3_ENDPOINT_URL for MinIO and the like;
credentials from boto3's usual chain: the environment, a profile, an instance role).

A stored file is named by its key (Report.storage_key), relative to the directory or the
prefix. Uploads go under `uploads/`; with S3, reports that something else (YouTube's
delivery, a colleague) put under the prefix can be picked for import.
"""

import hashlib
import os
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app

CHUNK = 1 << 20
UPLOADS = "uploads/"
SUFFIXES = (".csv", ".csv.gz")
PICK_LIMIT = 200  # objects listed for picking, newest first
# A stored file's content type follows from its key's extension (the library's media too).
CONTENT_TYPES = {
    ".csv": "text/csv", ".gz": "application/gzip",
    ".mp4": "video/mp4", ".webm": "video/webm", ".vtt": "text/vtt",
    ".jpg": "image/jpeg", ".png": "image/png", ".webp": "image/webp",
}  # fmt: skip


@dataclass(frozen=True)
class Stored:
    key: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Available:
    """A report in the bucket that can be picked."""

    key: str
    size: int
    modified: datetime


class StorageError(Exception):
    """The store could not be reached or refused; the message says so for people."""


class Storage(Protocol):
    picking: bool

    def save(self, stream: BinaryIO, suffix: str) -> Stored: ...
    def delete(self, key: str) -> None: ...
    def open(self, key: str) -> BinaryIO: ...
    def size(self, key: str) -> int: ...
    def available(self) -> list[Available]: ...


def _new_key(suffix: str) -> str:
    now = datetime.now(UTC)
    return f"{UPLOADS}{now:%Y/%m}/{uuid.uuid4().hex}{suffix}"


def content_type(key: str) -> str:
    """The content type of a stored file, by its key's extension."""
    return CONTENT_TYPES.get(Path(key).suffix.lower(), "application/octet-stream")


def suffix_of(name: str) -> str | None:
    """ ".csv" or ".csv.gz" when `name` ends so (any case), else None."""
    lower = name.lower()
    return next((s for s in sorted(SUFFIXES, key=len, reverse=True) if lower.endswith(s)), None)


class LocalStorage:
    """Files under one directory; keys are relative paths that never leave it."""

    picking = False

    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise StorageError(f"{key!r} is not a report file key.")
        return path

    def save(self, stream: BinaryIO, suffix: str) -> Stored:
        key = _new_key(suffix)
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        # Written under a temporary name and renamed: a reader never sees half a file.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return Stored(key, size, digest.hexdigest())

    def delete(self, key: str) -> None:
        """Remove a stored file (one that a rolled-back transaction stored); gone already
        is fine."""
        self._path(key).unlink(missing_ok=True)

    def path(self, key: str) -> Path:
        """The file itself (tools such as ffprobe read it in place)."""
        return self._path(key)

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError as exc:
            raise StorageError(f"The stored file {key} is missing.") from exc

    def size(self, key: str) -> int:
        return self._path(key).stat().st_size

    def local_path(self, key: str) -> Path:
        """The file itself, for serving it with Range support (the library's player)."""
        path = self._path(key)
        if not path.is_file():
            raise StorageError(f"The stored file {key} is missing.")
        return path

    def available(self) -> list[Available]:
        return []


class S3Storage:
    """Objects in one bucket under one prefix."""

    picking = True

    def __init__(self, bucket: str, prefix: str = "", *, client=None, **client_options):
        self.bucket = bucket
        self.prefix = prefix.lstrip("/")
        if self.prefix and not self.prefix.endswith("/"):
            self.prefix += "/"
        if client is None:
            import boto3  # only deployments that use S3 pay for importing it

            client = boto3.client("s3", **{k: v for k, v in client_options.items() if v})
        self.client = client

    def _errors(self):
        from botocore.exceptions import BotoCoreError, ClientError

        return (BotoCoreError, ClientError)

    def _object(self, key: str) -> str:
        if not key or ".." in key.split("/") or key.startswith("/"):
            raise StorageError(f"{key!r} is not a report file key.")
        return self.prefix + key

    def save(self, stream: BinaryIO, suffix: str) -> Stored:
        key = _new_key(suffix)
        # The checksum first (S3 is told the size up front), from a local copy: the upload
        # stream may be read only once.
        with tempfile.TemporaryFile() as copy:
            digest, size = hashlib.sha256(), 0
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                copy.write(chunk)
            copy.seek(0)
            try:
                self.client.put_object(
                    Bucket=self.bucket, Key=self._object(key), Body=copy, ContentLength=size,
                    ContentType=content_type(key),
                )  # fmt: skip
            except self._errors() as exc:
                raise StorageError(f"The file could not be stored in S3: {exc}") from exc
        return Stored(key, size, digest.hexdigest())

    def delete(self, key: str) -> None:
        """Remove a stored object (one that a rolled-back transaction stored)."""
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._object(key))
        except self._errors() as exc:
            raise StorageError(f"{key} could not be deleted from S3: {exc}") from exc

    def open(self, key: str) -> BinaryIO:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._object(key))["Body"]
        except self._errors() as exc:
            raise StorageError(f"The stored file {key} could not be read from S3: {exc}") from exc

    def size(self, key: str) -> int:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._object(key))
        except self._errors() as exc:
            raise StorageError(f"{key} is not in the bucket: {exc}") from exc
        return head["ContentLength"]

    def presigned_url(self, key: str, *, expires: int, content_type: str | None = None) -> str:
        """A time-limited GET URL for the object, so the browser streams (and seeks, with
        Range requests S3 answers itself) straight from the bucket, not through a web
        process. Signing is local: no request to S3."""
        params = {"Bucket": self.bucket, "Key": self._object(key)}
        if content_type:
            params["ResponseContentType"] = content_type
        try:
            return self.client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=expires
            )
        except self._errors() as exc:
            raise StorageError(f"No link to {key} could be signed: {exc}") from exc

    def available(self) -> list[Available]:
        """The .csv and .csv.gz objects under the prefix (uploads excepted), newest first."""
        found = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix
            )
            for page in pages:
                for item in page.get("Contents", ()):
                    key = item["Key"][len(self.prefix) :]
                    if suffix_of(key) and not key.startswith(UPLOADS):
                        found.append(Available(key, item["Size"], item["LastModified"]))
        except self._errors() as exc:
            raise StorageError(f"The bucket could not be listed: {exc}") from exc
        found.sort(key=lambda a: a.modified, reverse=True)
        return found[:PICK_LIMIT]


def get_storage() -> Storage:
    """The store the configuration names: S3 when S3_BUCKET is set, else the directory."""
    config = current_app.config
    if config.get("S3_BUCKET"):
        return S3Storage(
            config["S3_BUCKET"], config.get("S3_PREFIX", ""),
            endpoint_url=config.get("S3_ENDPOINT_URL"), region_name=config.get("S3_REGION"),
        )  # fmt: skip
    root = config.get("REPORTS_DIR") or os.path.join(current_app.instance_path, "reports")
    return LocalStorage(root)


def copy_file(path: str | Path, storage: Storage) -> Stored:
    """Store a local file (the command line's import) like an upload."""
    suffix = suffix_of(str(path)) or ".csv"
    with open(path, "rb") as source:
        return storage.save(source, suffix)
