"""The production board and the review gates in Chromium: the board at 390 and 1280 px (a
column's next page, a filter kept in the URL), and an editor reviewing with the keyboard
alone (a approves, s sends back with the reason typed first, j/k move between the waiting
tasks, no key acts while typing); the page checks of tests/browser/test_pages.py apply."""

import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from catalog.channels import service as channels
from catalog.extensions import db
from catalog.models import PipelineWorker, Task
from tests.browser.conftest import LiveData, open_checked_page, sign_in
from tests.browser.test_drafts import check_page

pytestmark = pytest.mark.browser
# Before anything else on the shared live database: these tasks are first in claim order.
LONG_AGO = datetime(2001, 1, 1, tzinfo=UTC)
# Each seeding takes a day of its own, so one test's tasks never fall between another's.
_days = itertools.count()


def _seed(app, tag: str) -> dict:
    start = LONG_AGO + timedelta(days=next(_days))
    with app.app_context():
        channel = channels.create_channel(
            {"channel_id": f"UCboard{tag}".ljust(24, "x"), "name": f"Board Desk {tag}"},
            actor=None, source="cli",
        )  # fmt: skip
        worker = PipelineWorker(name=f"renderer-{tag}", token_hash=tag.ljust(64, "0"),
                                stages=["video"])  # fmt: skip
        db.session.add(worker)
        db.session.flush()

        def task(status: str, n: int, **values) -> Task:
            made = Task(
                channel_id=channel.id, notion_page_id=f"{tag}{n:026x}", status=status,
                title=values.pop("title", f"{status} {n} {tag}"),
                created_at=start + timedelta(seconds=n), **values,
            )  # fmt: skip
            db.session.add(made)
            return made

        queued = [task("queued", n) for n in range(14)]
        review = [
            task(status, 20 + n, priority="high", title=f"Review {n} {tag}")
            for n, status in enumerate(("video_ready", "assets_ready", "final_review"))
        ]
        task("generating_video", 30, claimed_by=worker.id)
        task("video_error", 31, failed_from="generating_video",
             error_log="[2026-12-01T10:00:00+00:00] renderer: video: out of memory\n")  # fmt: skip
        task("published", 32)
        db.session.commit()
        return {
            "channel": channel.id,
            "channel_key": channel.channel_id,
            "queued": [t.id for t in queued],
            "review": [t.id for t in review],
        }


def _status(app, task_id: int) -> Task:
    with app.app_context():
        task = db.session.scalars(select(Task).where(Task.id == task_id)).one()
        db.session.expunge(task)
        return task


@pytest.fixture
def checked_page(browser):
    page, problems = open_checked_page(browser)
    yield page, problems
    page.context.close()


def test_the_board_at_both_widths_with_more_cards_and_a_filter(checked_page, live_server, live_app):
    page, problems = checked_page
    people = LiveData(live_app)
    seeded = _seed(live_app, people.tag)
    sign_in(page, live_server, people.user("viewer"))
    page.goto(f"{live_server}/production?channel={seeded['channel']}")
    check_page(page, problems)

    queued = page.locator("[data-testid=column][data-phase='Queued']")
    expect(queued.get_by_test_id("phase-count")).to_have_text("14")
    expect(queued.get_by_test_id("card")).to_have_count(10)
    queued.get_by_role("link", name="Show more").click()
    expect(queued.get_by_test_id("card")).to_have_count(14)
    expect(queued.get_by_role("link", name="Show more")).to_have_count(0)
    ids = [int(i) for i in queued.get_by_test_id("card").evaluate_all(
        "cards => cards.map((c) => c.dataset.taskId)")]  # fmt: skip
    assert ids == seeded["queued"]  # claim order: FIFO within a priority
    in_production = page.locator("[data-testid=column][data-phase='In production']")
    expect(in_production.get_by_test_id("card-worker")).to_contain_text(f"renderer-{people.tag}")
    check_page(page, problems)

    # A filter applies at once (htmx) and stays in the URL.
    page.get_by_label("Stage").select_option("video")
    page.wait_for_url(re.compile(r".*stage=video.*"))
    expect(queued.get_by_test_id("phase-count")).to_have_text("0")
    errors = page.locator("[data-testid=column][data-phase='Errors']")
    expect(errors.get_by_test_id("phase-count")).to_have_text("1")
    page.reload()
    expect(page.get_by_label("Stage")).to_have_value("video")
    check_page(page, problems)
    assert problems == []


