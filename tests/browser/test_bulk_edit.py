"""Bulk edit in Chromium, as an editor: choose, preview the exact changes, apply, follow the
flash's Undo to the batch's page and undo it there; no console errors, and neither page
scrolls sideways (the content at 390 px, the whole page at 1280 px)."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

FITS = "(selector) => document.querySelector(selector).scrollWidth <= window.innerWidth"


def fits(page) -> None:
    """The main content at a phone's width, the whole page at a laptop's."""
    for width, selector in ((390, "main"), (1280, "html")):
        page.set_viewport_size({"width": width, "height": 844})
        assert page.evaluate(FITS, selector), (page.url, width)
    page.set_viewport_size({"width": 1280, "height": 800})


def test_preview_apply_and_undo_a_bulk_edit(page, live_server, live_data):
    editor, tag = live_data.user("editor"), live_data.tag
    videos = [
        live_data.video(video_id=f"k{n}{tag}"[:11].ljust(11, "q"), title=f"Bulk {tag} {n}")
        for n in range(3)
    ]
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    sign_in(page, live_server, editor)
    page.goto(f"{live_server}/videos?q={tag}")
    expect(page.get_by_test_id("result-count")).to_have_text("3 videos")
    page.get_by_role("link", name="Bulk edit all matching").click()
    expect(page.get_by_test_id("bulk-scope")).to_contain_text("(3)")
    page.get_by_role("checkbox", name="Set Label").check()
    page.locator("#label").fill(f"Label {tag}")
    page.get_by_test_id("bulk-preview-button").click()

    expect(page.get_by_test_id("bulk-count")).to_have_text("3")
    sample = page.get_by_test_id("bulk-sample")
    for video_id in videos:
        expect(sample).to_contain_text(video_id)
    expect(sample.get_by_text(f"Label {tag}")).to_have_count(3)
    fits(page)
    page.get_by_test_id("bulk-confirm").click()

    expect(page.get_by_role("alert")).to_contain_text("Bulk edit saved: 3 videos changed.")
    assert all(live_data.get(v).label == f"Label {tag}" for v in videos)
    page.get_by_test_id("undo-bulk").click()
    # The batch's page, which hands the list to come back to on to the undo.
    expect(page).to_have_url(re.compile(r"/audit/batch/[0-9a-f-]+\?next=/videos"))
    expect(page.get_by_test_id("batch-summary")).to_contain_text("3 videos changed")
    expect(page.get_by_test_id("change-row")).to_have_count(3)
    fits(page)

    page.get_by_test_id("undo-batch").click()
    page.get_by_role("button", name="Undo the batch").click()
    expect(page.get_by_role("alert")).to_contain_text("Batch undone: 3 videos changed")
    expect(page).to_have_url(f"{live_server}/videos?q={tag}")  # the list it was undone from
    assert all(live_data.get(v).label is None for v in videos)
    assert errors == []


def test_a_list_longer_than_a_page_loads_its_exact_total(page, live_server, live_data):
    """The total of a list beyond one page arrives by its own request (htmx, under the CSP),
    also after a filter is changed in place."""
    viewer, tag = live_data.user("viewer"), live_data.tag
    for n in range(27):
        live_data.video(video_id=f"t{n:02d}{tag}"[:11].ljust(11, "q"), title=f"Total {tag} {n}")
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, live_server, viewer)
    page.goto(f"{live_server}/videos?q={tag}")
    expect(page.get_by_test_id("result-count")).to_have_text("27 videos")
    expect(page.get_by_role("link", name="Next →")).to_be_visible()
    page.get_by_label("Search").fill(f"total {tag} 2")  # 2, 20..26: eight videos
    page.get_by_label("Search").press("Enter")
    expect(page.get_by_test_id("result-count")).to_have_text("8 videos")
    assert errors == []
