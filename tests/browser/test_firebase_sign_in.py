"""Firebase sign-in in Chromium: the sign-in page with the vendored SDK loaded is clean (no
console errors, no CSP violations, no sideways scrolling, no serious axe findings) and
reaches no other host until someone clicks; a locally signed token posted from the page
signs in and lands on the video list; and the page's own script carries a token from the
SDK to the server (the SDK replaced by a stand-in: its popup would need Google)."""

import json
import uuid
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from catalog.accounts import firebase
from tests.browser.conftest import open_checked_page
from tests.browser.test_pages import visit
from tests.factories import committed_user
from tests.firebase_tokens import PROJECT_ID, CertificateServer, Key, claims, configure, sign

pytestmark = pytest.mark.browser

# The SDK as the page's script uses it, answering with a token the test signed; it refuses
# unless the page configured it from the form's data attributes.
STAND_IN = """
(function () {
  var expected = %(expected)s;
  function Auth(config) {
    this.setPersistence = function () { return Promise.resolve(); };
    this.signOut = function () { return Promise.resolve(); };
    this.signInWithPopup = function () {
      if (JSON.stringify(config) !== JSON.stringify(expected)) {
        return Promise.reject(new Error("configured wrongly: " + JSON.stringify(config)));
      }
      if (%(fail)s) { return Promise.reject(new Error("popup closed")); }
      return Promise.resolve({user: {getIdToken: function () {
        return Promise.resolve(%(token)s);
      }}});
    };
  }
  function GoogleAuthProvider() {}
  window.firebase = {
    initializeApp: function (config) {
      var auth = new Auth(config);
      return {auth: function () { return auth; }};
    },
    auth: {GoogleAuthProvider: GoogleAuthProvider, Auth: {Persistence: {NONE: "none"}}},
  };
})();
"""


@pytest.fixture(scope="module")
def key():
    return Key.make()


@pytest.fixture
def firebase_on(live_app, key, monkeypatch):
    server = CertificateServer(keys=[key])
    configure(live_app.config, server, monkeypatch)
    firebase.certificates.clear()
    yield server
    firebase.certificates.clear()
    server.close()


def firebase_user(live_app) -> tuple[str, str]:
    identity = f"fb-{uuid.uuid4().hex}"
    user = committed_user(live_app, "viewer", firebase_uid=identity)
    return user.email, identity


def test_the_sign_in_page_with_the_sdk_is_clean_and_stays_home(browser, live_server, firebase_on):
    page, problems = open_checked_page(browser)
    elsewhere: list[str] = []
    page.on(
        "request",
        lambda r: elsewhere.append(r.url) if not r.url.startswith((live_server, "data:")) else None,
    )
    try:
        visit(page, f"{live_server}/login", problems)
        expect(page.get_by_role("button", name="Continue with Firebase")).to_be_visible()
        # The SDK is there, and was not started.
        assert page.evaluate("() => typeof firebase.initializeApp") == "function"
        assert page.evaluate("() => firebase.apps.length") == 0
    finally:
        page.context.close()
    assert problems == [], "\n".join(problems)
    assert elsewhere == []


def test_a_click_starts_the_sdk_within_the_pages_policy(browser, live_server, firebase_on):
    """The real SDK, started by the click, asks only for hosts the page's policy allows (no
    violation). The requests go nowhere (this network reaches no Google host: they are
    aborted here), so the SDK fails, and the page says so."""
    page, problems = open_checked_page(browser)
    asked: list[str] = []

    def nowhere(route) -> None:
        asked.append(urlsplit(route.request.url).hostname)
        route.abort()

    page.context.route("https://**/*", nowhere)
    try:
        page.goto(f"{live_server}/login")
        page.get_by_role("button", name="Continue with Firebase").click()
        expect(page.locator("#firebase-error")).to_be_visible(timeout=30_000)
        violations = page.evaluate("() => window.__cspViolations")
    finally:
        page.context.close()
    assert asked, "the SDK asked for nothing"
    allowed = {
        "apis.google.com", "identitytoolkit.googleapis.com", "securetoken.googleapis.com",
        f"{PROJECT_ID}.firebaseapp.com",
    }  # fmt: skip
    assert set(asked) <= allowed, asked
    assert violations == []
    # The aborted requests are the only errors.
    assert [p for p in problems if "net::ERR_FAILED" not in p] == []


def test_a_locally_signed_token_posted_from_the_page_lands_on_the_video_list(
    browser, live_server, live_app, firebase_on, key
):
    email, identity = firebase_user(live_app)
    page, problems = open_checked_page(browser)
    try:
        page.goto(f"{live_server}/login")
        token = sign(key, claims(identity))
        page.locator("#firebase-id-token").evaluate(
            "(input, token) => { input.value = token; }", token
        )
        page.locator("#firebase-sign-in").evaluate("(form) => form.submit()")
        page.wait_for_url(f"{live_server}/videos")
        expect(page.get_by_test_id("whoami")).to_contain_text(email)
    finally:
        page.context.close()
    assert problems == [], "\n".join(problems)


def _stand_in(page, token: str, *, fail: bool = False) -> None:
    expected = {
        "apiKey": "test-api-key",
        "authDomain": f"{PROJECT_ID}.firebaseapp.com",
        "projectId": PROJECT_ID,
    }
    body = STAND_IN % {
        "expected": json.dumps(expected), "token": json.dumps(token),
        "fail": "true" if fail else "false",
    }  # fmt: skip
    page.route(
        "**/static/vendor/firebase/firebase-app-compat.js*",  # with its ?v= content hash
        lambda route: route.fulfill(body=body, content_type="text/javascript"),
    )
    page.route(
        "**/static/vendor/firebase/firebase-auth-compat.js*",
        lambda route: route.fulfill(body="", content_type="text/javascript"),
    )


def test_continue_with_firebase_posts_the_sdks_token(
    browser, live_server, live_app, firebase_on, key
):
    email, identity = firebase_user(live_app)
    page, problems = open_checked_page(browser)
    try:
        _stand_in(page, sign(key, claims(identity)))
        page.goto(f"{live_server}/login")
        page.get_by_role("button", name="Continue with Firebase").click()
        page.wait_for_url(f"{live_server}/videos")
        expect(page.get_by_test_id("whoami")).to_contain_text(email)
    finally:
        page.context.close()
    assert problems == [], "\n".join(problems)


def test_a_failed_popup_says_so_and_the_button_works_again(
    browser, live_server, live_app, firebase_on, key
):
    _email, identity = firebase_user(live_app)
    page, problems = open_checked_page(browser)
    try:
        _stand_in(page, sign(key, claims(identity)), fail=True)
        page.goto(f"{live_server}/login")
        button = page.get_by_role("button", name="Continue with Firebase")
        button.click()
        expect(page.locator("#firebase-error")).to_be_visible()
        expect(button).to_be_enabled()
        assert page.url == f"{live_server}/login"
    finally:
        page.context.close()
    assert problems == [], "\n".join(problems)


def test_a_refused_token_comes_back_with_the_generic_message(
    browser, live_server, live_app, firebase_on
):
    _email, identity = firebase_user(live_app)
    page, problems = open_checked_page(browser)
    try:
        _stand_in(page, sign(Key.make(), claims(identity)))  # a key Google never published
        page.goto(f"{live_server}/login")
        page.get_by_role("button", name="Continue with Firebase").click()
        expect(page.get_by_text("Use an account an administrator set up for you.")).to_be_visible()
        expect(page.locator("#firebase-error")).to_be_hidden()
        assert page.url.startswith(f"{live_server}/login")
    finally:
        page.context.close()
    assert problems == [], "\n".join(problems)
