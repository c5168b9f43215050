"""Issue 5's flow in Chromium: define a rating field in a schema, rate two videos, filter
"Rating >= 4", see only the right one."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_define_rate_and_filter_by_a_rating(page, live_server, live_data):
    admin = live_data.user("admin")
    tag = live_data.tag
    field_name = f"Rating {tag}"
    good = live_data.video(video_id=f"gd{tag}Vid"[:11].ljust(11, "g"), title=f"Great {tag}")
    meh = live_data.video(video_id=f"mh{tag}Vid"[:11].ljust(11, "m"), title=f"Meh {tag}")
    sign_in(page, live_server, admin, live_data)

    page.get_by_role("link", name="Fields").click()
    page.get_by_role("link", name="New field").click()
    page.get_by_label("Name").fill(field_name)
    page.get_by_label("Type").select_option("rating")
    page.get_by_label("Maximum rating").fill("5")
    page.get_by_role("button", name="Create field").click()
    expect(page.get_by_text(field_name).first).to_be_visible()

    page.goto(f"{live_server}/fields/schemas/new")
    page.get_by_label("Name").fill(f"Review {tag}")
    page.get_by_label(f"In this schema: {field_name}").check()
    page.get_by_label(f"Show on card: {field_name}").check()
    page.get_by_role("button", name="Create schema").click()
    expect(page.get_by_text(f"Review {tag}").first).to_be_visible()

    for video_id, stars in ((good, "5"), (meh, "2")):
        page.goto(f"{live_server}/videos/{video_id}/edit")
        page.get_by_label(field_name).select_option(stars)
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Saved 1 change.")).to_be_visible()

    page.goto(f"{live_server}/videos?q={tag}")
    filters = page.locator("#filters")
    filters.get_by_text("Custom fields").click()
    filters.get_by_label(f"{field_name} comparison").select_option("gte")
    filters.get_by_label(field_name, exact=True).select_option("4")
    filters.get_by_role("button", name="Apply").click()
    rows = page.get_by_test_id("video-table").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(f"Great {tag}")
    # The cell under the field's header (cells carry no class of their own).
    column = page.locator(".video-list thead th").evaluate_all(
        "(ths, name) => ths.findIndex((th) => th.textContent.trim() === name)", field_name
    )
    expect(rows.first.locator("td").nth(column)).to_contain_text("★★★★★")
