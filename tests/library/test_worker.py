"""The probe run by a real worker process (`flask catalog worker`) on a database of its own
(committed data): one upload becomes ready and gives its video the file, another is refused
and leaves its video as it was."""

from pathlib import Path

import pytest
from sqlalchemy import select

from catalog import create_app
from catalog.extensions import db
from catalog.library import uploads
from catalog.models import MetadataSync, ProcessingQueue, Video, VideoUpload
from catalog.videos import service
from tests.conftest import app_config, migrated_database
from tests.jobs.conftest import Workers, wait_for_status


@pytest.fixture(scope="module")
def shared_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("library-storage")


@pytest.fixture(scope="module")
def worker_app(postgres, shared_dir):
    url = migrated_database(postgres, "catalog_library")
    app = create_app({**app_config(url), "REPORTS_DIR": str(shared_dir)})
    app.config["DATABASE_URL_FOR_WORKERS"] = url
    return app


@pytest.fixture
def workers(worker_app, shared_dir, tmp_path):
    url = worker_app.config["DATABASE_URL_FOR_WORKERS"]
    pool = Workers(url, tmp_path, "tests.jobs.worker_app", REPORTS_DIR=str(shared_dir))
    yield pool
    pool.stop_all()
    pool.dump()


def upload(app, video_id: str, path: Path) -> tuple[int, int]:
    """Create the video and upload `path` for it, committed: (upload id, queue entry id)."""
    with app.app_context():
        video = service.create_video({"video_id": video_id, "title": path.name}, actor=None)
        with path.open("rb") as stream:
            started = uploads.start_upload(video, uploads.Incoming(stream, path.name), actor=None)
        db.session.commit()
        return started.id, started_entry(started)


def started_entry(started: VideoUpload) -> int:
    return db.session.scalars(
        select(ProcessingQueue.id).where(ProcessingQueue.video_id == started.video_id)
    ).one()


def test_a_worker_process_probes_uploads(worker_app, workers, media):
    good, good_entry = upload(worker_app, "wrkGood0001", media["clip.webm"])
    bad, bad_entry = upload(worker_app, "wrkBad00001", media["cut.mp4"])
    workers.start()
    wait_for_status(worker_app, good_entry, "completed", timeout=60)
    wait_for_status(worker_app, bad_entry, "completed", timeout=60)
    with worker_app.app_context():
        ready, refused = db.session.get(VideoUpload, good), db.session.get(VideoUpload, bad)
        assert ready.status == "ready"
        assert refused.status == "refused"
        assert "truncated" in refused.reason
        video = db.session.scalars(select(Video).where(Video.video_id == "wrkGood0001")).one()
        assert video.video_url == ready.video_key
        assert video.duration_seconds == pytest.approx(5.0, abs=0.05)
        assert video.extra.thumbnail_url.endswith(".jpg")
        untouched = db.session.scalars(select(Video).where(Video.video_id == "wrkBad00001")).one()
        assert (untouched.video_url, untouched.duration_seconds) == (None, None)
        sources = db.session.scalars(
            select(MetadataSync.source).where(MetadataSync.entity_id == video.id)
        ).all()
        assert sorted(sources) == ["upload", "web"]  # its creation, then the file
