"""The `video_probe` job: is an uploaded file a playable video? ffprobe (Debian's ffmpeg
package) reads its container and streams; a thumbnail is cut with ffmpeg at 10 % of the
duration when none was uploaded.

A file is refused (with the reason, for the editor) when ffprobe cannot read it (a renamed
text file), when it has no video stream, no duration, a codec browsers do not play in its
container, or when it is cut short (a truncated MP4 still has its header, so every packet
is read: fewer than the header promises, or the demuxer's "partial file", means truncated).
Reading the packets demuxes the file without decoding it: a few seconds for a large file.
"""

import contextlib
import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from catalog.extensions import db
from catalog.jobs import PermanentError, task
from catalog.library import uploads
from catalog.models import ProcessingQueue, User, VideoUpload
from catalog.reports.storage import CHUNK, LocalStorage, Storage, StorageError, get_storage

# What browsers play, by container (the extension the upload was stored under).
VIDEO_CODECS = {".mp4": ("h264", "av1"), ".webm": ("vp8", "vp9", "av1")}
AUDIO_CODECS = {".mp4": ("aac", "mp3", "opus"), ".webm": ("opus", "vorbis")}
# The demuxer each container is read with, never guessed from the content: a file that is
# really a playlist (HLS, concat) must not make ffprobe open other files or URLs. The
# protocols are limited to reading the one local file as well.
DEMUXERS = {".mp4": "mov", ".webm": "matroska"}
KINDS = {".mp4": "MP4", ".webm": "WebM"}
TRUNCATED = ("partial file", "ended prematurely", "truncat")
THUMBNAIL_AT = 0.10


class NotPlayable(Exception):
    """The file is not a video a browser can play; the message says why, for people."""


def _run(command: list[str]) -> subprocess.CompletedProcess:
    timeout = current_app.config.get("LIBRARY_PROBE_TIMEOUT", 600)
    # A fixed program and options; the only variable is a path this module made (a storage
    # key of ours or a temporary file), passed as one argument, never through a shell.
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    # ffmpeg prefixes its messages with "[demuxer @ 0x…]" or the file's path: not for people.
    message = lines[-1] if lines else "unknown error"
    return message.rsplit(": ", 1)[-1] if ": " in message else message


