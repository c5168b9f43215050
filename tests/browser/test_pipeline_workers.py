"""Pipeline workers in Chromium: an admin creates one (its token shown once), the token works
on the API, the admin revokes it; the pages are clean (no console errors, no CSP violations,
no sideways scrolling at 390 and 1280 px, no serious axe violations)."""

import json
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import AXE, LiveData, open_checked_page, sign_in
from tests.browser.test_drafts import check_page

pytestmark = pytest.mark.browser
SETTLED = "() => Promise.all(document.getAnimations().map((a) => a.finished))"


def claim(base_url: str, token: str) -> int:
    request = urllib.request.Request(  # noqa: S310
        f"{base_url}/api/pipeline/claim", data=json.dumps({"stage": "sfx"}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_an_admin_creates_and_revokes_a_pipeline_worker(browser, live_server, live_app):
    assert AXE.exists(), "axe-core is missing: run `make install-test` (npm ci)"
    people = LiveData(live_app)
    name = f"sfx-{people.tag}"
    # A refused save answers 400 on purpose (Chromium logs it as an error): not a problem.
    page, problems = open_checked_page(browser, provoked=400)
    context = page.context
    try:
        sign_in(page, live_server, people.user("admin"), people)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
        page.get_by_role("link", name="Pipeline workers").click()
        expect(page.get_by_role("heading", name="Pipeline workers")).to_be_visible()
        check_page(page, problems)
        page.get_by_role("link", name="New pipeline worker").click()
        check_page(page, problems)

        page.get_by_label("Name").fill(name)
        page.get_by_role("button", name="Create worker and token").click()
        expect(page.get_by_text("Choose at least one stage.")).to_be_visible()
        check_page(page, problems)

        page.get_by_label("sfx").check()
        page.get_by_role("button", name="Create worker and token").click()
        token_box = page.get_by_label(f"Token of {name}")
        expect(token_box).to_be_visible()
        token = token_box.input_value()
        check_page(page, problems)
        assert claim(live_server, token) == 204

        page.reload()  # shown once
        expect(page.get_by_label(f"Token of {name}")).to_have_count(0)
        row = page.get_by_test_id("worker-row").filter(has_text=name)
        expect(row).to_contain_text("127.0.0.1")  # its last use, from where
        row.get_by_role("link", name=name).click()
        expect(page.get_by_test_id("worker-use")).to_have_count(1)
        expect(page.get_by_test_id("worker-use")).to_contain_text("claim")
        check_page(page, problems)
        page.get_by_role("link", name="Revoke…").click()
        expect(page.get_by_role("heading", name=f"Revoke the token of {name}?")).to_be_visible()
        # The autofocused Cancel button fades into its focus colours: axe's contrast check
        # must see where it ends, not the fade.
        page.evaluate(SETTLED)
        check_page(page, problems)
        page.get_by_role("button", name="Revoke").click()
        expect(page.get_by_text(f"The token of {name} is revoked.")).to_be_visible()
        expect(page.get_by_test_id("worker-row").filter(has_text=name)).to_contain_text("revoked")
        assert claim(live_server, token) == 401
    finally:
        context.close()
    assert problems == [], "\n".join(problems)
