"""What HTTP tests do again and again, written once: read a page's CSRF token, sign in through
the forms, post a form as a browser would. (Playwright's sign-in, which drives a real page, is
tests/browser/conftest.py's.)"""

import hashlib
import os
import re
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from flask_login.utils import _create_identifier
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import event

from catalog.extensions import security

# Every user the factories make has this password (tests/conftest.py hashes it once).
TEST_PASSWORD = "correct horse battery staple"

_TOKEN = re.compile(r'name="csrf[-_]token"[^>]*(?:content|value)="([^"]+)"')


def csrf_token(page) -> str:
    """The CSRF token in a page (its HTML, or the response that carries it), read from the
    meta tag every page has or a form's hidden input."""
    html = page if isinstance(page, str) else page.get_data(as_text=True)
    match = _TOKEN.search(html)
    assert match, f"no CSRF token in the page: {html[:300]!r}"
    return match.group(1)


def totp_code(app: Flask, secret: str) -> str:
    """The authenticator app's current code for `secret` (a stored, encrypted secret)."""
    # Through Flask-Security's own factory: it lives on the one shared Security instance, and
    # an app made with other TOTP keys (tests/security) re-keys it for every app.
    with app.app_context():
        return security.totp_factory.generate_totp_password(secret)


def totp_secret(app: Flask) -> str:
    with app.app_context():
        return security.totp_factory.generate_totp_secret()


def sign_in(client: FlaskClient, who, password: str = TEST_PASSWORD):
    """Sign in through the forms as `who` (a User, or an email); the response of the last
    step. A User with an authenticator app also passes the second step with its code."""
    email = who if isinstance(who, str) else who.email
    token = csrf_token(client.get("/login"))
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}
    )
    if not isinstance(who, str) and who.tf_primary_method and signed_in(response):
        code = totp_code(client.application, who.tf_totp_secret)
        token = csrf_token(client.get("/tf-validate"))
        response = client.post("/tf-validate", data={"code": code, "csrf_token": token})
    return response


def start_session(client: FlaskClient, user) -> None:
    """Make `client`'s session cookie the one a successful sign-in (both steps, for a user
    with two factors) leaves, without the requests: Flask-Login's user and freshness, its
    identifier of this client (address and user agent, as the test client sends them), and
    the time of the sign-in for Flask-Security's freshness checks. The user's roles are read
    by the first request, as after a sign-in on another instance. No login attempt is
    recorded and no sign-in time is tracked: tests of those sign in through the forms
    (`sign_in`)."""
    with client.application.test_request_context():
        identifier = _create_identifier()
    with client.session_transaction() as session:
        session.clear()
        session.update(
            {"_user_id": user.fs_uniquifier, "_fresh": True, "_id": identifier,
             "fs_cc": "set", "fs_paa": time.time()}
        )  # fmt: skip


def session_csrf_token(client: FlaskClient) -> str:
    """A CSRF token for `client`'s session, as Flask-WTF's generate_csrf() signs it for a
    page, without fetching a page: the session's secret (made and stored if it has none)."""
    app = client.application
    with client.session_transaction() as session:
        if "csrf_token" not in session:
            session["csrf_token"] = hashlib.sha1(os.urandom(64)).hexdigest()  # noqa: S324
        secret = session["csrf_token"]
    key = app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
    return URLSafeTimedSerializer(key, salt="wtf-csrf-token").dumps(secret)


def signed_in(response) -> bool:
    """Whether a sign-in step succeeded: a redirect onwards, not back to the form (the
    redirect to the second step may name the form in its `next`)."""
    return response.status_code == 302 and urlsplit(response.headers["Location"]).path != "/login"


def post_form(client: FlaskClient, url: str, data: dict | None = None, **fields):
    """POST `data` and `fields` to `url` as a browser would, with the CSRF token of the
    client's session (the one its pages carry, signed without fetching one) unless `data`
    brings one."""
    data = {**(data or {}), **fields}
    if "csrf_token" not in data:
        data["csrf_token"] = session_csrf_token(client)
    return client.post(url, data=data)


def wait_for(condition: Callable[[], object], timeout: float = 15, message: str = "") -> object:
    """Poll `condition` until it returns something true; its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message or condition}")
        time.sleep(0.1)


def statements_of(client: FlaskClient, connection, url: str) -> list[str]:
    """The SQL statements one GET of `url` runs on `connection` (the tests' savepoints left
    out); the page must answer 200."""
    statements = []

    def count(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert response.status_code == 200, url
    return statements
