"""Uploads through the page, probed by the job through the runner (as a worker runs it), on
real files: the video gets its file, duration, thumbnail and captions, audited; a file that
will not play is refused with the reason and changes nothing on the video; broken captions
and files over the limit are refused at the door, with nothing stored."""

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import object_session

from catalog.extensions import db
from catalog.jobs.runner import run_attempt
from catalog.library import uploads
from catalog.models import MetadataSync, ProcessingQueue, Video, VideoUpload
from catalog.reports.storage import StorageError
from catalog.videos import service
from tests.factories import VideoFactory
from tests.helpers import csrf_token


def post_upload(client, target: Video, **files: Path):
    url = f"/library/{target.video_id}/upload"
    data = {"csrf_token": csrf_token(client.get(url))}
    for field, path in files.items():
        data[field] = (path.open("rb"), path.name)
    return client.post(url, data=data, content_type="multipart/form-data")


def run_probes(app, video: Video) -> list[ProcessingQueue]:
    """Run the video's pending probe jobs as a worker does (claim, handler, completion), in
    an app context of their own like a worker's."""
    entries = (
        db_of(video)
        .scalars(
            select(ProcessingQueue)
            .where(ProcessingQueue.task_type == uploads.TASK, ProcessingQueue.video_id == video.id)
            .where(ProcessingQueue.status == "pending")
        )
        .all()
    )
    with app.app_context():
        for entry in entries:
            run_attempt(entry.id, job_id=entry.job_id, attempts=0)
        db.session.remove()
    db_of(video).expire_all()
    return entries


def db_of(thing):
    return object_session(thing)


def audit_rows(video: Video) -> list[MetadataSync]:
    return (
        db_of(video)
        .scalars(
            select(MetadataSync)
            .where(MetadataSync.entity_type == "video", MetadataSync.entity_id == video.id)
            .order_by(MetadataSync.id)
        )
        .all()
    )


def the_upload(video: Video) -> VideoUpload:
    return db_of(video).scalars(select(VideoUpload).where(VideoUpload.video_id == video.id)).one()


def stored(storage_dir: Path) -> list[Path]:
    return sorted(p for p in storage_dir.rglob("*") if p.is_file())


def test_an_mp4_with_captions_is_probed_given_a_thumbnail_and_then_published(
    db_session, client, sign_in_as, media, storage_dir
):
    editor = sign_in_as("editor")
    video = VideoFactory()
    response = post_upload(client, video, video=media["clip.mp4"], captions=media["captions.vtt"])
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/videos/{video.video_id}")
    upload = the_upload(video)
    assert (upload.status, upload.uploaded_by, upload.original_name) == (
        "pending", editor.id, "clip.mp4",
    )  # fmt: skip
    assert upload.size == media["clip.mp4"].stat().st_size
    assert (storage_dir / upload.video_key).read_bytes() == media["clip.mp4"].read_bytes()
    assert video.video_url is None
    assert audit_rows(video) == []
    page = client.get(f"/videos/{video.video_id}").get_data(as_text=True)
    assert 'data-status="pending"' in page

    [entry] = run_probes(client.application, video)

    assert entry.status == "completed"
    assert entry.result["status"] == "ready"
    upload = the_upload(video)
    assert upload.status == "ready"
    assert upload.duration_seconds == pytest.approx(5.0, abs=0.05)
    assert (upload.width, upload.height, upload.video_codec, upload.audio_codec) == (
        320, 240, "h264", "aac",
    )  # fmt: skip
    assert video.video_url == upload.video_key
    assert video.video_url.endswith(".mp4")
    assert video.duration_seconds == pytest.approx(5.0, abs=0.05)
    assert video.uploaded_by == editor.id
    thumbnail = storage_dir / video.extra.thumbnail_url
    assert video.extra.thumbnail_url.endswith(".jpg")
    assert thumbnail.read_bytes()[:3] == b"\xff\xd8\xff"  # extracted: a JPEG
    assert video.extra.caption_url.endswith(".vtt")
    assert (storage_dir / video.extra.caption_url).read_text() == media["captions.vtt"].read_text()
    [row] = audit_rows(video)
    assert (row.action, row.source, row.user_id) == ("update", "upload", editor.id)
    assert row.changes["video_url"] == [None, upload.video_key]
    assert row.changes["duration_seconds"][1] == pytest.approx(5.0, abs=0.05)
    assert row.changes["uploaded_by"] == [None, editor.id]
    assert row.changes["thumbnail_url"] == [None, video.extra.thumbnail_url]
    assert row.changes["caption_url"] == [None, video.extra.caption_url]
    page = client.get(f"/videos/{video.video_id}").get_data(as_text=True)
    assert 'data-status="ready"' in page
    assert "0:05, 320\u00d7240, h264/aac" in page

    # Publishing is a change of the video's own fields, like any other.
    with client.application.app_context():
        published = db.session.get(Video, video.id)
        service.update_video(published, {"published": True}, expected_version=None, actor=None)
        db.session.commit()
        db.session.remove()
    db_session.expire_all()
    assert video.published
    assert video.duration_seconds == pytest.approx(5.0, abs=0.05)


