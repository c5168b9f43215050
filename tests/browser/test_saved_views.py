"""Saved views, chips, coming back to the list and the keyboard, in Chromium: each under
the strict CSP, with no console error."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveData, open_checked_page, settle, sign_in
from tests.browser.test_pages import AXE_RUN, OVERFLOW

pytestmark = pytest.mark.browser


@pytest.fixture
def videos(live_data):
    tag = live_data.tag
    return [
        live_data.video(video_id=f"sv{tag}{n}"[:11].ljust(11, "v"), title=f"Saved {tag} {n}",
                        privacy_status=privacy)
        for n, privacy in enumerate(("public", "private", "private"))
    ]  # fmt: skip


def _rows(page):
    return page.get_by_test_id("video-table").locator("tbody tr")


def _save_view(page, name: str, share: str = "Only me") -> None:
    page.get_by_test_id("save-view-toggle").click()
    form = page.get_by_test_id("save-view-form")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Share with").select_option(label=share)
    form.get_by_role("button", name="Save view").click()
    expect(page.get_by_role("alert")).to_contain_text(f"Saved the view “{name}”")
    expect(page).to_have_url(re.compile(r"/videos\?view=\d+$"))


def _open_menu(page):
    page.get_by_test_id("views-toggle").click()
    menu = page.get_by_test_id("views-menu")
    expect(
        menu.get_by_test_id("view-item").first.or_(menu.get_by_test_id("no-views"))
    ).to_be_visible()
    return menu


def test_save_share_open_change_update_and_make_default(browser, live_server, live_data, videos):
    tag = live_data.tag
    owner, colleague = live_data.user("editor"), LiveData(live_data.app).user("editor")
    page, problems = open_checked_page(browser)
    other, other_problems = open_checked_page(browser)
    try:
        sign_in(page, live_server, owner)
        page.goto(f"{live_server}/videos?q={tag}&privacy=public")
        expect(_rows(page)).to_have_count(1)
        _save_view(page, f"Mine {tag}")  # personal
        page.goto(f"{live_server}/videos?q={tag}&privacy=private")
        _save_view(page, f"Team {tag}", share="Editors")
        expect(page.get_by_test_id("current-view")).to_contain_text(f"Team {tag}")
        expect(_rows(page)).to_have_count(2)

        # Another editor sees the shared view only, and opens it.
        sign_in(other, live_server, colleague)
        menu = _open_menu(other)
        expect(menu.get_by_role("link", name=f"Team {tag}")).to_be_visible()
        expect(menu.get_by_role("link", name=f"Mine {tag}")).to_have_count(0)
        expect(menu.locator(f"[data-view-name='Team {tag}']")).to_contain_text("2 videos")
        menu.get_by_role("link", name=f"Team {tag}").click()
        expect(_rows(other)).to_have_count(2)
        expect(other.get_by_test_id("unsaved")).to_have_count(0)
        # Changing a filter marks the view unsaved; not theirs, so no saving into it.
        other.locator("#filters").get_by_label("Privacy").select_option("public")
        expect(other.get_by_test_id("unsaved")).to_be_visible()
        expect(_rows(other)).to_have_count(1)
        expect(other.get_by_test_id("save-view-changes")).to_have_count(0)
        # Clearing the view's filter overrides it (sent empty), the view's id stays.
        other.locator("#filters").get_by_label("Privacy").select_option("")
        expect(_rows(other)).to_have_count(3)
        expect(other).to_have_url(re.compile(r"view=\d+.*privacy=(&|$)"))

        # The owner changes a filter of theirs and saves it into the view.
        page.locator("#filters").get_by_label("Privacy").select_option("public")
        expect(page.get_by_test_id("unsaved")).to_be_visible()
        page.get_by_test_id("save-view-changes").click()
        expect(page.get_by_role("alert")).to_contain_text(f"Saved the changes to “Team {tag}”")
        expect(page.get_by_test_id("unsaved")).to_have_count(0)
        expect(_rows(page)).to_have_count(1)
        # Its columns are part of it: hiding one is a change to save, and the view keeps it.
        page.get_by_role("button", name="Columns").click()
        page.get_by_label("Artists", exact=True).uncheck()
        page.keyboard.press("Escape")
        expect(page.get_by_test_id("unsaved")).to_be_visible()
        expect(page.locator(".video-list th.col-artist")).to_be_hidden()
        settle(page)  # the column choice is posted to the account first
        page.get_by_test_id("save-view-changes").click()
        expect(page.get_by_role("alert")).to_contain_text(f"Saved the changes to “Team {tag}”")
        expect(page.get_by_test_id("unsaved")).to_have_count(0)
        expect(page.locator(".video-list th.col-artist")).to_be_hidden()

        # The colleague makes it their default: the plain list opens with it.
        menu = _open_menu(other)
        menu.locator(f"[data-view-name='Team {tag}']").get_by_test_id("make-default").click()
        expect(other.get_by_role("alert")).to_contain_text("now opens when you open this list")
        other.goto(f"{live_server}/videos")
        expect(other.get_by_test_id("current-view")).to_contain_text(f"Team {tag}")
        expect(_rows(other)).to_have_count(1)
        # With the owner's columns, though the colleague never hid one.
        expect(other.locator(".video-list th.col-artist")).to_be_hidden()
        settle(page)
        settle(other)
        assert page.evaluate("() => window.__cspViolations") == []
    finally:
        page.context.close()
        other.context.close()
    assert problems == []
    assert other_problems == []


def test_removing_a_chip_keeps_the_other_filters(browser, live_server, live_data, videos):
    tag = live_data.tag
    page, problems = open_checked_page(browser)
    try:
        sign_in(page, live_server, live_data.user("viewer"))
        page.goto(f"{live_server}/videos?q={tag}&privacy=private")
        chips = page.get_by_test_id("chips")
        expect(chips).to_contain_text(f"Search: {tag}")
        expect(chips).to_contain_text("Privacy: private")
        expect(_rows(page)).to_have_count(2)
        chips.get_by_role("link", name="Remove the filter Privacy: private").click()
        expect(page).to_have_url(f"{live_server}/videos?q={tag}")
        expect(_rows(page)).to_have_count(3)
        expect(page.get_by_test_id("chips")).to_contain_text(f"Search: {tag}")
        expect(page.get_by_test_id("chips")).not_to_contain_text("Privacy")
    finally:
        page.context.close()
    assert problems == []


def test_after_a_bulk_edit_and_its_undo_the_list_comes_back_the_same(
    browser, live_server, live_data, videos
):
    tag = live_data.tag
    page, problems = open_checked_page(browser)
    try:
        sign_in(page, live_server, live_data.user("editor"))
        page.goto(f"{live_server}/videos?q={tag}&privacy=private&sort=title&dir=asc")
        expect(_rows(page)).to_have_count(2)
        page.get_by_role("link", name="Bulk edit all matching").click()
        page.get_by_role("checkbox", name="Set Label").check()
        page.locator("#label").fill(f"Label {tag}")
        page.get_by_test_id("bulk-preview-button").click()
        page.get_by_test_id("bulk-confirm").click()
        expect(page.get_by_role("alert")).to_contain_text("Bulk edit saved: 2 videos changed.")
        expect(page).to_have_url(re.compile(rf"/videos\?.*q={tag}"))
        expect(page).to_have_url(re.compile(r"privacy=private"))
        expect(page).to_have_url(re.compile(r"sort=title"))
        expect(_rows(page)).to_have_count(2)
        # The undo comes back to the same list (the `next` its link carries), and so does
        # the navigation's Videos link.
        page.get_by_test_id("undo-bulk").click()
        page.get_by_test_id("undo-batch").click()
        page.get_by_role("button", name="Undo the batch").click()
        expect(page.get_by_role("alert")).to_contain_text("Batch undone")
        expect(page).to_have_url(re.compile(rf"/videos\?.*q={tag}.*privacy=private.*sort=title"))
        expect(_rows(page)).to_have_count(2)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Videos").click()
        expect(page).to_have_url(re.compile(rf"/videos\?.*q={tag}.*privacy=private"))
        expect(_rows(page)).to_have_count(2)
    finally:
        page.context.close()
    assert problems == []


def test_a_keyboard_only_walk_through_the_list(browser, live_server, live_data, videos):
    tag = live_data.tag
    page, problems = open_checked_page(browser)
    try:
        sign_in(page, live_server, live_data.user("editor"))
        page.goto(f"{live_server}/videos?q={tag}&sort=title&dir=asc")
        rows = _rows(page)
        expect(rows).to_have_count(3)
        page.keyboard.press("j")
        expect(rows.nth(0)).to_be_focused()
        page.keyboard.press("j")
        page.keyboard.press("j")
        expect(rows.nth(2)).to_be_focused()
        page.keyboard.press("k")
        expect(rows.nth(1)).to_be_focused()
        assert "row-focus" in rows.nth(1).get_attribute("class")
        page.keyboard.press("x")
        expect(rows.nth(1).locator("input[name=ids]")).to_be_checked()
        expect(rows.nth(0).locator("input[name=ids]")).not_to_be_checked()
        page.keyboard.press("?")
        dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
        expect(dialog).to_be_visible()
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        # Typing in the search box is typing, not a shortcut.
        page.keyboard.press("/")
        expect(page.locator("#f-q")).to_be_focused()
        page.keyboard.type("jk")
        expect(page.locator("#f-q")).to_have_value("jk")
        page.goto(f"{live_server}/videos?q={tag}&sort=title&dir=asc")
        page.keyboard.press("j")
        page.keyboard.press("o")
        expect(page).to_have_url(f"{live_server}/videos/{videos[0]}")
        page.go_back()
        page.keyboard.press("j")
        page.keyboard.press("Enter")
        expect(page).to_have_url(f"{live_server}/videos/{videos[0]}/edit")
    finally:
        page.context.close()
    assert problems == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_open_view_menus_fit_a_phone_and_pass_axe(
    browser, live_server, live_data, videos, scheme
):
    tag = live_data.tag
    page, problems = open_checked_page(browser, color_scheme=scheme)
    try:
        sign_in(page, live_server, live_data.user("editor"))
        page.goto(f"{live_server}/videos?q={tag}&privacy=private")
        _save_view(page, f"Phone {tag}", share="Everyone")
        page.locator("#filters").get_by_label("Privacy").select_option("public")
        expect(page.get_by_test_id("unsaved")).to_be_visible()
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 844})
            menu = _open_menu(page)
            mine = menu.locator(f"[data-view-name='Phone {tag}']")
            if width == 1280:  # stays open while the menu closes and opens again
                mine.get_by_text("Rename, share or delete").click()
            expect(mine.get_by_test_id("delete-view")).to_be_visible()
            page.get_by_test_id("save-view-toggle").click()
            expect(page.get_by_test_id("save-view-form")).to_be_visible()
            settle(page)
            assert page.evaluate(OVERFLOW) is None, width
            assert page.evaluate(AXE_RUN) == [], width
            page.get_by_test_id("views-toggle").click()  # closed again
            page.get_by_test_id("save-view-toggle").click()
        page.keyboard.press("?")
        expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
        assert page.evaluate(AXE_RUN) == []
    finally:
        page.context.close()
    assert problems == []


def test_the_sign_in_page_follows_the_systems_dark_colours(browser, live_server):
    page, problems = open_checked_page(browser, color_scheme="dark")
    try:
        page.goto(f"{live_server}/login")
        settle(page)
        assert page.evaluate("document.documentElement.dataset.bsTheme") == "dark"
        assert page.evaluate(AXE_RUN) == []
    finally:
        page.context.close()
    assert problems == []
