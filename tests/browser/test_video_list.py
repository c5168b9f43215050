"""The video list's htmx behaviour in Chromium: Back through filtered states raises nothing
and keeps hidden columns, the open Columns menu survives a filter change without a CSP
violation, Enter in the search box sends one request, and shared URLs carry only the filters
in use (htmx requests and plain GET forms alike)."""

import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def watch(page) -> list[str]:
    """Page errors, console errors and CSP violations, as they happen."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    return problems


def list_requests(page, live_server) -> list[str]:
    requests: list[str] = []
    page.on(
        "request", lambda r: r.url.startswith(f"{live_server}/videos?") and requests.append(r.url)
    )
    return requests


@pytest.fixture
def videos(live_data):
    tag = live_data.tag
    return [
        live_data.video(video_id=f"hl{tag}{n}"[:11].ljust(11, "h"), title=f"History {tag} {n}",
                        privacy_status=privacy)
        for n, privacy in enumerate(("public", "private", "public"))
    ]  # fmt: skip


def test_back_twice_after_filtering_keeps_columns_and_raises_nothing(
    page, live_server, live_data, videos
):
    problems = watch(page)
    sign_in(page, live_server, live_data.user("editor"))
    page.get_by_role("button", name="Columns").click()
    page.get_by_label("Views", exact=True).uncheck()
    page.keyboard.press("Escape")
    rows = page.get_by_test_id("video-table").locator("tbody tr")

    page.get_by_label("Search").fill(f"history {live_data.tag}")
    page.get_by_label("Search").press("Enter")
    expect(rows).to_have_count(3)
    page.locator("#filters").get_by_label("Privacy").select_option("private")
    expect(rows).to_have_count(1)

    page.go_back()
    expect(page).to_have_url(re.compile(r"q=history"))
    expect(rows).to_have_count(3)
    page.go_back()
    expect(page).to_have_url(f"{live_server}/videos")
    # The restored page is enhanced again: the hidden column stays hidden.
    expect(page.locator(".video-list th.col-views")).to_be_hidden()
    expect(page.locator(".video-list th.col-title")).to_be_visible()
    page.get_by_role("button", name="Columns").click()
    expect(page.get_by_label("Views", exact=True)).not_to_be_checked()
    assert problems == []


def test_a_filter_change_with_the_columns_menu_open_keeps_the_csp(
    page, live_server, live_data, videos
):
    problems = watch(page)
    sign_in(page, live_server, live_data.user("viewer"))
    page.get_by_role("button", name="Columns").click()
    expect(page.locator("#column-chooser")).to_be_visible()
    page.locator("#filters").get_by_label("Privacy").select_option("private")
    expect(page).to_have_url(re.compile(r"privacy=private"))
    expect(page.get_by_test_id("video-table")).to_be_visible()
    assert problems == []


def test_enter_in_the_search_box_sends_one_request_with_only_the_filters_in_use(
    page, live_server, live_data, videos
):
    sign_in(page, live_server, live_data.user("viewer"))
    requests = list_requests(page, live_server)
    page.get_by_label("Search").fill(f"history {live_data.tag}")
    page.get_by_label("Search").press("Enter")
    expect(page.get_by_test_id("video-table").locator("tbody tr")).to_have_count(3)
    page.wait_for_load_state("networkidle")
    assert len(requests) == 1, requests
    sent = parse_qsl(urlsplit(requests[0]).query, keep_blank_values=True)
    assert ("q", f"history {live_data.tag}") in sent
    assert [name for name, value in sent if value == ""] == []
    # The address bar, the one people share, is as short.
    shared = parse_qsl(urlsplit(page.url).query, keep_blank_values=True)
    assert [name for name, value in shared if value == ""] == []
    assert ("q", f"history {live_data.tag}") in shared


def test_a_plain_get_form_drops_its_empty_fields(page, live_server, live_data):
    sign_in(page, live_server, live_data.user("auditor"))
    page.goto(f"{live_server}/audit")
    page.get_by_label("Field changed").fill("title")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"/audit\?"))
    assert parse_qsl(urlsplit(page.url).query, keep_blank_values=True) == [("field", "title")]
