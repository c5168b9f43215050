"""The library in Chromium: real files play (currentTime advances), progress is saved by the
page's beacons and offered back after a reload, 90 % completes, reactions toggle without a
reload, rows move with the keyboard; and /library and the watch page pass the page checks
(console, CSP, no sideways scrolling at 390 and 1280 px, axe)."""

import re
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from catalog.extensions import db
from catalog.models import User, Video, VideoCategory, VideoMetadata, VideoProgress
from catalog.reports.storage import LocalStorage
from tests.browser.conftest import LiveData, open_checked_page, sign_in
from tests.browser.test_pages import visit
from tests.media import make_captions, make_video

pytestmark = pytest.mark.browser

LONG = 20.0  # seconds: long enough to resume somewhere before the end


@pytest.fixture(scope="module")
def library(live_app, tmp_path_factory):
    """A category with a 20-second MP4 (with captions), a 5-second WebM, and twelve more
    videos so that the row scrolls and has more to load; files in a storage directory of
    this module's own."""
    folder = tmp_path_factory.mktemp("library")
    previous = live_app.config.get("REPORTS_DIR")
    live_app.config["REPORTS_DIR"] = str(folder / "store")
    storage = LocalStorage(folder / "store")
    files = {
        "long": make_video(folder / "long.mp4", seconds=LONG),
        "short": make_video(folder / "short.webm", container="webm"),
        "vtt": make_captions(folder / "captions.vtt"),
    }
    data = LiveData(live_app)
    with live_app.app_context():
        category = VideoCategory(name=f"Browser {data.tag}", slug=f"browser-{data.tag}",
                                 sort_order=-1)  # fmt: skip
        db.session.add(category)
        db.session.commit()
        category_id = category.id

    made = []

    def add(name: str, file: str, duration: float, views: int, captions: bool = False):
        made.append(name)
        video_id = data.video(
            video_id=f"lb{data.tag}{len(made):03d}", title=f"{name} {data.tag}",
            artist=["Browser Band"],
        )  # fmt: skip
        with live_app.app_context():
            video = db.session.scalars(select(Video).where(Video.video_id == video_id)).one()
            with files[file].open("rb") as source:
                key = storage.save(source, files[file].suffix).key
            # Direct writes: the upload and its probe are another part's (catalog/library).
            video.published, video.video_url, video.duration_seconds = True, key, duration
            video.category_id, video.views = category_id, views
            if captions:
                with files["vtt"].open("rb") as source:
                    db.session.add(
                        VideoMetadata(
                            video_id=video.id, caption_url=storage.save(source, ".vtt").key
                        )
                    )
            db.session.commit()
        return video_id

    videos = {
        "long": add("Long", "long", LONG, 900, captions=True),
        "short": add("Short", "short", 5.0, 800),
    }
    for n in range(12):
        add(f"Filler {n}", "short", 5.0, 100 - n)
    yield {**videos, "category_id": category_id, "tag": data.tag}
    live_app.config["REPORTS_DIR"] = previous
    # Their files were in this module's storage: out of the library again, so that the
    # tests that follow on the same server (the page crawl) find no video without its file.
    with live_app.app_context():
        db.session.execute(
            update(Video).where(Video.category_id == category_id).values(published=False)
        )
        db.session.commit()


def progress_row(live_app, email: str, video_id: str) -> VideoProgress | None:
    with live_app.app_context():
        row = db.session.scalars(
            select(VideoProgress)
            .join(User, User.id == VideoProgress.user_id)
            .join(Video, Video.id == VideoProgress.video_id)
            .where(User.email == email, Video.video_id == video_id)
        ).first()
        if row is not None:
            db.session.expunge(row)
        return row


def play_muted(page) -> None:
    # Muted playback needs no user gesture under Chromium's autoplay policy.
    page.evaluate(
        "() => { const p = document.getElementById('player'); p.muted = true; p.play(); }"
    )


def beacon_after(page, action) -> None:
    """Run `action` and wait for the progress beacon it sends to be answered (204)."""
    with page.expect_response(lambda r: r.url.endswith("/progress")) as answer:
        action()
    assert answer.value.status == 204, answer.value.text()


def test_a_real_file_plays_and_is_resumed_after_a_reload(page, live_server, live_app, library):
    email = LiveData(live_app).user("viewer")
    sign_in(page, live_server, email)
    media: list[tuple[int, str]] = []
    page.on(
        "response",
        lambda r: (
            r.url.endswith("/video")
            and media.append((r.status, r.headers.get("content-range", "")))
        ),
    )
    page.goto(f"{live_server}/library/{library['long']}")
    expect(page.get_by_test_id("resume-offer")).to_have_count(0)
    play_muted(page)
    page.wait_for_function("() => document.getElementById('player').currentTime > 2.5")
    # The player fetched its file in ranges, and was answered with parts.
    assert any(status == 206 and value.startswith("bytes ") for status, value in media), media
    beacon_after(page, lambda: page.evaluate("() => document.getElementById('player').pause()"))
    row = progress_row(live_app, email, library["long"])
    assert row is not None
    assert 2.5 < row.last_position < LONG
    assert 2 < row.watched_seconds <= row.last_position + 0.5
    assert not row.completed

    page.reload()
    minutes, seconds = divmod(int(row.last_position), 60)
    resume = page.get_by_role("button", name=f"Resume at {minutes}:{seconds:02d}")
    expect(resume).to_be_visible()
    expect(page.get_by_role("button", name="Start over")).to_be_visible()
    page.evaluate("() => { document.getElementById('player').muted = true; }")
    resume.click()
    page.wait_for_function(
        f"() => document.getElementById('player').currentTime > {row.last_position + 0.5}"
    )
    expect(page.get_by_test_id("resume-offer")).to_have_count(0)
    expect(page.locator("#player")).to_be_focused()


