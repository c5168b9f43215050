"""Putting a video file in, in a real browser: the upload form (clean at both widths), a
broken captions file refused on the form with its line, then a real upload that a real
worker process probes while the video's page follows it (htmx) until the file plays."""

import os
import subprocess

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from catalog.extensions import db
from catalog.models import MetadataSync, User, Video, VideoCategory, VideoProgress
from tests.browser.conftest import open_checked_page, sign_in
from tests.browser.test_pages import visit
from tests.jobs.conftest import FLASK, JOB_SETTINGS, ROOT
from tests.media import make_captions, make_video

pytestmark = pytest.mark.browser


@pytest.fixture
def storage_dir(live_app, tmp_path, monkeypatch):
    directory = tmp_path / "storage"
    monkeypatch.setitem(live_app.config, "REPORTS_DIR", str(directory))
    return directory


@pytest.fixture
def worker(live_app, storage_dir, tmp_path):
    """Starts a worker process on the live server's database and storage when called."""
    processes = []
    log_path = tmp_path / "worker.log"

    def start():
        env = {
            **os.environ, **JOB_SETTINGS, "PYTHONUNBUFFERED": "1",
            "DATABASE_URL": live_app.config["SQLALCHEMY_DATABASE_URI"],
            "REPORTS_DIR": str(storage_dir),
        }  # fmt: skip
        processes.append(
            subprocess.Popen(  # noqa: S603  (our own venv's flask, fixed arguments)
                [FLASK, "--app", "tests.jobs.worker_app", "catalog", "worker"],
                cwd=ROOT,
                env=env,
                stdout=log_path.open("w"),
                stderr=subprocess.STDOUT,
            )
        )

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=15)
    if log_path.exists():
        print(log_path.read_text()[-4000:])


@pytest.fixture
def checked_page(browser):
    """A page with axe-core and the CSP listener in every document, as test_pages has."""
    page, _ = open_checked_page(browser)  # this module's tests read the page's checks
    yield page
    page.context.close()


def test_upload_a_video_file_and_watch_it_being_checked(
    checked_page, live_server, live_app, live_data, storage_dir, worker, tmp_path
):
    page = checked_page
    clip = make_video(tmp_path / "clip.mp4")
    captions = make_captions(tmp_path / "captions.vtt")
    broken = tmp_path / "broken.vtt"
    broken.write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nOne.\n\n00:00:04 --> 00:00:05.000\n"
    )
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(f"{page.url}: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"{page.url}: {e}"))
    tag = live_data.tag
    video_id = live_data.video(video_id=f"up{tag}xxx"[:11], title=f"Upload {tag}")
    sign_in(page, live_server, live_data.user("editor"))

    visit(page, f"{live_server}/library/{video_id}/upload", problems)  # 390 and 1280 px
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/videos/{video_id}")
    page.get_by_role("link", name="Upload file…").click()
    page.get_by_label("Video file").set_input_files(str(clip))
    page.get_by_label("Captions (optional)").set_input_files(str(broken))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("[data-field=captions] .invalid-feedback")).to_contain_text(
        'Line 6: The cue timing "00:00:04 --> 00:00:05.000" is not'
    )
    expect(page.get_by_role("alert")).to_contain_text("nothing was saved")
    # Chromium logs the refusal's status (400) as a console error: that one is expected.
    refused = f"{live_server}/library/{video_id}/upload: Failed to load resource: the server "
    assert problems == [f"{refused}responded with a status of 400 (BAD REQUEST)"]
    problems.clear()

    page.get_by_label("Video file").set_input_files(str(clip))
    page.get_by_label("Captions (optional)").set_input_files(str(captions))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(f"{live_server}/videos/{video_id}")
    status = page.get_by_test_id("upload-status")
    expect(status).to_have_attribute("data-status", "pending")
    worker()
    # The page follows the probe by itself and shows the outcome.
    expect(status).to_have_attribute("data-status", "ready", timeout=60_000)
    expect(status).to_contain_text("plays: 0:05, 320×240, h264/aac")  # noqa: RUF001
    visit(page, f"{live_server}/videos/{video_id}", problems)
    assert problems == []

    with live_app.app_context():
        video = db.session.scalars(select(Video).where(Video.video_id == video_id)).one()
        assert video.duration_seconds == pytest.approx(5.0, abs=0.05)
        assert (storage_dir / video.extra.thumbnail_url).read_bytes()[:2] == b"\xff\xd8"
        assert (storage_dir / video.extra.caption_url).read_text() == captions.read_text()
        [row] = db.session.scalars(
            select(MetadataSync).where(MetadataSync.entity_id == video.id)
            .where(MetadataSync.source == "upload")
        ).all()  # fmt: skip
        assert row.changes["video_url"] == [None, video.video_url]


def test_the_admins_library_pages_are_clean(checked_page, live_server, live_app, live_data):
    """The progress of a person (listed, then cleared after the confirmation) and a
    category's figures, at both widths, as an admin."""
    page = checked_page
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(f"{page.url}: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"{page.url}: {e}"))
    tag = live_data.tag
    viewer = live_data.user("viewer")
    video_id = live_data.video(video_id=f"pr{tag}xxx"[:11], title="P" * 200)
    with live_app.app_context():
        person = db.session.scalars(select(User).where(User.email == viewer)).unique().one()
        video = db.session.scalars(select(Video).where(Video.video_id == video_id)).one()
        category = VideoCategory(name=f"Figures {tag}", slug=f"figures-{tag}")
        db.session.add(category)
        db.session.flush()
        video.category_id = category.id  # test data, not an edit: no audit row needed
        db.session.add(
            VideoProgress(
                user_id=person.id, video_id=video.id, watched_seconds=30, duration_seconds=60,
                last_position=30,
            )
        )  # fmt: skip
        db.session.commit()
        person_id, category_id = person.id, category.id
    admin = live_data.user("admin")
    sign_in(page, live_server, admin, live_data)

    visit(page, f"{live_server}/categories/{category_id}/edit", problems)
    expect(page.locator("[data-figure=viewers]")).to_have_text("1")
    visit(page, f"{live_server}/accounts/users/{person_id}/progress", problems)
    expect(page.get_by_test_id("progress-total")).to_have_text("1 video started.")
    page.get_by_role("link", name="Clear progress…").click()
    visit(page, page.url, problems)
    page.get_by_role("button", name="Clear progress").click()
    expect(page.get_by_test_id("progress-total")).to_have_text("0 videos started.")
    assert problems == []