def test_an_editor_reviews_with_the_keyboard(checked_page, live_server, live_app):
    page, problems = checked_page
    people = LiveData(live_app)
    seeded = _seed(live_app, people.tag)
    first, second, third = seeded["review"]
    sign_in(page, live_server, people.user("editor"))
    page.goto(f"{live_server}/production/tasks/{first}")
    expect(page.get_by_test_id("shortcuts")).to_contain_text("approve")
    check_page(page, problems)

    # j and k move between the waiting tasks without deciding anything.
    page.keyboard.press("j")
    page.wait_for_url(f"{live_server}/production/tasks/{second}")
    page.keyboard.press("k")
    page.wait_for_url(f"{live_server}/production/tasks/{first}")

    page.keyboard.press("a")  # approve: the next waiting task opens
    page.wait_for_url(f"{live_server}/production/tasks/{second}")
    expect(page.get_by_role("alert")).to_contain_text(f"Approved “Review 0 {people.tag}”")
    assert _status(live_app, first).status == "video_approved"

    # Typing a reason (with an a and an s in it) decides nothing; s outside the field does.
    reason = page.get_by_label("Reason (optional)")
    reason.fill("")
    reason.press_sequentially("needs a sharper start")
    expect(page).to_have_url(f"{live_server}/production/tasks/{second}")
    assert _status(live_app, second).status == "assets_ready"
    reason.blur()
    page.keyboard.press("s")
    page.wait_for_url(f"{live_server}/production/tasks/{third}")
    expect(page.get_by_role("alert")).to_contain_text(f"Sent back “Review 1 {people.tag}”")
    sent_back = _status(live_app, second)
    assert sent_back.status == "generating_assets"
    assert "sent back: needs a sharper start" in sent_back.error_log
    check_page(page, problems)
    assert problems == []


def test_an_editors_other_production_pages_are_clean(checked_page, live_server, live_app):
    """The channel's production page (its capacity changed), a cancel's confirmation, a bulk
    action's count and confirmation: at both widths, with the page checks."""
    page, problems = checked_page
    people = LiveData(live_app)
    seeded = _seed(live_app, people.tag)
    sign_in(page, live_server, people.user("editor"))
    page.goto(f"{live_server}/production/channels/{seeded['channel_key']}")
    check_page(page, problems)
    page.get_by_label("Capacity").fill("7")
    page.get_by_role("button", name="Set capacity").click()
    expect(page.get_by_role("alert")).to_contain_text("set to 7")
    expect(page.get_by_test_id("capacity-history")).to_contain_text("7")
    check_page(page, problems)

    page.goto(f"{live_server}/production/tasks/{seeded['review'][0]}")
    page.get_by_role("link", name="Cancel…").click()
    check_page(page, problems)
    page.get_by_role("button", name="Cancel the task").click()
    expect(page.get_by_test_id("task-status")).to_have_text("draft")

    page.goto(f"{live_server}/production?channel={seeded['channel']}&status=queued")
    page.get_by_label("On the filtered tasks", exact=True).select_option("priority")
    page.get_by_label("New priority").select_option("high")
    page.get_by_role("button", name="Count and confirm…").click()
    expect(page.get_by_test_id("bulk-count")).to_contain_text("14 tasks")
    check_page(page, problems)
    page.get_by_role("button", name="Change the priority: 14 tasks").click()
    expect(page.get_by_role("alert")).to_contain_text("14 tasks set to high.")
    queued = page.locator("[data-testid=column][data-phase='Queued']")
    expect(queued.get_by_test_id("card-priority").first).to_have_text("high")
    assert problems == []


def test_a_result_that_cannot_be_loaded_says_so_in_place_of_its_player(page, live_server, live_app):
    """A result's file that is gone or whose host is away: a note where the player was,
    not a player that spins for ever; its link stays."""
    people = LiveData(live_app)
    seeded = _seed(live_app, people.tag)
    missing = "https://127.0.0.1:9/gone/video.mp4"  # nothing listens there
    with live_app.app_context():
        task = db.session.get(Task, seeded["review"][0])
        task.video_url = missing
        db.session.commit()
    sign_in(page, live_server, people.user("editor"))
    page.goto(f"{live_server}/production/tasks/{seeded['review'][0]}")
    results = page.get_by_test_id("task-results")
    player = results.locator("video")
    expect(player).to_have_count(1)
    player.evaluate("video => video.play().catch(() => {})")
    expect(results.get_by_test_id("preview-failed")).to_contain_text("could not be loaded")
    expect(player).to_have_count(0)
    expect(results.get_by_role("link", name=missing)).to_be_visible()
