"""The Changes page in Chromium: a bulk edit is one line that opens in place (htmx, under
the page's Content Security Policy), and its link leads to each of its changes."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from catalog.extensions import db
from catalog.models import User, Video
from catalog.videos.bulk_edit import bulk_update
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def bulk_edit(live_data, video_ids: list[str], email: str, **values) -> None:
    with live_data.app.app_context():
        actor = db.session.scalars(select(User).where(User.email == email)).unique().one()
        selection = select(Video.id).where(Video.video_id.in_(video_ids))
        bulk_update(selection, values, actor=actor)
        db.session.commit()


def test_a_bulk_edit_opens_in_place(page, live_server, live_data):
    editor, auditor = live_data.user("editor"), live_data.user("auditor")
    tag = live_data.tag
    videos = [
        live_data.video(video_id=f"b{n}{tag}"[:11].ljust(11, "q"), title=f"Batch {tag} {n}")
        for n in range(3)
    ]
    bulk_edit(live_data, videos, editor, label=f"Label {tag}")
    csp_violations = []
    page.on("console", lambda msg: csp_violations.append(msg.text)
            if "Content Security Policy" in msg.text else None)  # fmt: skip

    sign_in(page, live_server, auditor)
    page.goto(f"{live_server}/audit")
    page.get_by_label("User").select_option(label=editor)
    page.get_by_role("button", name="Apply").click()
    line = page.get_by_test_id("change-row")
    expect(line).to_have_count(1)
    expect(line).to_contain_text("3 videos")
    expect(line).to_contain_text("label")

    line.get_by_text("Show the changes").click()
    preview = page.get_by_test_id("batch-preview")
    expect(preview.get_by_test_id("change-row")).to_have_count(3)
    for video_id in videos:
        expect(preview).to_contain_text(video_id)
    expect(preview).to_contain_text(f"Label {tag}")

    preview.get_by_role("link", name="All 3 changes").click()
    expect(page).to_have_url(re.compile(r"/audit\?batch="))
    expect(page.get_by_test_id("change-row")).to_have_count(3)
    assert csp_violations == []
