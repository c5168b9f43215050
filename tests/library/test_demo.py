"""`flask catalog demo` fills the library: stored clips, heroes, category rows, the demo
viewer's "Continue watching"; a second run adds nothing; without ffmpeg the demo goes on."""

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from catalog.demo import library as demo_library
from catalog.models import MetadataSync, Video, VideoCategory, VideoProgress, VideoReaction
from tests.factories import CategoryFactory, VideoFactory
from tests.helpers import sign_in, signed_in

VIEWER = "viewer@example.com"


@pytest.fixture
def instance_dir(app, tmp_path, monkeypatch):
    """The app's instance folder (the demo's login file), moved to a temporary directory."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    return tmp_path / "instance"


def invoke(app, *args: str):
    return app.test_cli_runner().invoke(args=["catalog", *args])


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def password_of(instance_dir, email: str) -> str:
    for line in (instance_dir / "admin-login.txt").read_text().splitlines():
        if line.startswith(f"{email} "):
            return line.split()[1]
    raise AssertionError(f"{email} is not in the login file")


@pytest.fixture
def demo(demo_app, demo_session):
    """The demo command's output: it ran once on an empty catalog (tests/conftest.py), whose
    database this test sees in a transaction of its own."""
    return demo_app.demo_output


@pytest.fixture
def demo_storage(demo_app) -> Path:
    return Path(demo_app.config["REPORTS_DIR"])


def test_the_demo_library_has_files_heroes_and_progress(demo_session, demo, demo_storage):
    db_session, storage_dir = demo_session, demo_storage
    assert "24 videos to watch on /library" in demo
    with_file = db_session.scalars(select(Video).where(Video.video_url.is_not(None))).all()
    assert len(with_file) == demo_library.TARGET
    assert all(v.published and v.duration_seconds > 3.5 for v in with_file)
    assert all(v.extra.thumbnail_url.endswith(".jpg") for v in with_file)
    assert all(v.extra.caption_url.endswith(".vtt") for v in with_file)
    clips = {v.video_url for v in with_file}
    assert len(clips) == len(demo_library.CLIPS)
    assert all(key.endswith(".mp4") and (storage_dir / key).is_file() for key in clips)
    # Heroes with a file: one in each of the first three categories, never two in one.
    heroes = [v.category_id for v in with_file if v.is_hero]
    assert len(heroes) == len(set(heroes)) == demo_library.HEROES
    assert count(db_session, VideoCategory, VideoCategory.is_active) == 8
    assert len({v.category_id for v in with_file}) == 8
    # The files came through the audited path, as the demo (no person).
    audited = count(
        db_session, MetadataSync,
        MetadataSync.source == "cli", MetadataSync.user_id.is_(None),
        MetadataSync.entity_type == "video", MetadataSync.action == "update",
        MetadataSync.changes.has_key("video_url"),
    )  # fmt: skip
    assert audited == demo_library.TARGET
    assert count(db_session, VideoProgress, VideoProgress.completed) == 2
    assert count(db_session, VideoProgress, ~VideoProgress.completed) == 5
    assert count(db_session, VideoReaction) == 6


def test_the_demo_viewer_finds_a_living_library(demo_app, demo_client, demo):
    client, instance_dir = demo_client, Path(demo_app.instance_path)
    assert signed_in(sign_in(client, VIEWER, password_of(instance_dir, VIEWER)))

    page = client.get("/library")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-testid="library-hero"' in html
    rows = re.findall(r'data-row="([^"]+)"', html)
    assert "continue" in rows
    assert sum(row.startswith("category-") for row in rows) >= 2
    watching = html[html.index('data-row="continue"') :]
    watching = watching[: watching.index("</section>")]
    assert len(re.findall(r'href="/library/([\w-]{11})"', watching)) == 2

    video_id = re.search(r'href="/library/([\w-]{11})"', html).group(1)
    assert client.get(f"/library/{video_id}").status_code == 200
    part = client.get(f"/library/{video_id}/video", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206
    assert part.headers["Content-Type"] == "video/mp4"
    assert len(part.data) == 100
    assert part.data[4:8] == b"ftyp"


def test_a_second_demo_run_adds_nothing_to_the_library(demo_app, demo_session, demo, demo_storage):
    app, db_session, storage_dir = demo_app, demo_session, demo_storage
    models = (Video, MetadataSync, VideoProgress, VideoReaction)
    before = {model: count(db_session, model) for model in models}
    stored = sorted(p for p in storage_dir.rglob("*") if p.is_file())

    again = invoke(app, "demo")

    assert again.exit_code == 0, again.output
    assert "to watch on /library" not in again.output
    assert {model: count(db_session, model) for model in models} == before
    assert sorted(p for p in storage_dir.rglob("*") if p.is_file()) == stored


def test_without_ffmpeg_the_demo_goes_on_with_an_empty_library(
    app, db_session, instance_dir, storage_dir, tmp_path, monkeypatch
):
    video = VideoFactory(
        category=CategoryFactory(), privacy_status="public", hidden=False, published=False
    )
    video_rows = count(db_session, MetadataSync, MetadataSync.entity_type == "video")
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))

    result = invoke(app, "demo")

    assert result.exit_code == 0, result.output
    assert "ffmpeg is not installed: the library (/library) stays empty" in result.output
    assert "Install it" in result.output
    db_session.refresh(video)
    assert video.video_url is None
    assert not video.published
    assert count(db_session, VideoProgress) == 0
    assert count(db_session, MetadataSync, MetadataSync.entity_type == "video") == video_rows


def test_a_category_keeps_its_present_hero_even_a_hidden_one(app_ctx, storage_dir):
    category = CategoryFactory(sort_order=0)
    hero = VideoFactory(category=category, published=True, is_hero=True, hidden=True, views=1)
    others = [VideoFactory(category=category, views=1000 + n) for n in range(3)]

    given = demo_library.load_demo_library()

    assert given == 4  # one category: all of its videos shown, up to TARGET
    assert hero.video_url is not None  # it kept its place and got a file
    assert hero.is_hero
    assert [v.is_hero for v in others] == [False] * 3
    assert all(v.video_url and v.published for v in others)
