"""Every page reachable from the navigation, for each role, in Chromium: no console errors,
no Content Security Policy violations, no sideways scrolling at 390 and 1280 px, and no
critical or serious accessibility violations found by axe-core (pinned in package-lock.json,
injected through Playwright so the app's own CSP stays as strict as it is)."""

import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from catalog.extensions import db
from catalog.fields import service as fields_service
from catalog.models import User, Video
from catalog.videos import service
from tests.browser.conftest import (
    LiveData,
    open_checked_page,
    settle,
    sign_in,
    sign_in_through_forms,
)

pytestmark = pytest.mark.browser

WIDTHS = (390, 1280)
# Pages per role: the navigation's own, then the links they show, one page of each shape.
DEPTH = 2
MAX_PAGES = 45
# Links that leave the page set: signing out, downloads, and the JSON API.
SKIP = re.compile(r"/logout|/export|\.csv|/api/|/tf-(validate|select|rescue)|/static/")

AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    // Serious and critical ones, and empty table headings (minor to axe, but the issue's).
    .filter((v) => v.impact === "critical" || v.impact === "serious"
      || v.id === "empty-table-header")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.length} at ${v.nodes[0].target.join(" ")}`
      + ` ${v.nodes[0].failureSummary.replace(/\\s+/g, " ")}`);
}"""
# A one-word link in a table cell (an e-mail address, a video id) cut over more lines than
# its hyphens and slashes allow: tables scroll in their own box, so their words need never
# be cut into letters to fit.
BROKEN_WORDS = """() => [...document.querySelectorAll("main .table-responsive td a")]
  .map((a) => [a, a.textContent.trim()])
  .filter(([a, word]) => word && !/\\s/.test(word))
  .filter(([a, word]) => a.getClientRects().length > word.split(/[-/]/).length)
  .map(([a, word]) => word)"""
# A table's "nothing here" line that runs out of the window's sight.
EMPTY_OUT_OF_SIGHT = """() => [...document.querySelectorAll("main .table-empty")]
  .filter((note) => note.getBoundingClientRect().right > window.innerWidth)
  .map((note) => note.textContent.trim())"""
OVERFLOW = """() => {
  const root = document.documentElement;
  if (root.scrollWidth <= root.clientWidth) return null;
  // Name the widest element that sticks out, so a failure says where to look.
  let worst = null;
  const clipped = (el) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== "visible") return true;
    }
    return false;
  };
  for (const el of document.body.querySelectorAll("*")) {
    const right = el.getBoundingClientRect().right;
    if (clipped(el)) continue;
    if (right > root.clientWidth + 1 && (!worst || right > worst.right)) {
      const text = (el.textContent || "").slice(0, 40);
      worst = {right, tag: el.tagName, cls: el.className, text};
    }
  }
  return {scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, worst};
}"""
# Records what the CSP blocks, whatever the console says about it.


def shape(url: str) -> tuple:
    """One page per route: ids become '*', queries count by their non-empty keys."""
    parts = urlsplit(url)
    path = "/".join("*" if re.search(r"\d", seg) else seg for seg in parts.path.split("/"))
    keys = tuple(sorted({key for key, value in parse_qsl(parts.query) if value}))
    return path, keys


@pytest.fixture(scope="module")
def seeded(live_app):
    """Data every list shows: a 200-character unbroken title edited by an editor (so the
    audit trail holds it), and a custom field."""
    data = LiveData(live_app)
    editor = data.user("editor")
    tag = data.tag
    video_id = data.video(video_id=f"lg{tag}xxx"[:11], title="L" * 200)
    with live_app.app_context():
        actor = db.session.scalars(select(User).where(User.email == editor)).unique().one()
        video = db.session.scalars(select(Video).where(Video.video_id == video_id)).one()
        service.update_video(
            video, {"title": "T" * 200, "label": f"Label{tag}" * 10}, expected_version=None,
            actor=actor,
        )  # fmt: skip
        fields_service.create_field(
            {"name": f"Mood {tag}", "field_type": "select", "options": ["Calm", "Loud"]},
            actor=actor,
        )
        db.session.commit()
    return data


def title_problems(page) -> list[str]:
    """The window's title: the page's own words, no markup (a tag written into the title
    block shows as text in the tab) and never empty."""
    title = page.title()
    if "<" in title or ">" in title or not title.strip(" ·"):
        return [f"{page.url}: title {title!r}"]
    return []


def visit(page, url: str, problems: list[str]) -> list[str]:
    """Check one page at both widths; return the same-site links it shows. The page loads
    once: the narrow check follows a resize, as no script of the app reads the width."""
    page.set_viewport_size({"width": WIDTHS[-1], "height": 900})
    response = page.goto(url)
    assert response is not None, url
    assert response.ok, f"{url}: {response.status}"
    for width in reversed(WIDTHS):
        page.set_viewport_size({"width": width, "height": 900})
        settle(page)
        overflow = page.evaluate(OVERFLOW)
        if overflow:
            problems.append(f"{url} at {width}px scrolls sideways: {overflow}")
        for violation in page.evaluate(AXE_RUN):
            problems.append(f"{url} at {width}px: {violation}")
        for word in page.evaluate(BROKEN_WORDS):
            problems.append(f"{url} at {width}px: {word!r} broken over lines in a table")
        for note in page.evaluate(EMPTY_OUT_OF_SIGHT):
            problems.append(f"{url} at {width}px: {note!r} runs out of sight")
    for blocked in page.evaluate("() => window.__cspViolations"):
        problems.append(f"{url}: CSP {blocked}")
    problems += title_problems(page)
    return page.eval_on_selector_all("a[href]:not([download])", "links => links.map((a) => a.href)")


# Every role in light colours; in dark ones (the system's, which the automatic colour mode
# follows) the admin, who sees every page.
@pytest.mark.parametrize(
    ("role", "scheme"),
    [("admin", "light"), ("editor", "light"), ("auditor", "light"), ("viewer", "light"),
     ("admin", "dark")],
)  # fmt: skip
def test_every_page_is_clean_at_both_widths(browser, live_server, seeded, role, scheme):
    page, problems = open_checked_page(browser, color_scheme=scheme)
    context = page.context
    try:
        people = LiveData(seeded.app)  # a tag of its own: the seed already made an editor
        sign_in(page, live_server, people.user(role), people)
        assert page.evaluate("document.documentElement.dataset.bsTheme") == scheme
        nav = page.eval_on_selector_all("nav a[href]", "links => links.map((a) => a.href)")
        assert len(nav) >= 4, nav
        seen: set[tuple] = set()
        frontier = [u for u in nav if u.startswith(live_server) and not SKIP.search(u)]
        visited = []
        for _ in range(DEPTH):
            following = []
            for url in frontier:
                key = shape(url)
                if key in seen or len(visited) >= MAX_PAGES:
                    continue
                seen.add(key)
                visited.append(url)
                for link in visit(page, url, problems):
                    link = link.split("#")[0]
                    if link.startswith(live_server) and not SKIP.search(link):
                        following.append(link)
            frontier = following
    finally:
        context.close()
    # Every navigation page of this role was checked, and more than those.
    assert len(visited) > len(set(nav)) - 2, visited
    assert problems == [], "\n".join(problems)


def test_on_a_phone_the_navigation_folds_into_a_menu(page, live_server, live_data):
    page.set_viewport_size({"width": 390, "height": 844})
    # The most links; through both sign-in forms in Chromium (the other tests are given
    # the session cookie those forms leave).
    sign_in_through_forms(page, live_server, live_data.user("admin"), live_data)
    nav = page.get_by_role("navigation", name="Main")
    sign_out = nav.get_by_role("button", name="Sign out")
    expect(sign_out).to_be_hidden()
    nav.get_by_role("button", name="Menu").click()
    expect(sign_out).to_be_visible()
    expect(nav.get_by_role("link", name="Channels")).to_be_visible()
    box = sign_out.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    nav.get_by_role("link", name="Channels").click()
    expect(page).to_have_url(f"{live_server}/channels")

    page.set_viewport_size({"width": 1280, "height": 800})
    expect(nav.get_by_role("button", name="Menu")).to_be_hidden()
    expect(sign_out).to_be_visible()
    # Every link and the account line fit on one row.
    assert nav.bounding_box()["height"] < 60


def test_a_long_title_on_the_audit_page_is_cut_with_the_whole_of_it_on_hover(
    page, live_server, seeded
):
    people = LiveData(seeded.app)
    sign_in(page, live_server, people.user("auditor"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/audit?field=title")
    cut = page.locator(".entity-title", has_text="T" * 20).first
    expect(cut).to_have_attribute("title", "T" * 200)
    box = cut.bounding_box()
    assert box is not None
    assert box["width"] < 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