def test_a_webm_with_its_own_thumbnail_keeps_it(db_session, client, sign_in_as, media, storage_dir):
    sign_in_as("editor")
    video = VideoFactory()
    response = post_upload(client, video, video=media["clip.webm"], thumbnail=media["cover.jpg"])
    assert response.status_code == 302
    run_probes(client.application, video)
    upload = the_upload(video)
    assert (upload.status, upload.video_codec, upload.audio_codec) == ("ready", "vp9", "opus")
    assert video.video_url.endswith(".webm")
    assert video.duration_seconds == pytest.approx(5.0, abs=0.05)
    assert video.extra.thumbnail_url == upload.thumbnail_key
    assert (storage_dir / upload.thumbnail_key).read_bytes() == media["cover.jpg"].read_bytes()
    assert len([p for p in stored(storage_dir) if p.suffix == ".jpg"]) == 1  # none extracted
    assert video.extra.caption_url is None


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("notes.mp4", "ffprobe cannot read this as MP4 video"),
        ("cut.mp4", "cut short (truncated)"),
        ("sound.mp4", "no video stream"),
    ],
)
def test_a_file_that_will_not_play_is_refused_and_changes_nothing(
    db_session, client, sign_in_as, media, storage_dir, name, reason
):
    sign_in_as("editor")
    video = VideoFactory(published=False)
    version = video.version
    assert post_upload(client, video, video=media[name]).status_code == 302

    [entry] = run_probes(client.application, video)

    assert entry.status == "completed"
    assert entry.result["status"] == "refused"
    upload = the_upload(video)
    assert upload.status == "refused"
    assert reason in upload.reason
    assert (video.video_url, video.duration_seconds, video.extra, video.published) == (
        None, None, None, False,
    )  # fmt: skip
    assert video.version == version
    assert audit_rows(video) == []
    page = client.get(f"/videos/{video.video_id}").get_data(as_text=True)
    assert 'data-testid="upload-refused"' in page
    assert reason in page


def test_broken_captions_are_refused_on_the_form_naming_the_line(
    db_session, client, sign_in_as, media, storage_dir
):
    sign_in_as("editor")
    video = VideoFactory()
    response = post_upload(client, video, video=media["clip.mp4"], captions=media["broken.vtt"])
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Line 6: The cue must start before it ends." in page
    assert "nothing was saved" in page
    assert db_session.scalars(select(VideoUpload)).all() == []
    assert stored(storage_dir) == []
    assert (
        db_session.scalars(
            select(ProcessingQueue).where(ProcessingQueue.task_type == uploads.TASK)
        ).all()
        == []
    )


