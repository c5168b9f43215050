"""The rules for putting a video file into the library. Nothing here commits or touches the
request: the caller owns the transaction.

    start_upload ─> stored, VideoUpload pending, a `video_probe` job enqueued (same transaction)
    the job (catalog.library.probe) ─> accept: ready, the video's file fields set (audited)
                                    └> refuse: refused with the reason; the video untouched

Files are streamed into storage (catalog.reports.storage) in chunks: never whole in
memory. Captions are checked before anything is stored."""

import io
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePath
from typing import BinaryIO

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from catalog import jobs
from catalog.extensions import db
from catalog.library import captions
from catalog.models import ProcessingQueue, User, Video, VideoUpload
from catalog.reports.storage import Storage, StorageError, get_storage
from catalog.rules import RuleError
from catalog.videos import files

TASK = "video_probe"
logger = logging.getLogger(__name__)
VIDEO_SUFFIXES = (".mp4", ".webm")
IMAGE_SUFFIXES = {".jpg": ".jpg", ".jpeg": ".jpg", ".png": ".png", ".webp": ".webp"}


@dataclass(frozen=True)
class Incoming:
    """A file as it arrives: its stream (read once, in chunks) and the name it had."""

    stream: BinaryIO
    filename: str

    @property
    def suffix(self) -> str:
        return PurePath(self.filename or "").suffix.lower()


@dataclass(frozen=True)
class Probed:
    """What ffprobe found in a playable file."""

    duration_seconds: float
    width: int
    height: int
    video_codec: str
    audio_codec: str | None


# How each image format begins (its "magic number"): a thumbnail is checked by its content,
# not only its name, before it is stored. (The video itself is checked by ffprobe.)
IMAGE_SIGNATURES = {
    ".jpg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".webp": (b"RIFF",),
}


def _head(incoming: Incoming, count: int) -> bytes:
    """The first `count` bytes, the stream rewound (uploads are spooled: seekable)."""
    incoming.stream.seek(0)
    head = incoming.stream.read(count)
    incoming.stream.seek(0)
    return head


def _is_image(head: bytes, suffix: str) -> bool:
    if suffix == ".webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    return head.startswith(IMAGE_SIGNATURES[suffix])


def _checked_suffixes(video: Incoming, thumbnail: Incoming | None) -> tuple[str, str | None]:
    if video.suffix not in VIDEO_SUFFIXES:
        raise RuleError("Upload an MP4 (.mp4) or WebM (.webm) video file.", "video")
    if not _head(video, 1):
        raise RuleError("The video file is empty.", "video")
    if thumbnail is None:
        return video.suffix, None
    if thumbnail.suffix not in IMAGE_SUFFIXES:
        raise RuleError("The thumbnail is a .jpg, .png or .webp image.", "thumbnail")
    suffix = IMAGE_SUFFIXES[thumbnail.suffix]
    if not _is_image(_head(thumbnail, 12), suffix):
        raise RuleError(f"The thumbnail is not a {suffix[1:].upper()} image inside.", "thumbnail")
    return video.suffix, suffix


def start_upload(
    video: Video,
    file: Incoming,
    *,
    thumbnail: Incoming | None = None,
    caption_file: Incoming | None = None,
    actor: User | None,
    storage: Storage | None = None,
) -> VideoUpload:
    """Store the files, record the upload as pending and enqueue its probe. RuleError (on
    the field it names) for a file of the wrong kind or captions that are not WebVTT:
    nothing is stored then. StorageError when the store fails. The streams are read from
    their start (they are rewound), so a retried transaction stores them again whole."""
    suffix, thumbnail_suffix = _checked_suffixes(file, thumbnail)
    caption_data = None
    if caption_file is not None:
        if caption_file.suffix != ".vtt":
            raise RuleError("Captions are a WebVTT file (.vtt).", "captions")
        caption_file.stream.seek(0)
        caption_data = caption_file.stream.read(captions.MAX_BYTES + 1)
        captions.check(caption_data)
    storage = storage or get_storage()
    stored = _stored(storage, file.stream, suffix)
    upload = VideoUpload(
        video_id=video.id, uploaded_by=actor.id if actor else None, status="pending",
        video_key=stored.key, original_name=(file.filename or "")[:255] or None,
        size=stored.size,
    )  # fmt: skip
    if thumbnail is not None:
        upload.thumbnail_key = _stored(storage, thumbnail.stream, thumbnail_suffix).key
    if caption_data is not None:
        upload.caption_key = _stored(storage, io.BytesIO(caption_data), ".vtt").key
    db.session.add(upload)
    db.session.flush()
    jobs.enqueue(TASK, {"upload_id": upload.id}, video_id=video.id, actor=actor)
    return upload


