"""Making and editing a production draft in Chromium: a bad save shows its errors on the page
and writes nothing, each good save writes one audit row that the task's timeline shows, and
the pages are clean (no console errors, no CSP violations, no sideways scrolling at 390 and
1280 px, no serious axe violations)."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from catalog.channels import service as channels
from catalog.extensions import db
from catalog.models import MetadataSync
from catalog.models.task import Task
from tests.browser.conftest import AXE, LiveData, open_checked_page, sign_in
from tests.browser.test_pages import AXE_RUN, OVERFLOW, WIDTHS, title_problems

pytestmark = pytest.mark.browser


def check_page(page, problems: list[str]) -> None:
    """The page as it is now, at both widths, with the mouse out of the way: a control left
    under it by the previous page's click would be checked in its hover colours."""
    page.mouse.move(0, 0)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        if overflow := page.evaluate(OVERFLOW):
            problems.append(f"{page.url} at {width}px scrolls sideways: {overflow}")
        problems += [f"{page.url} at {width}px: {v}" for v in page.evaluate(AXE_RUN)]
        problems += [f"{page.url}: CSP {b}" for b in page.evaluate("() => window.__cspViolations")]
    problems += title_problems(page)


def saved(app, channel_pk: int) -> tuple[list[Task], int]:
    with app.app_context():
        tasks = db.session.scalars(select(Task).where(Task.channel_id == channel_pk)).all()
        rows = db.session.scalar(
            select(func.count())
            .select_from(MetadataSync)
            .where(
                MetadataSync.entity_type == "task",
                MetadataSync.entity_id.in_([t.id for t in tasks]),
            )
        )
        db.session.expunge_all()
        return tasks, rows


def test_an_editor_makes_and_edits_a_draft(browser, live_server, live_app):
    assert AXE.exists(), "axe-core is missing: run `make install-test` (npm ci)"
    people = LiveData(live_app)
    tag = people.tag
    with live_app.app_context():
        channel = channels.create_channel(
            {"channel_id": f"UCdraft{tag}".ljust(24, "x"), "name": f"Draft Desk {tag}"},
            actor=None, source="cli",
        )  # fmt: skip
        db.session.commit()
        channel_pk = channel.id
    page_id = (tag * 6)[:32].replace("g", "a")  # hex: the tag is uuid4 hex
    # A refused save answers 422 on purpose (Chromium logs it as an error): not a problem.
    page, problems = open_checked_page(browser, provoked=422)
    context = page.context
    try:
        sign_in(page, live_server, people.user("editor"))
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Production").click()
        check_page(page, problems)
        page.get_by_role("link", name="New draft").click()
        check_page(page, problems)

        # A bad save: each field says what is wrong, nothing is written.
        page.get_by_label("Notion page").fill("not a page")
        page.get_by_label("Channel").select_option(label=f"Draft Desk {tag} ({channel.channel_id})")
        page.get_by_role("button", name="Create draft").click()
        expect(page.get_by_role("alert")).to_contain_text("nothing was saved")
        expect(page.locator("[data-field=notion_page_id] .invalid-feedback")).to_contain_text(
            "32 hexadecimal characters"
        )
        expect(page.locator("[data-field=title] .invalid-feedback")).to_have_text(
            "A task needs a title."
        )
        check_page(page, problems)
        assert saved(live_app, channel_pk) == ([], 0)

        # Fixed: the page's URL is taken for its id.
        page.get_by_label("Notion page").fill(f"https://www.notion.so/team/Canyons-{page_id}")
        page.get_by_label("Title").fill(f"Canyons {tag}")
        page.get_by_label("Priority").select_option("high")
        page.get_by_label("Topic").fill("How rivers carve rock")
        page.get_by_role("button", name="Create draft").click()
        expect(page.get_by_test_id("task-title")).to_have_text(f"Canyons {tag}")
        expect(page.get_by_test_id("change-row")).to_have_count(1)
        check_page(page, problems)
        [task], rows = saved(live_app, channel_pk)
        assert (task.notion_page_id, task.priority, rows) == (page_id, "high", 1)

        page.get_by_role("link", name="Edit", exact=True).click()
        expect(page.get_by_label("Title")).to_have_value(f"Canyons {tag}")
        page.get_by_label("Title").fill(f"Canyons, carved {tag}")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Saved 1 change.")).to_be_visible()
        expect(page.get_by_test_id("change-row")).to_have_count(2)
        expect(page.get_by_test_id("change-row").first).to_contain_text(f"Canyons, carved {tag}")
        [task], rows = saved(live_app, channel_pk)
        assert (task.title, rows) == (f"Canyons, carved {tag}", 2)
    finally:
        context.close()
    assert problems == [], "\n".join(problems)
