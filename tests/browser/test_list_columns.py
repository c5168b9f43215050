"""The video list's column order in Chromium: the chooser moves a column with the keyboard,
the order is kept on the account, and the server renders it so (no script reorders a page)."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_checked_page, settle, sign_in
from tests.browser.test_pages import AXE_RUN

pytestmark = pytest.mark.browser


def _headers(page) -> list[str]:
    return page.locator(".video-list thead th[class*='col-']").evaluate_all(
        "(ths) => ths.map((th) => th.className.match(/col-([a-z0-9_]+)/)[1])"
    )


def test_a_column_moves_with_the_keyboard_and_stays_moved(browser, live_server, live_data):
    tag = live_data.tag
    live_data.video(video_id=f"co{tag}xxx"[:11], title=f"Columns {tag}", privacy_status="private")
    page, problems = open_checked_page(browser)
    try:
        sign_in(page, live_server, live_data.user("editor"))
        page.goto(f"{live_server}/videos?q={tag}")
        before = _headers(page)
        at = before.index("privacy")
        page.get_by_role("button", name="Columns").click()
        move_up = page.get_by_role("button", name="Move Privacy up")
        move_up.focus()
        page.keyboard.press("Enter")
        page.keyboard.press("Enter")
        expect(move_up).to_be_focused()  # the keyboard stays on the moved column
        moved = [*before]
        moved.insert(at - 2, moved.pop(at))
        assert _headers(page) == moved
        # The row's cells moved with their headers.
        row = page.get_by_test_id("video-table").locator("tbody tr").first
        expect(row.locator("td").nth(at - 2 + 1)).to_have_text("private")  # +1: the select box
        settle(page)  # the order is posted to the account
        assert page.evaluate(AXE_RUN) == []
        page.keyboard.press("Escape")

        # Rendered so by the server: the page as sent, before any script, has the new order.
        html = page.request.get(f"{live_server}/videos?q={tag}").text()
        assert html.index('class="col-privacy') < html.index(f'class="col-{moved[at - 1]}')
        page.reload()
        assert _headers(page) == moved
    finally:
        page.context.close()
    assert problems == []
