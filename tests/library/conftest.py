"""The library's tests: real media files made once per session with ffmpeg (tests/media.py),
bad ones beside them, storage in a temporary directory instead of instance/, and published
library videos with stored files."""

import subprocess
from pathlib import Path

import pytest

from catalog.models import VideoMetadata
from catalog.reports.storage import LocalStorage
from tests.factories import CategoryFactory, VideoFactory
from tests.media import make_captions, make_video

DURATION = 5.0


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> dict[str, Path]:
    """name → file: clip.mp4, clip.webm, captions.vtt, cover.jpg, and the bad ones: notes.mp4
    (a text file renamed), cut.mp4 (the MP4's first half), sound.mp4 (audio, no video
    stream), broken.vtt (its second cue, on line 6, ends before it starts)."""
    directory = tmp_path_factory.mktemp("media")
    mp4 = make_video(directory / "clip.mp4")
    files = {
        "clip.mp4": mp4,
        "clip.webm": make_video(directory / "clip.webm", container="webm"),
        "captions.vtt": make_captions(directory / "captions.vtt"),
    }
    files["notes.mp4"] = directory / "notes.mp4"
    files["notes.mp4"].write_text("These are my notes, not a video.\n" * 20)
    files["cut.mp4"] = directory / "cut.mp4"
    files["cut.mp4"].write_bytes(mp4.read_bytes()[: mp4.stat().st_size // 2])
    for name, source, extra in (
        ("cover.jpg", "color=c=red:s=64x48", ["-frames:v", "1"]),
        ("sound.mp4", "sine=frequency=220:duration=1", ["-c:a", "aac"]),
    ):
        files[name] = directory / name
        command = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source, *extra]
        subprocess.run([*command, str(files[name])], check=True, capture_output=True)  # noqa: S603
    files["broken.vtt"] = directory / "broken.vtt"
    files["broken.vtt"].write_text(
        "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nFirst.\n\n"
        "00:00:03.000 --> 00:00:02.500\nSecond.\n"
    )
    return files


@pytest.fixture
def storage_dir(app, tmp_path, monkeypatch) -> Path:
    directory = tmp_path / "storage"
    monkeypatch.setitem(app.config, "REPORTS_DIR", str(directory))
    monkeypatch.setitem(app.config, "S3_BUCKET", "")
    return directory


@pytest.fixture(scope="session")
def media_files(media) -> dict[str, Path]:
    """The good files of `media` by kind: mp4, webm, vtt."""
    return {"mp4": media["clip.mp4"], "webm": media["clip.webm"], "vtt": media["captions.vtt"]}


@pytest.fixture
def storage(storage_dir) -> LocalStorage:
    """The app's storage for this test: a directory of its own."""
    return LocalStorage(storage_dir)


@pytest.fixture
def library_video(db_session, storage, media_files):
    """library_video(**values) → a published video with a stored MP4 (and captions)."""

    def make(container: str = "mp4", captions: bool = True, **values):
        with media_files[container].open("rb") as source:
            key = storage.save(source, f".{container}").key
        values = {"category": CategoryFactory(), "duration_seconds": DURATION, **values}
        video = VideoFactory(published=True, video_url=key, **values)
        if captions:
            with media_files["vtt"].open("rb") as source:
                caption_key = storage.save(source, ".vtt").key
            db_session.add(VideoMetadata(video_id=video.id, caption_url=caption_key))
            db_session.flush()
        return video

    return make
