"""Hiding a channel, in a real browser: its videos leave the default list, the Hidden filter
still finds them, and unhiding brings them back."""

import re

import pytest
from playwright.sync_api import expect

from catalog.channels import service as channels
from catalog.extensions import db
from catalog.videos import service as videos
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def make_channel_with_videos(app, tag: str, titles: list[str]) -> str:
    """A committed channel with videos, made through the real services; its channel id."""
    with app.app_context():
        channel = channels.create_channel(
            {"channel_id": f"UC{tag}".ljust(24, "x"), "name": f"Quiet {tag} Records"},
            actor=None, source="cli",
        )  # fmt: skip
        for n, title in enumerate(titles):
            videos.create_video(
                {"video_id": f"h{tag}{n}".ljust(11, "q"), "title": title,
                 "channel_id": channel.id},
                actor=None, source="cli",
            )  # fmt: skip
        db.session.commit()
        return channel.channel_id


def test_hide_a_channel_and_find_its_videos_again(page, live_server, live_app, live_data):
    editor = live_data.user("editor")
    tag = live_data.tag
    channel_id = make_channel_with_videos(
        live_app, tag, [f"Lullaby {tag} one", f"Lullaby {tag} two"]
    )
    csp_violations = []
    page.on("console", lambda msg: csp_violations.append(msg.text)
            if "Content Security Policy" in msg.text else None)  # fmt: skip

    sign_in(page, live_server, editor)
    rows = page.get_by_test_id("video-table").locator("tbody tr")
    search = page.get_by_label("Search")
    search.fill(f"lullaby {tag}")
    search.press("Enter")
    expect(rows).to_have_count(2)

    page.goto(f"{live_server}/channels?q={tag}")
    page.get_by_role("link", name=f"Quiet {tag} Records").click()
    expect(page.get_by_test_id("channel-stats").locator("[data-stat=video_count]")).to_have_text(
        "2"
    )
    page.get_by_role("button", name="Hide channel").click()
    expect(page.get_by_text(f"Quiet {tag} Records is hidden")).to_be_visible()
    expect(page.get_by_test_id("hidden-badge")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=f"Lullaby {tag} one")).to_have_count(1)

    # The default video list no longer shows them …
    page.goto(f"{live_server}/videos?q=lullaby+{tag}")
    expect(page.get_by_text("No videos match these filters.")).to_be_visible()
    # … the Hidden filter does.
    page.get_by_label("Hidden", exact=True).select_option("all")
    expect(rows).to_have_count(2)
    expect(page).to_have_url(re.compile(r"hidden=all"))  # the list state lives in the URL
    # The channel left the default channel list too, and the filter finds it.
    page.goto(f"{live_server}/channels?q={tag}")
    expect(page.get_by_test_id("channel-row")).to_have_count(0)
    page.get_by_label("Hidden", exact=True).select_option("all")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_test_id("channel-row")).to_have_count(1)

    page.get_by_role("link", name=f"Quiet {tag} Records").click()
    page.get_by_role("button", name="Unhide channel").click()
    expect(page.get_by_text("back in the default lists")).to_be_visible()
    page.goto(f"{live_server}/videos?q=lullaby+{tag}")
    expect(rows).to_have_count(2)
    # Both changes are in the channel's history.
    page.goto(f"{live_server}/channels/{channel_id}")
    expect(page.get_by_test_id("change-row")).to_have_count(3)  # create, hide, unhide
    expect(page.get_by_test_id("change-row").first).to_contain_text(editor)
    assert csp_violations == []
