"""The list's "Enqueue YouTube sync" in a real browser: the ticked boxes belong to the bulk
edit form, and the sync button posts them with its own CSRF token."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from catalog.extensions import db
from catalog.models import ProcessingQueue
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_editor_enqueues_a_sync_of_ticked_videos(page, live_server, live_data, monkeypatch):
    # The sync is offered only with an API key; no job runs here, so any key will do.
    monkeypatch.setitem(live_data.app.config, "YOUTUBE_API_KEY", "browser-test-key")
    editor = live_data.user("editor")
    tag = live_data.tag
    ticked = live_data.video(video_id=f"yt{tag}Tck"[:11].ljust(11, "x"), title=f"Sync {tag} one")
    live_data.video(video_id=f"yt{tag}Not"[:11].ljust(11, "y"), title=f"Sync {tag} two")
    video = live_data.get(ticked)

    sign_in(page, live_server, editor)
    page.get_by_label("Search").fill(f"sync {tag}")
    page.get_by_label("Search").press("Enter")
    expect(page.get_by_test_id("video-table").locator("tbody tr")).to_have_count(2)
    page.get_by_label(f"Select {ticked}").check()

    # Bulk edit (a GET of the same form) never carries the token in its URL.
    page.get_by_test_id("bulk-selected").click()
    expect(page).to_have_url(re.compile(r"/videos/bulk\?"))
    assert "csrf" not in page.url
    page.go_back()
    page.get_by_label(f"Select {ticked}").check()

    page.get_by_test_id("sync-selected").click()
    expect(page.get_by_text("YouTube sync enqueued: 1 job for 1 video,")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/videos\?q=sync"))
    with live_data.app.app_context():
        payloads = db.session.scalars(
            select(ProcessingQueue.payload).where(ProcessingQueue.created_by.is_not(None))
        ).all()
    assert {"video_ids": [video.id]} in payloads
