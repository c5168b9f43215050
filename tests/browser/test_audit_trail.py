"""Issue 7's flow in Chromium: an auditor filters the log, reads a change's diff and exports
the filtered log as CSV (the export itself is then in the log); an editor reverts a change
and sees the revert in the video's history."""

import csv
import io
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from catalog.extensions import db
from catalog.models import User, Video
from catalog.videos import service
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

NOTES = "Licensed for streaming in Europe only; the sync licence runs until March, then renews."


def edit(live_data, video_id: str, email: str, **values) -> None:
    with live_data.app.app_context():
        actor = db.session.scalars(select(User).where(User.email == email)).unique().one()
        video = db.session.scalars(select(Video).where(Video.video_id == video_id)).one()
        service.update_video(video, values, expected_version=video.version, actor=actor)
        db.session.commit()


def test_auditor_reads_and_exports_editor_reverts(page, browser, live_server, live_data):
    editor, auditor = live_data.user("editor"), live_data.user("auditor")
    tag = live_data.tag
    video_id = live_data.video(
        video_id=f"tr{tag}Vid"[:11].ljust(11, "t"), title=f"Trail {tag}", notes=NOTES
    )
    edit(
        live_data, video_id, editor, title=f"=Trail {tag} (remastered)",
        notes=NOTES.replace("Europe only", "Europe and Canada"),
    )  # fmt: skip

    # The auditor: filter by the video, read the diff, export.
    sign_in(page, live_server, auditor)
    page.goto(f"{live_server}/audit")
    page.get_by_label("Video id").fill(video_id)
    page.get_by_role("button", name="Apply").click()
    rows = page.get_by_test_id("change-row")
    expect(rows).to_have_count(2)  # the creation and the edit
    change = rows.first
    expect(change).to_contain_text(editor)
    diff = change.get_by_test_id("diff")
    expect(diff.locator("td.before")).to_contain_text(f"Trail {tag}")
    expect(diff.locator("td.after")).to_contain_text(f"=Trail {tag} (remastered)")
    # The long text: what was removed and what was added, not two paragraphs to compare.
    expect(diff.locator("del.diff-removed")).to_have_text(re.compile(r"only"))
    expect(diff.locator("ins.diff-added")).to_contain_text(["and Canada"])

    with page.expect_download() as download:
        page.get_by_test_id("export").click()
    exported = list(csv.DictReader(io.StringIO(download.value.path().read_text("utf-8-sig"))))
    assert {row["entity key"] for row in exported} == {video_id}
    titles = [row for row in exported if row["field"] == "title" and row["user email"]]
    assert [(r["old value"], r["new value"]) for r in titles] == [
        (f"Trail {tag}", f"'=Trail {tag} (remastered)")  # a formula is neutralised
    ]
    page.goto(f"{live_server}/audit?entity=audit_log")
    export_row = page.get_by_test_id("change-row").first
    expect(export_row).to_contain_text(auditor)
    expect(export_row).to_contain_text("export")
    expect(export_row).to_contain_text(video_id)  # the filter it exported

    # The editor: revert the edit's title, keep nothing else waiting.
    context = browser.new_context(
        timezone_id="Europe/Berlin", locale="en-GB", reduced_motion="reduce"
    )
    editor_page = context.new_page()
    editor_page.set_default_timeout(10_000)
    sign_in(editor_page, live_server, editor)
    editor_page.goto(f"{live_server}/videos/{video_id}")
    editor_page.get_by_test_id("change-row").first.get_by_test_id("revert-link").click()
    plan = editor_page.get_by_test_id("plan")
    expect(plan).to_contain_text(f"=Trail {tag} (remastered)")
    editor_page.get_by_role("button", name="Revert").click()
    expect(editor_page.get_by_text("Change reverted: 2 values put back.")).to_be_visible()
    expect(editor_page.get_by_test_id("video-title")).to_have_text(f"Trail {tag}")
    newest = editor_page.get_by_test_id("change-row").first
    expect(newest).to_contain_text("revert")
    expect(newest).to_contain_text(editor)
    context.close()
    assert live_data.get(video_id).notes == NOTES


def test_on_a_phone_a_changes_values_are_under_its_when_and_who(page, live_server, live_data):
    """At 390 px a history row is a block: the changes under the time and the author, within
    the window, not in a fourth column scrolled out of sight."""
    editor = live_data.user("editor")
    tag = live_data.tag
    video_id = live_data.video(video_id=f"ph{tag}Vid"[:11].ljust(11, "p"), title=f"Phone {tag}")
    edit(live_data, video_id, editor, title=f"Phone {tag} (live)")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, editor)
    page.goto(f"{live_server}/videos/{video_id}")
    row = page.get_by_test_id("change-row").first
    expect(row).to_contain_text(editor)
    when = row.locator("td").first.bounding_box()
    diff = row.get_by_test_id("diff").bounding_box()
    assert diff["y"] >= when["y"] + when["height"]  # below, not beside
    assert diff["x"] >= 0
    assert diff["x"] + diff["width"] <= 390
    after = row.get_by_test_id("diff").locator("td.after").bounding_box()
    assert after["x"] + after["width"] <= 390  # the new value is in sight
