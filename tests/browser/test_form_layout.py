"""Forms in Chromium: the sticky Save bar never covers the field that has focus (WCAG 2.4.11),
and a length-limited field shows its limit, counts as one types, and says when a paste was
cut short by the limit."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

COVERED = """async () => {
  // Bootstrap scrolls smoothly: judge where the page comes to rest, not a frame of the way.
  const frame = () => new Promise((done) => requestAnimationFrame(done));
  let still = 0, last = window.scrollY;
  while (still < 5) {
    await frame();
    still = window.scrollY === last ? still + 1 : 0;
    last = window.scrollY;
  }
  const bar = document.querySelector("#video-form .sticky-bottom").getBoundingClientRect();
  const field = document.activeElement.getBoundingClientRect();
  // Covered: some of the focused control lies under the bar.
  return field.bottom > bar.top + 1 && field.top < bar.bottom;
}"""


# Where the focused control and the bar are, for the failure message.
WHERE = """() => ({
  field: document.activeElement.getBoundingClientRect().toJSON(),
  bar: document.querySelector("#video-form .sticky-bottom").getBoundingClientRect().top,
})"""


@pytest.mark.parametrize("size", [(390, 700), (1280, 720)])
def test_tabbing_through_the_edit_form_never_hides_the_focused_field(
    page, live_server, live_data, size
):
    video_id = live_data.video(video_id=f"sb{live_data.tag}xxxx"[:11], title="Sticky bar")
    page.set_viewport_size({"width": size[0], "height": size[1]})
    sign_in(page, live_server, live_data.user("editor"))
    page.goto(f"{live_server}/videos/{video_id}/edit")
    page.locator("#video-form").get_by_label("Title").focus()
    covered, visited = [], 0
    while True:
        page.keyboard.press("Tab")
        name = page.evaluate(
            "() => document.activeElement.closest('#video-form .sticky-bottom') ? null"
            " : (document.activeElement.name || document.activeElement.id)"
        )
        if name is None:  # reached the bar's own buttons: every field was visited
            break
        visited += 1
        if page.evaluate(COVERED):
            covered.append((name, page.evaluate(WHERE)))
        assert visited < 300, "Tab never reached the Save bar"
    assert visited > 20  # the whole form, not a few fields
    assert covered == []


def test_a_limited_field_counts_and_says_when_a_paste_was_cut(browser, live_server, live_data):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    try:
        video_id = live_data.video(video_id=f"lm{live_data.tag}xxxx"[:11], title="Limits")
        sign_in(page, live_server, live_data.user("editor"))
        page.goto(f"{live_server}/videos/{video_id}/edit")
        title = page.locator("#video-form").get_by_label("Title")
        limit = page.locator("[data-limit-for='title']")
        expect(limit).to_have_text("At most 200 characters.")
        expect(title).to_have_attribute("aria-describedby", "title-limit")

        title.fill("Twelve chars")
        expect(limit).to_have_text("12 of 200 characters")

        title.fill("")
        page.evaluate("text => navigator.clipboard.writeText(text)", "x" * 250)
        title.focus()
        page.keyboard.press("ControlOrMeta+V")
        expect(title).to_have_value("x" * 200)
        expect(limit).to_have_text(
            "200 of 200 characters. The pasted text was 250 characters; only the first 200 "
            "were kept."
        )
    finally:
        context.close()
