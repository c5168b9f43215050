"""Library videos with real files in a storage directory of the test's own."""

from pathlib import Path

import pytest

from catalog.models import VideoMetadata
from catalog.reports.storage import LocalStorage
from tests.factories import CategoryFactory, VideoFactory
from tests.media import make_captions, make_video

DURATION = 5.0


@pytest.fixture(scope="session")
def media_files(tmp_path_factory) -> dict[str, Path]:
    """One 5-second MP4, one WebM and one WebVTT file for the whole session."""
    folder = tmp_path_factory.mktemp("media")
    return {
        "mp4": make_video(folder / "clip.mp4"),
        "webm": make_video(folder / "clip.webm", container="webm"),
        "vtt": make_captions(folder / "captions.vtt"),
    }


@pytest.fixture
def storage(app, tmp_path, monkeypatch) -> LocalStorage:
    """The app's storage for this test: a directory of its own."""
    monkeypatch.setitem(app.config, "REPORTS_DIR", str(tmp_path / "store"))
    return LocalStorage(tmp_path / "store")


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
