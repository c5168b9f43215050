"""User-supplied text never becomes markup: script payloads in several fields, checked in
Chromium, where a mistake would actually run."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

PAYLOADS = {
    "title": "<script>window.__xss = 'title'</script>Title",
    "notes": "<img src=x onerror=\"window.__xss='notes'\">",
    "label": '"><svg onload="window.__xss=\'label\'">',
    "artist": ["<iframe srcdoc=\"<script>parent.__xss='artist'</script>\"></iframe>"],
    "effective_policy": "javascript:window.__xss='policy'",
}


def test_script_payloads_render_as_text(page, live_server, live_data):
    auditor = live_data.user("auditor")
    video_id = live_data.video(video_id=f"x{live_data.tag}ss"[:11].ljust(11, "s"), **PAYLOADS)
    dialogs, csp_violations = [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("console", lambda msg: csp_violations.append(msg.text)
            if "Content Security Policy" in msg.text else None)  # fmt: skip

    sign_in(page, live_server, auditor)
    for path in (f"/videos?q={video_id}", f"/videos/{video_id}", f"/audit?video={video_id}"):
        page.goto(f"{live_server}{path}")
        expect(page.get_by_text(PAYLOADS["title"]).first).to_be_visible()
        assert page.evaluate("window.__xss") is None, path
        assert (
            page.locator("main script, main iframe, main svg[onload], main img[onerror]").count()
            == 0
        )
    assert dialogs == []
    assert csp_violations == []  # the pages themselves need nothing the policy forbids
