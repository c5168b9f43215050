"""Re-authentication with Firebase: Flask-Security's /verify (asked before sensitive pages
once a sign-in is older than SECURITY_FRESHNESS) for users linked to a Firebase identity,
and the only way there for those whose password sign-in is off."""

import time
from urllib.parse import urlsplit

import pytest

from tests.accounts.conftest import post_token, uid
from tests.factories import UserFactory
from tests.firebase_tokens import claims, sign
from tests.helpers import TEST_PASSWORD, csrf_token, sign_in

SENSITIVE = "/tf-setup"  # Flask-Security's two-factor set-up asks for a fresh sign-in
DAY_AND_MORE = 25 * 3600


def grow_old(client) -> None:
    """The session's sign-in as if it were made more than a day ago."""
    with client.session_transaction() as session:
        session["fs_paa"] = time.time() - DAY_AND_MORE
        session.pop("fs_gexp", None)


def asks_to_verify(client) -> bool:
    response = client.get(SENSITIVE)
    return response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/verify"


def post_verify(client, token: str):
    page = client.get(f"/verify?next={SENSITIVE}")
    return client.post(
        f"/verify/firebase?next={SENSITIVE}",
        data={"id_token": token, "csrf_token": csrf_token(page)},
    )


@pytest.fixture
def firebase_only(db_session, certs, key, client):
    """A viewer who signs in with Firebase only, signed in a day ago."""
    user = UserFactory(roles=["viewer"], firebase_uid=uid(), password_sign_in=False)
    assert post_token(client, sign(key, claims(user.firebase_uid))).status_code == 302
    grow_old(client)
    return user


def test_the_page_offers_firebase_and_no_password(client, firebase_only):
    assert asks_to_verify(client)
    html = client.get(f"/verify?next={SENSITIVE}").get_data(as_text=True)
    assert 'id="firebase-sign-in"' in html
    assert 'action="/verify/firebase?next=' in html
    assert 'name="password"' not in html


def test_a_fresh_token_of_the_linked_identity_makes_the_sign_in_fresh(client, firebase_only, key):
    response = post_verify(client, sign(key, claims(firebase_only.firebase_uid)))
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == SENSITIVE
    assert client.get(SENSITIVE).status_code == 200


def test_another_identity_s_token_changes_nothing(client, firebase_only, key):
    response = post_verify(client, sign(key, claims(uid())))
    assert urlsplit(response.headers["Location"]).path == "/verify"
    assert "Firebase did not confirm it is you" in client.get("/verify").get_data(as_text=True)
    assert asks_to_verify(client)


def test_an_expired_token_changes_nothing(client, firebase_only, key):
    stale = int(time.time()) - 7200
    token = sign(key, claims(firebase_only.firebase_uid, iat=stale, exp=stale + 3600))
    post_verify(client, token)
    assert asks_to_verify(client)


def test_the_password_no_longer_verifies_once_password_sign_in_is_off(client, db_session):
    user = UserFactory(roles=["viewer"], firebase_uid=uid())
    sign_in(client, user)
    user.password_sign_in = False  # turned off since, by an admin
    db_session.flush()
    grow_old(client)
    page = client.get(f"/verify?next={SENSITIVE}")
    form = {"password": TEST_PASSWORD, "csrf_token": csrf_token(page)}
    client.post(f"/verify?next={SENSITIVE}", data=form)
    assert asks_to_verify(client)


def test_a_password_user_still_verifies_with_the_password(client, db_session):
    user = UserFactory(roles=["viewer"])
    sign_in(client, user)
    grow_old(client)
    assert asks_to_verify(client)
    page = client.get(f"/verify?next={SENSITIVE}")
    assert 'id="firebase-sign-in"' not in page.get_data(as_text=True)
    form = {"password": TEST_PASSWORD, "csrf_token": csrf_token(page)}
    response = client.post(f"/verify?next={SENSITIVE}", data=form)
    assert response.status_code == 302
    assert client.get(SENSITIVE).status_code == 200
