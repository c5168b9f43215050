"""An upload's files are stored before its transaction commits (storage is outside the
database): when that transaction rolls back, they are deleted again, so a failed upload
leaves no file behind; a committed one keeps them."""

from pathlib import Path

from catalog.library import uploads
from catalog.rules import RuleError
from tests.factories import VideoFactory
from tests.library.test_uploads import post_upload


def files_in(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file())


def test_files_stored_by_a_rolled_back_upload_are_deleted(
    db_session, client, sign_in_as, media, storage_dir, monkeypatch
):
    sign_in_as("editor")
    video = VideoFactory()

    def refused(*args, **kwargs):  # after every file is stored: the probe's job is refused
        assert len(files_in(storage_dir)) == 3  # the video, its thumbnail, its captions
        raise RuleError("The probe cannot be queued now.", field="video")

    monkeypatch.setattr(uploads.jobs, "enqueue", refused)
    answer = post_upload(
        client, video, video=media["clip.mp4"], thumbnail=media["cover.jpg"],
        captions=media["captions.vtt"],
    )  # fmt: skip
    assert answer.status_code == 400
    assert "The probe cannot be queued now." in answer.get_data(as_text=True)
    assert files_in(storage_dir) == []


def test_a_committed_upload_keeps_its_files(db_session, client, sign_in_as, media, storage_dir):
    sign_in_as("editor")
    video = VideoFactory()
    answer = post_upload(client, video, video=media["clip.mp4"], captions=media["captions.vtt"])
    assert answer.status_code == 302
    assert len(files_in(storage_dir)) == 2
    # A later rollback of the session (the next request's) deletes nothing of it.
    client.get(f"/library/{video.video_id}/upload")
    assert len(files_in(storage_dir)) == 2