def probe(path: Path, suffix: str) -> uploads.Probed:
    """What `path` holds, or NotPlayable saying why it will not play."""
    if suffix not in DEMUXERS:
        raise NotPlayable("Only MP4 and WebM files are taken.")
    kind = KINDS[suffix]
    result = _run([
        "ffprobe", "-v", "error", *_reading(path, suffix), "-count_packets",
        "-print_format", "json", "-show_format", "-show_streams",
    ])  # fmt: skip
    if result.returncode != 0:
        raise NotPlayable(
            f"ffprobe cannot read this as {kind} video ({_first_line(result.stderr)})."
        )
    found = json.loads(result.stdout or "{}")
    streams = found.get("streams", [])
    fmt = found.get("format", {})
    video = next((s for s in streams if s.get("codec_type") == "video"), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    if video is None:
        raise NotPlayable("The file has no video stream.")
    if video.get("codec_name") not in VIDEO_CODECS[suffix]:
        raise NotPlayable(
            f"Its video codec {video.get('codec_name')} does not play in browsers inside "
            f"{kind} (use {', '.join(VIDEO_CODECS[suffix])})."
        )
    if audio is not None and audio.get("codec_name") not in AUDIO_CODECS[suffix]:
        raise NotPlayable(
            f"Its audio codec {audio.get('codec_name')} does not play in browsers inside "
            f"{kind} (use {', '.join(AUDIO_CODECS[suffix])})."
        )
    problems = result.stderr.lower()
    if any(word in problems for word in TRUNCATED) or any(_short(s) for s in streams):
        raise NotPlayable("The file is cut short (truncated): upload it again, whole.")
    try:
        duration = float(fmt.get("duration") or video.get("duration") or 0)
    except ValueError:
        duration = 0
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    if duration <= 0:
        raise NotPlayable("The video has no duration.")
    if width <= 0 or height <= 0:
        raise NotPlayable("The video has no picture size.")
    return uploads.Probed(
        duration_seconds=duration, width=width, height=height,
        video_codec=video["codec_name"], audio_codec=audio.get("codec_name") if audio else None,
    )  # fmt: skip


def _short(stream: dict) -> bool:
    """Fewer packets read than the header counts frames (MP4 headers count them)."""
    promised, read = stream.get("nb_frames"), stream.get("nb_read_packets")
    return bool(promised and read and promised.isdigit() and read.isdigit()) and (
        int(read) < int(promised)
    )


def _reading(path: Path, suffix: str) -> list[str]:
    """The input options: the one local file, with its container's demuxer."""
    return ["-protocol_whitelist", "file", "-f", DEMUXERS[suffix], "-i", f"file:{path}"]


def cut_thumbnail(path: Path, suffix: str, duration: float, out: Path) -> None:
    """A JPEG of the frame at 10 % of the duration."""
    result = _run([
        "ffmpeg", "-v", "error", "-y", "-ss", f"{duration * THUMBNAIL_AT:.3f}",
        *_reading(path, suffix), "-frames:v", "1", "-q:v", "3", f"file:{out}",
    ])  # fmt: skip
    if result.returncode != 0 or not out.exists() or out.stat().st_size == 0:
        problem = _first_line(result.stderr)
        raise NotPlayable(f"No frame could be taken for a thumbnail ({problem}).")


@contextlib.contextmanager
def local_file(storage: Storage, key: str) -> Iterator[Path]:
    """The stored file as a path on this machine: in place in a local directory, else a
    temporary copy (S3), streamed in chunks."""
    if isinstance(storage, LocalStorage):
        path = storage.path(key)
        if not path.is_file():  # ours to fix, not the editor's: never "not a video"
            raise StorageError(f"The stored file {key} is missing.")
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="catalog-probe-") as directory:
        copy = Path(directory) / Path(key).name
        # closing(): an S3 body is closed, not necessarily a context manager.
        with contextlib.closing(storage.open(key)) as source, copy.open("wb") as out:
            shutil.copyfileobj(source, out, CHUNK)
        yield copy


@task(uploads.TASK)
def probe_upload(entry: ProcessingQueue) -> dict:
    """Probe the upload the entry names; accept it (the video gets its file) or refuse it."""
    upload_id = int(entry.payload["upload_id"])
    upload = db.session.scalars(
        select(VideoUpload).where(VideoUpload.id == upload_id).with_for_update()
    ).first()
    if upload is None:
        raise PermanentError(f"Upload {upload_id} no longer exists (its video was deleted).")
    if upload.status != "pending":
        return {"upload_id": upload_id, "status": upload.status}
    storage = get_storage()
    suffix = Path(upload.video_key).suffix.lower()
    thumbnail_key = None
    with local_file(storage, upload.video_key) as path:
        try:
            probed = probe(path, suffix)
            if not upload.thumbnail_key:
                with tempfile.TemporaryDirectory(prefix="catalog-thumb-") as directory:
                    picture = Path(directory) / "thumbnail.jpg"
                    cut_thumbnail(path, suffix, probed.duration_seconds, picture)
                    with picture.open("rb") as stream:
                        thumbnail_key = storage.save(stream, ".jpg").key
        except NotPlayable as exc:
            uploads.refuse(upload, str(exc))
            return {"upload_id": upload_id, "status": "refused", "reason": str(exc)}
    actor = db.session.get(User, upload.uploaded_by) if upload.uploaded_by else None
    changes = uploads.accept(upload, probed, thumbnail_key=thumbnail_key, actor=actor)
    return {
        "upload_id": upload_id, "status": "ready", "duration_seconds": probed.duration_seconds,
        "width": probed.width, "height": probed.height, "changed": sorted(changes),
    }  # fmt: skip
