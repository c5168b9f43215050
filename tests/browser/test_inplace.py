"""Edit in place on the video list, in Chromium under the strict CSP (issue 18 §3): a click
edits a value and the video's history shows the change; a conflict between two pages is
resolved in the row; the keyboard alone edits; Escape cancels without a request; a bad
value is an error in the row. Each page is checked for console errors, CSP violations and
axe's serious findings."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveData, open_checked_page, settle, sign_in
from tests.browser.test_pages import AXE_RUN, OVERFLOW

pytestmark = pytest.mark.browser


@pytest.fixture
def video(live_data):
    tag = live_data.tag
    return live_data.video(
        video_id=f"ip{tag}xxx"[:11], title=f"In place {tag}", privacy_status="public"
    )


def _list(page, live_server, tag: str):
    page.goto(f"{live_server}/videos?q={tag}")
    rows = page.get_by_test_id("video-table").locator("tbody tr")
    expect(rows).to_have_count(1)
    return rows.first


def _cell(page, row, key: str):
    """The row's cell under the header col-<key> (cells carry no class of their own)."""
    index = page.locator(f".video-list thead th.col-{key}").evaluate("(th) => th.cellIndex")
    return row.locator("td").nth(index)


def _status(page):
    return page.locator("#cell-status")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_click_edits_the_privacy_and_the_history_shows_it(
    browser, live_server, live_data, video, scheme
):
    tag = live_data.tag
    editor = live_data.user("editor")
    page, problems = open_checked_page(browser, color_scheme=scheme)
    try:
        sign_in(page, live_server, editor)
        row = _list(page, live_server, tag)
        privacy = _cell(page, row, "privacy")
        privacy.click()
        editor_form = privacy.get_by_test_id("cell-editor")
        expect(editor_form).to_be_visible()
        select = editor_form.get_by_label(f"Privacy of {video}")
        expect(select).to_be_focused()
        expect(select).to_have_value("public")
        for width in (1280, 390):  # the open editor fits, and passes axe
            page.set_viewport_size({"width": width, "height": 900})
            settle(page)
            assert page.evaluate(OVERFLOW) is None, width
            assert page.evaluate(AXE_RUN) == [], width
        select.select_option("unlisted")
        select.press("Enter")
        expect(privacy).to_have_text("unlisted")
        expect(_status(page)).to_have_text(f"Saved: Privacy of {video} is unlisted.")
        expect(privacy).to_be_focused()
        expect(_cell(page, row, "changed")).to_contain_text(editor)  # its Last change too

        page.goto(f"{live_server}/videos/{video}")
        change = page.get_by_test_id("change-row").first
        expect(change).to_contain_text(editor)
        expect(change).to_contain_text("unlisted")
        expect(change).to_contain_text("public")
        assert live_data.get(video).privacy_status == "unlisted"
        assert page.evaluate("() => window.__cspViolations") == []
    finally:
        page.context.close()
    assert problems == []


def test_a_conflict_between_two_pages_is_resolved_in_the_row(
    browser, live_server, live_data, video
):
    tag = live_data.tag
    # The refused saves answer 409, as the edit form's conflict does: provoked, not a fault.
    # The first in the dark colour mode: the conflict's colours pass axe in both.
    first, first_problems = open_checked_page(browser, provoked=409, color_scheme="dark")
    second, second_problems = open_checked_page(browser, provoked=409)
    try:
        sign_in(first, live_server, live_data.user("editor"))
        sign_in(second, live_server, LiveData(live_data.app).user("editor"))
        cells = []
        for page in (first, second):
            cell = _cell(page, _list(page, live_server, tag), "privacy")
            cell.click()
            expect(cell.get_by_test_id("cell-editor")).to_be_visible()
            cells.append(cell)
        mine, theirs = cells
        # The second page saves first.
        theirs.get_by_label(f"Privacy of {video}").select_option("private")
        theirs.get_by_test_id("cell-save").click()
        expect(theirs).to_have_text("private")

        mine.get_by_label(f"Privacy of {video}").select_option("unlisted")
        mine.get_by_test_id("cell-save").click()
        conflict = mine.get_by_test_id("cell-conflict")
        expect(conflict).to_be_visible()
        expect(conflict.get_by_test_id("cell-current")).to_have_text("private")
        expect(_status(first)).to_contain_text("was changed meanwhile")
        assert live_data.get(video).privacy_status == "private"  # nothing overwritten yet
        settle(first)
        assert first.evaluate(AXE_RUN) == []

        # Deliberately: overwrite with mine.
        conflict.get_by_test_id("cell-overwrite").click()
        expect(mine).to_have_text("unlisted")
        assert live_data.get(video).privacy_status == "unlisted"

        # The other way: the second page, now stale, keeps the current value.
        theirs.click()
        expect(theirs.get_by_test_id("cell-editor")).to_be_visible()
        mine.click()  # the first page changes it again meanwhile
        mine.get_by_label(f"Privacy of {video}").select_option("public")
        mine.get_by_test_id("cell-save").click()
        expect(mine).to_have_text("public")
        theirs.get_by_label(f"Privacy of {video}").select_option("private")
        theirs.get_by_test_id("cell-save").click()
        expect(theirs.get_by_test_id("cell-conflict")).to_be_visible()
        theirs.get_by_role("button", name="Keep the current value").click()
        expect(theirs).to_have_text("public")
        expect(_status(second)).to_have_text("Kept the current value.")
        assert live_data.get(video).privacy_status == "public"
    finally:
        first.context.close()
        second.context.close()
    assert first_problems == []
    assert second_problems == []