def test_a_file_of_another_kind_is_refused_on_the_form(
    db_session, client, sign_in_as, media, storage_dir, tmp_path
):
    sign_in_as("editor")
    video = VideoFactory()
    renamed = tmp_path / "clip.avi"
    renamed.write_bytes(media["clip.mp4"].read_bytes())
    response = post_upload(client, video, video=renamed)
    assert response.status_code == 400
    assert "Upload an MP4 (.mp4) or WebM (.webm) video file." in response.get_data(as_text=True)
    response = post_upload(client, video, video=media["clip.mp4"], thumbnail=media["notes.mp4"])
    assert "The thumbnail is a .jpg, .png or .webp image." in response.get_data(as_text=True)
    assert db_session.scalars(select(VideoUpload)).all() == []
    assert stored(storage_dir) == []


def test_a_file_over_the_limit_is_answered_413(
    app, db_session, client, sign_in_as, media, storage_dir, monkeypatch
):
    sign_in_as("editor")
    video = VideoFactory()
    monkeypatch.setitem(app.config, "LIBRARY_MAX_UPLOAD_BYTES", 50_000)
    response = post_upload(client, video, video=media["clip.mp4"])
    assert response.status_code == 413
    assert "larger than the upload limit of 50 kB" in response.get_data(as_text=True)
    assert db_session.scalars(select(VideoUpload)).all() == []
    assert stored(storage_dir) == []


def test_the_upload_limit_is_the_librarys_not_the_apps(
    app, db_session, client, sign_in_as, media, storage_dir, monkeypatch
):
    """A video larger than MAX_CONTENT_LENGTH (every other request's limit) is accepted up
    to LIBRARY_MAX_UPLOAD_BYTES."""
    sign_in_as("editor")
    video = VideoFactory()
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 50_000)
    assert post_upload(client, video, video=media["clip.mp4"]).status_code == 302
    assert the_upload(video).status == "pending"


def test_a_check_that_failed_for_good_is_shown_and_no_longer_followed(
    db_session, client, sign_in_as, media, storage_dir
):
    """The stored file vanished (the job fails on every attempt): the page says so."""
    sign_in_as("editor")
    video = VideoFactory()
    post_upload(client, video, video=media["clip.mp4"])
    upload = the_upload(video)
    (storage_dir / upload.video_key).unlink()
    entry = db_session.scalars(
        select(ProcessingQueue).where(ProcessingQueue.video_id == video.id)
    ).one()
    with client.application.app_context(), pytest.raises(StorageError, match="is missing"):
        run_attempt(entry.id, job_id=entry.job_id, attempts=99)  # the last attempt
    db_session.expire_all()
    assert (entry.status, upload.status) == ("failed", "pending")
    page = client.get(f"/library/{video.video_id}/upload/status").get_data(as_text=True)
    assert 'data-status="failed"' in page
    assert "failed and will not be tried again" in page
    assert "hx-get" not in page  # no longer polled


def test_a_thumbnail_is_checked_by_its_content_and_an_empty_video_refused(
    db_session, client, sign_in_as, media, storage_dir, tmp_path
):
    sign_in_as("editor")
    video = VideoFactory()
    fake = tmp_path / "cover.png"
    fake.write_bytes(media["cover.jpg"].read_bytes())  # a JPEG named .png
    response = post_upload(client, video, video=media["clip.mp4"], thumbnail=fake)
    assert response.status_code == 400
    assert "The thumbnail is not a PNG image inside." in response.get_data(as_text=True)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    response = post_upload(client, video, video=empty)
    assert "The video file is empty." in response.get_data(as_text=True)
    assert db_session.scalars(select(VideoUpload)).all() == []
    assert stored(storage_dir) == []


def test_an_uploads_change_is_not_offered_for_revert_as_nothing(
    db_session, client, sign_in_as, media, storage_dir
):
    sign_in_as("editor")
    video = VideoFactory()
    post_upload(client, video, video=media["clip.mp4"])
    run_probes(client.application, video)
    [row] = audit_rows(video)
    page = client.get(f"/audit/{row.id}/revert").get_data(as_text=True)
    assert "An uploaded file is not reverted here: to go back to an earlier file, upload" in page
    assert "Nothing to revert" not in page
