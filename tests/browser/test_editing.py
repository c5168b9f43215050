"""The everyday flows, in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_editor_finds_edits_and_sees_history(page, live_server, live_data):
    editor = live_data.user("editor")
    tag = live_data.tag
    target = live_data.video(
        video_id=f"br{tag}Tgt"[:11].ljust(11, "x"), title=f"Sunrise {tag} anthem",
        artist=["Ava"], claimed_status="claim", privacy_status="public",
    )  # fmt: skip
    live_data.video(video_id=f"br{tag}Oth"[:11].ljust(11, "y"), title=f"Sunrise {tag} other",
                    claimed_status="appeal")  # fmt: skip

    sign_in(page, live_server, editor)
    page.get_by_label("Search").fill(f"sunrise {tag}")
    page.get_by_label("Search").press("Enter")
    rows = page.get_by_test_id("video-table").locator("tbody tr")
    expect(rows).to_have_count(2)
    page.get_by_label("Claim status").select_option("claim")
    expect(rows).to_have_count(1)
    expect(page).to_have_url(re.compile(r"claim=claim"))  # the list state lives in the URL
    # The channel filter finds channels as you type, and keeps the other filters.
    page.locator("#filters").get_by_label("Channel", exact=True).fill("browser test")
    page.get_by_role("link", name=re.compile("Browser Test Channel")).click()
    expect(page.get_by_test_id("channel-chip")).to_contain_text("Browser Test Channel")
    expect(rows).to_have_count(1)
    expect(page).to_have_url(re.compile(r"channel=\d+"))

    page.get_by_role("link", name=target).click()
    expect(page.get_by_test_id("video-title")).to_have_text(f"Sunrise {tag} anthem")
    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Title").fill(f"Sunset {tag} anthem")
    page.get_by_label("Label", exact=True).fill("Daybreak Music")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("Saved 2 changes.")).to_be_visible()
    expect(page.get_by_test_id("video-title")).to_have_text(f"Sunset {tag} anthem")
    entry = page.get_by_test_id("change-row").first
    expect(entry).to_contain_text(editor)
    expect(entry).to_contain_text(f"Sunrise {tag} anthem")
    expect(entry).to_contain_text("Daybreak Music")
    # Times are shown in the reader's zone, UTC on hover.
    expect(entry.locator("time")).to_have_attribute("title", re.compile(r"UTC$"))
    assert live_data.get(target).label == "Daybreak Music"


def test_auditor_reads_changes_and_cannot_edit(page, live_server, live_data):
    editor, auditor = live_data.user("editor"), live_data.user("auditor")
    tag = live_data.tag
    video_id = live_data.video(video_id=f"au{tag}Vid"[:11].ljust(11, "z"), title=f"Audit {tag}")

    sign_in(page, live_server, editor)
    page.goto(f"{live_server}/videos/{video_id}/edit")
    page.get_by_label("Notes").fill(f"checked {tag}")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved 1 change.")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server, auditor)
    page.get_by_role("link", name="Changes").click()
    page.get_by_label("Video id").fill(video_id)
    page.get_by_role("button", name="Apply").click()
    first = page.get_by_test_id("change-row").first
    expect(first).to_contain_text(f"checked {tag}")
    expect(first).to_contain_text(editor)

    page.goto(f"{live_server}/videos/{video_id}")
    expect(page.get_by_role("link", name="Edit", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Delete…")).to_have_count(0)
    expect(page.get_by_role("link", name="New video")).to_have_count(0)

    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    response = page.request.post(
        f"{live_server}/videos/{video_id}/edit",
        form={"csrf_token": token, "title": "Forged", "version": "2"},
    )
    assert response.status == 403
    assert live_data.get(video_id).title == f"Audit {tag}"