def test_the_keyboard_alone_edits_a_value_in_place(browser, live_server, live_data, video):
    tag = live_data.tag
    page, problems = open_checked_page(browser)
    try:
        sign_in(page, live_server, live_data.user("editor"))
        row = _list(page, live_server, tag)
        page.keyboard.press("j")
        expect(row).to_be_focused()
        # → walks the row's values that edit in place: category, claim, privacy, notes.
        page.keyboard.press("ArrowRight")
        expect(_cell(page, row, "category")).to_be_focused()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        privacy = _cell(page, row, "privacy")
        expect(privacy).to_be_focused()
        page.keyboard.press("Enter")
        select = privacy.get_by_label(f"Privacy of {video}")
        expect(select).to_be_focused()
        expect(_status(page)).to_contain_text("Enter saves, Escape cancels")
        page.keyboard.press("ArrowDown")  # public → private, the menu's next option
        expect(select).to_have_value("private")
        page.keyboard.press("Enter")
        expect(privacy).to_have_text("private")
        expect(privacy).to_be_focused()
        assert live_data.get(video).privacy_status == "private"
        # The row's own shortcuts still work from a value: e opens the edit form.
        page.keyboard.press("e")
        expect(page).to_have_url(f"{live_server}/videos/{video}/edit")
    finally:
        page.context.close()
    assert problems == []


def test_escape_cancels_without_a_request(browser, live_server, live_data, video):
    tag = live_data.tag
    page, problems = open_checked_page(browser)
    try:
        sign_in(page, live_server, live_data.user("editor"))
        row = _list(page, live_server, tag)
        notes = _cell(page, row, "notes")
        notes.click()
        text = notes.get_by_label(f"Notes of {video}")
        expect(text).to_be_focused()
        settle(page)
        sent: list[str] = []
        page.on("request", lambda request: sent.append(f"{request.method} {request.url}"))
        text.fill("Not to be kept")
        page.keyboard.press("Escape")
        expect(notes.get_by_test_id("cell-editor")).to_have_count(0)
        expect(notes).to_have_text("")
        expect(notes).to_be_focused()
        expect(_status(page)).to_have_text("Not changed.")
        settle(page)
        assert sent == []
        assert live_data.get(video).notes is None
    finally:
        page.context.close()
    assert problems == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_value_that_is_refused_is_an_error_in_the_row(
    browser, live_server, live_data, video, scheme
):
    tag = live_data.tag
    page, problems = open_checked_page(browser, provoked=400, color_scheme=scheme)
    try:
        sign_in(page, live_server, live_data.user("editor"))
        row = _list(page, live_server, tag)
        notes = _cell(page, row, "notes")
        notes.click()
        # 501 characters: more than a note holds (set past the browser's maxlength, as a
        # script or an older page could).
        notes.get_by_label(f"Notes of {video}").evaluate("(el) => { el.value = 'n'.repeat(501); }")
        notes.get_by_test_id("cell-save").click()
        error = notes.get_by_test_id("cell-error")
        expect(error).to_contain_text("500 characters")
        expect(notes.get_by_label(f"Notes of {video}")).to_have_attribute(
            "aria-describedby", "cell-error"
        )
        expect(_status(page)).to_contain_text(re.compile(r"Not saved: .*500 characters"))
        assert live_data.get(video).notes is None
        settle(page)
        assert page.evaluate(AXE_RUN) == []
    finally:
        page.context.close()
    assert problems == []


def test_a_viewer_gets_no_editor(browser, live_server, live_data, video):
    page, problems = open_checked_page(browser)
    try:
        sign_in(page, live_server, live_data.user("viewer"))
        row = _list(page, live_server, live_data.tag)
        privacy = _cell(page, row, "privacy")
        privacy.click()
        page.keyboard.press("Enter")
        settle(page)
        expect(page.get_by_test_id("cell-editor")).to_have_count(0)
        expect(privacy).to_have_text("public")
    finally:
        page.context.close()
    assert problems == []