# The files this session's transaction stored: deleted if it rolls back (a refusal after
# the files were stored, a deadlock retried from the start, a failed commit), kept once it
# commits. Storage is outside the transaction, so this is how it follows it.
STORED = "catalog.library.stored_in_transaction"


def _stored(storage: Storage, stream: BinaryIO, suffix: str):
    stored = storage.save(stream, suffix)
    db.session().info.setdefault(STORED, []).append((storage, stored.key))
    return stored


@event.listens_for(Session, "after_commit")
def _keep_stored(session: Session) -> None:
    session.info.pop(STORED, None)


@event.listens_for(Session, "after_rollback")
def _delete_stored(session: Session) -> None:
    for storage, key in session.info.pop(STORED, ()):
        try:
            storage.delete(key)
        except (StorageError, OSError):  # left for an operator; the rollback stands
            logger.warning("Could not delete %s after its transaction rolled back", key)


def refuse(upload: VideoUpload, reason: str) -> None:
    """The file is not a playable video: say why; the video is left as it was."""
    upload.status = "refused"
    upload.reason = reason[:2000]
    upload.probed_at = datetime.now(UTC)
    db.session.flush()


def accept(
    upload: VideoUpload, probed: Probed, *, thumbnail_key: str | None, actor: User | None
) -> dict[str, list]:
    """The file plays: mark the upload ready and give the video its file, duration,
    uploader, thumbnail and (when uploaded) captions, through the videos service (audited,
    source "upload"). Returns the video's changes."""
    video = db.session.scalars(
        select(Video).where(Video.id == upload.video_id).with_for_update()
    ).one()
    upload.status = "ready"
    upload.reason = None
    upload.probed_at = datetime.now(UTC)
    upload.duration_seconds = probed.duration_seconds
    upload.width, upload.height = probed.width, probed.height
    upload.video_codec, upload.audio_codec = probed.video_codec, probed.audio_codec
    if thumbnail_key and not upload.thumbnail_key:
        upload.thumbnail_key = thumbnail_key
    values = {
        "video_url": upload.video_key,
        "duration_seconds": probed.duration_seconds,
        "uploaded_by": upload.uploaded_by,
    }
    if upload.thumbnail_key:
        values["thumbnail_url"] = upload.thumbnail_key
    if upload.caption_key:  # without new captions, the video's captions stay
        values["caption_url"] = upload.caption_key
    return files.set_files(video, values, actor=actor, source="upload")


def latest(video: Video) -> VideoUpload | None:
    """The video's most recent upload, for its page."""
    return db.session.scalars(
        select(VideoUpload)
        .where(VideoUpload.video_id == video.id)
        .order_by(VideoUpload.id.desc())
        .limit(1)
    ).first()


def failed_check(upload: VideoUpload) -> str | None:
    """Why the probe of a pending upload failed for good (its job ran out of attempts: the
    stored file is missing, ffprobe is not installed…), or None while it may still run."""
    if upload.status != "pending":
        return None
    return db.session.scalars(
        select(ProcessingQueue.error_message)
        .where(ProcessingQueue.task_type == TASK, ProcessingQueue.video_id == upload.video_id)
        .where(ProcessingQueue.payload["upload_id"].as_integer() == upload.id)
        .where(ProcessingQueue.status == "failed")
        .limit(1)
    ).first()
