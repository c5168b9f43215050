"""A live server on a database of its own (committed data), and Debian's Chromium."""

import re
import shutil
import threading
import time
import uuid
from pathlib import Path

import pytest
from flask_login.utils import _create_identifier
from sqlalchemy import select
from werkzeug.serving import make_server

from catalog import create_app
from catalog.extensions import db
from catalog.models import Channel, Video
from catalog.videos import service
from tests.conftest import app_config, migrated_database
from tests.factories import committed_user
from tests.helpers import TEST_PASSWORD, totp_code, totp_secret

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without these, Chromium keeps reaching for Google's services, which this network refuses.
CHROMIUM_ARGS = [
    "--headless=new", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

# axe-core (npm, package.json), a listener of CSP violations and a count of the requests
# in flight (htmx's and the scripts' own), in every document of the pages the checks open.
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`);
});
window.__inFlight = 0;
(() => {
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    window.__inFlight++;
    // loadend comes after htmx's own load handler has swapped the answer in (and started
    // any request the new content asks for), so the count never dips to 0 in between.
    this.addEventListener("loadend", () => window.__inFlight--, {once: true});
    return send.apply(this, args);
  };
  const fetchOriginal = window.fetch;
  window.fetch = (...args) => {
    window.__inFlight++;
    return fetchOriginal(...args).finally(() => window.__inFlight--);
  };
})();
"""
SETTLED = "() => document.readyState === 'complete' && window.__inFlight === 0"


def settle(page) -> None:
    """Wait until the page has loaded and no request it started is still answering: what
    the checks need, without Playwright's "networkidle" (half a second of silence a page)."""
    page.wait_for_function(SETTLED)


def open_checked_page(browser, *, provoked: int | None = None, color_scheme: str = "light"):
    """(page, problems): a page in a context of its own (Berlin time, British English,
    reduced motion: no fades for axe to read half-way) whose every document carries axe-core
    and the CSP listener; its console errors and page errors go to `problems`, except the
    one a test provokes on purpose (an answer of status `provoked`). Close it with
    page.context.close(). `color_scheme`: the system's colour mode the browser reports
    ("dark": the app's automatic colour mode shows its dark pages)."""
    assert AXE.exists(), "axe-core is missing: run `make install-test` (npm ci)"
    context = browser.new_context(
        timezone_id="Europe/Berlin",
        locale="en-GB",
        reduced_motion="reduce",
        color_scheme=color_scheme,
    )
    context.add_init_script(path=str(AXE))
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    expected = f"the server responded with a status of {provoked}" if provoked else None

    def console(message) -> None:
        if message.type == "error" and not (expected and expected in message.text):
            problems.append(f"{page.url}: {message.text}")

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))
    return page, problems


@pytest.fixture(scope="session")
def live_app(postgres):
    return create_app(app_config(migrated_database(postgres, "catalog_browser")))


@pytest.fixture(scope="session")
def live_server(live_app):
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    # Reduced motion: no colour transitions (Bootstrap's buttons fade on hover), so the
    # accessibility check never reads a button's colours half-way through a fade under a
    # mouse left where the previous page's link was clicked.
    context = browser.new_context(
        timezone_id="Europe/Berlin", locale="en-GB", reduced_motion="reduce"
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


class LiveData:
    """Committed data for the live server, made through the real services."""

    # Authenticator secrets of the admins made here, by email, for the second sign-in step.
    totp_secrets: dict[str, str] = {}
    # The users made here, by email: their app and session uniquifier (`sign_in`'s cookie).
    sessions: dict[str, tuple] = {}

    def __init__(self, app):
        self.app = app
        self.tag = uuid.uuid4().hex[:6]

    def user(self, role: str):
        email = f"{role}-{self.tag}@example.com"
        two_factor = {}
        if role == "admin":  # admins must sign in with an authenticator app
            secret = totp_secret(self.app)
            two_factor = {"tf_primary_method": "authenticator", "tf_totp_secret": secret}
            LiveData.totp_secrets[email] = secret
        user = committed_user(self.app, role, email, **two_factor)
        LiveData.sessions[email] = (self.app, user.fs_uniquifier)
        return email

    def totp_code(self, email: str) -> str:
        return totp_code(self.app, LiveData.totp_secrets[email])

    def video(self, **values) -> str:
        with self.app.app_context():
            channel = db.session.scalars(
                select(Channel).where(Channel.channel_id == "UCbrowser")
            ).first()
            if channel is None:
                channel = Channel(channel_id="UCbrowser", name="Browser Test Channel")
                db.session.add(channel)
                db.session.flush()
            video = service.create_video(
                {"channel_id": channel.id, **values}, actor=None, source="cli"
            )
            db.session.commit()
            return video.video_id

    def get(self, video_id: str) -> Video:
        with self.app.app_context():
            video = db.session.scalars(select(Video).where(Video.video_id == video_id)).one()
            db.session.expunge(video)
            return video


@pytest.fixture
def live_data(live_app):
    return LiveData(live_app)


def sign_in(page, base_url: str, email: str, live_data: LiveData | None = None) -> None:
    """Signed in as `email` (a user LiveData made), on /videos as after the sign-in forms:
    the browser is given the session cookie those forms leave (tests/helpers.py
    start_session's keys, with Flask-Login's identifier of this browser), which spares each
    test the two or four requests of the forms (and their pages' loads). The forms are
    tested in Chromium through `sign_in_through_forms` and over HTTP by tests/security;
    `live_data` is `sign_in_through_forms`'s, for the admins' codes."""
    app, uniquifier = LiveData.sessions[email]
    agent = page.evaluate("navigator.userAgent")
    headers = {"User-Agent": agent}
    with app.test_request_context(headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        identifier = _create_identifier()
        session = {
            "_user_id": uniquifier, "_fresh": True, "_id": identifier, "fs_cc": "set",
            "fs_paa": time.time(),
        }  # fmt: skip
        value = app.session_interface.get_signing_serializer(app).dumps(session)
    page.context.add_cookies(
        [{"name": app.config["SESSION_COOKIE_NAME"], "value": value, "url": base_url,
          "httpOnly": True, "sameSite": "Lax"}]
    )  # fmt: skip
    page.goto(f"{base_url}/videos")
    assert page.url == f"{base_url}/videos", page.url


def sign_in_through_forms(
    page, base_url: str, email: str, live_data: LiveData | None = None
) -> None:
    """Sign in through the form; admins (pass `live_data`) also type their authenticator code."""
    page.goto(f"{base_url}/login")
    page.get_by_label("Email Address").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if email in LiveData.totp_secrets:
        page.wait_for_url(re.compile(r".*/tf-(validate|select).*"))
        page.get_by_label("Authentication Code").fill(live_data.totp_code(email))
        page.get_by_role("button", name="Submit Code").click()
    page.wait_for_url(f"{base_url}/videos")