def test_seeking_past_ninety_percent_completes(page, live_server, live_app, library):
    email = LiveData(live_app).user("viewer")
    sign_in(page, live_server, email)
    page.goto(f"{live_server}/library/{library['short']}")
    page.wait_for_function("() => document.getElementById('player').readyState >= 1")
    beacon_after(
        page,
        lambda: page.evaluate("() => { document.getElementById('player').currentTime = 4.6; }"),
    )
    row = progress_row(live_app, email, library["short"])
    assert row.completed
    assert row.last_position == pytest.approx(4.6, abs=0.05)
    assert row.watched_seconds == 0  # a seek plays nothing
    # Back to the start: the position follows, completion stays.
    beacon_after(
        page,
        lambda: page.evaluate("() => { document.getElementById('player').currentTime = 0.5; }"),
    )
    row = progress_row(live_app, email, library["short"])
    assert row.completed
    assert row.last_position == pytest.approx(0.5, abs=0.05)


def test_keys_on_the_player(page, live_server, live_app, library):
    sign_in(page, live_server, LiveData(live_app).user("viewer"))
    page.goto(f"{live_server}/library/{library['long']}")
    player = page.locator("#player")
    page.wait_for_function("() => document.getElementById('player').readyState >= 1")
    player.focus()
    player.press("ArrowRight")
    page.wait_for_function("() => document.getElementById('player').currentTime >= 5")
    player.press("m")
    assert page.evaluate("() => document.getElementById('player').muted")
    player.press("k")
    page.wait_for_function("() => !document.getElementById('player').paused")
    player.press("k")
    page.wait_for_function("() => document.getElementById('player').paused")
    # Captions: the track loaded and its cues are there.
    page.wait_for_function(
        "() => { const t = document.getElementById('player').textTracks[0];"
        " return t && t.cues && t.cues.length === 2; }"
    )


def test_reactions_toggle_without_a_reload(page, live_server, live_app, library):
    sign_in(page, live_server, LiveData(live_app).user("viewer"))
    page.goto(f"{live_server}/library/{library['short']}")
    page.evaluate("() => { window.__samePage = true; }")
    like = page.get_by_test_id("reaction-like")
    love = page.get_by_test_id("reaction-love")
    like.click()
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(like.locator("[data-count]")).to_have_text("1")
    love.press("Enter")  # the keyboard too
    expect(love).to_have_attribute("aria-pressed", "true")
    expect(like).to_have_attribute("aria-pressed", "false")
    expect(like.locator("[data-count]")).to_have_text("0")
    expect(love).to_be_focused()
    love.click()
    expect(love).to_have_attribute("aria-pressed", "false")
    expect(love.locator("[data-count]")).to_have_text("0")
    assert page.evaluate("() => window.__samePage === true")


def test_a_row_moves_with_the_arrow_keys_and_loads_more(page, live_server, live_app, library):
    sign_in(page, live_server, LiveData(live_app).user("viewer"))
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(f"{live_server}/library")
    row = page.locator(f"[data-row='category-{library['category_id']}']")
    cards = row.get_by_test_id("library-card")
    expect(cards).to_have_count(10)
    cards.first.focus()
    page.keyboard.press("ArrowRight")
    expect(cards.nth(1)).to_be_focused()
    page.keyboard.press("End")  # the row's last item: its More button
    more = row.get_by_test_id("row-more")
    expect(more).to_be_focused()
    page.keyboard.press("Enter")
    expect(cards).to_have_count(14)
    expect(cards.nth(10)).to_be_focused()  # the first of the new cards
    expect(more).to_have_count(0)
    page.keyboard.press("End")
    expect(cards.last).to_be_focused()
    inside = (
        "el => { const r = el.getBoundingClientRect();"
        " return r.left >= 0 && r.right <= innerWidth; }"
    )
    assert cards.last.evaluate(inside)  # scrolled into the row's view
    page.keyboard.press("Home")
    expect(cards.first).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf".*/library/{re.escape(library['long'])}$"))


def test_search_inside_the_library(page, live_server, live_app, library):
    sign_in(page, live_server, LiveData(live_app).user("viewer"))
    page.goto(f"{live_server}/library")
    page.get_by_label("Search the library by title or artist").fill(f"long {library['tag']}")
    page.get_by_role("button", name="Search").click()
    results = page.get_by_test_id("search-results").get_by_test_id("library-card")
    expect(results).to_have_count(1)
    expect(results.first).to_have_attribute("data-video-id", library["long"])


def test_library_pages_pass_the_page_checks(browser, live_server, live_app, library):
    page, problems = open_checked_page(browser)
    context = page.context
    try:
        email = LiveData(live_app).user("viewer")
        sign_in(page, live_server, email)
        # Started, so the page shows the resume offer and Continue watching its row.
        with live_app.app_context():
            user = db.session.scalars(select(User).where(User.email == email)).unique().one()
            video = db.session.scalars(select(Video).where(Video.video_id == library["long"])).one()
            db.session.add(
                VideoProgress(user_id=user.id, video_id=video.id, duration_seconds=LONG,
                              last_position=7, watched_seconds=7)
            )  # fmt: skip
            db.session.commit()
        for url in ("/library", f"/library/{library['long']}", f"/library?q={uuid.uuid4().hex}",
                    f"/library?q={library['tag']}"):  # fmt: skip
            visit(page, f"{live_server}{url}", problems)
        page.goto(f"{live_server}/library")
        expect(page.locator("[data-row='continue']")).to_be_visible()
    finally:
        context.close()
    assert problems == [], "\n".join(problems)
