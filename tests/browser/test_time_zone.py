"""A browser in Los Angeles: its zone becomes the user's on the first page, pages show times
in it and name it, and a time typed into the edit form is stored as the right UTC instant."""

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from catalog.extensions import db
from catalog.models import User
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def la_page(browser):
    context = browser.new_context(timezone_id="America/Los_Angeles", locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    yield page, problems
    context.close()


def test_a_los_angeles_browser_reads_and_writes_los_angeles_times(la_page, live_server, live_data):
    page, problems = la_page
    editor = live_data.user("editor")
    video_id = live_data.video(
        video_id=f"tz{live_data.tag}LA"[:11].ljust(11, "q"), title="Zone test",
        time_published=datetime(2024, 10, 15, 18, 29, 11, tzinfo=UTC),
    )  # fmt: skip

    with page.expect_response(lambda r: r.url.endswith("/settings/browser-time-zone")) as sent:
        sign_in(page, live_server, editor)
    assert sent.value.status == 204
    with live_data.app.app_context():
        user = db.session.scalars(select(User).where(User.email == editor)).unique().one()
        assert user.time_zone == "America/Los_Angeles"

    page.goto(f"{live_server}/videos/{video_id}")
    published = page.locator("[data-field='time_published'] time")
    expect(published).to_have_text("2024-10-15 11:29:11 PDT")
    expect(published).to_have_attribute("title", "2024-10-15 18:29:11 UTC")
    expect(page.get_by_label("See this video as it was at (America/Los_Angeles)")).to_be_visible()
    # Once the zone is kept, pages stop reporting it.
    expect(page.locator("body")).not_to_have_attribute("data-time-zone-url", re.compile(".*"))

    page.get_by_role("link", name="Edit", exact=True).click()
    field = page.get_by_label("Published (America/Los_Angeles)")
    expect(field).to_have_value("2024-10-15T11:29:11")
    field.fill("2024-12-01T08:15:30")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved 1 change.")).to_be_visible()
    assert live_data.get(video_id).time_published == datetime(2024, 12, 1, 16, 15, 30, tzinfo=UTC)
    expect(page.get_by_test_id("change-row").first).to_contain_text("2024-12-01 08:15:30 PST")

    page.get_by_test_id("whoami").click()  # the account line opens the settings
    expect(page.get_by_label("Time zone")).to_have_value("America/Los_Angeles")
    page.set_viewport_size({"width": 390, "height": 844})
    main_overflow = "(m => m.scrollWidth - m.clientWidth)(document.querySelector('main'))"
    assert page.evaluate(main_overflow) == 0
    assert problems == []
