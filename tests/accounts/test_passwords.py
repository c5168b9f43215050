"""The password policy (12 to 128 characters, no common passwords) on every path that sets
one, and the set-password links: once only, 72 hours, never a 500."""

import time

import pytest
from flask import Flask
from sqlalchemy import func, select

from catalog.accounts import tokens
from catalog.accounts.passwords import TOO_COMMON, CatalogPasswordUtil, common_passwords
from catalog.extensions import security
from catalog.models import MetadataSync, User
from tests.accounts.conftest import STRONG_PASSWORD, user_rows
from tests.factories import UserFactory
from tests.helpers import TEST_PASSWORD, csrf_token, post_form, sign_in, signed_in

LONGEST = "correct-horse-" * 9 + "ok"  # 128 characters


def test_the_shipped_list():
    passwords = common_passwords()
    assert len(passwords) >= 9_900
    assert {"password", "123456", "qwerty123456", "1qaz2wsx3edc"} <= passwords
    assert all(word == word.lower() and not word.startswith("#") for word in passwords)


def test_the_app_uses_the_catalog_policy(app: Flask):
    assert isinstance(security.password_util, CatalogPasswordUtil)


@pytest.mark.parametrize(
    ("password", "accepted", "message"),
    [
        ("qwerty123456", False, TOO_COMMON),
        ("QWERTY123456", False, TOO_COMMON),
        ("password", False, "at least 12"),
        ("x" * 11, False, "at least 12"),
        ("x" * 129, False, "at least 12"),
        (LONGEST, True, None),
        (STRONG_PASSWORD, True, None),
    ],
)
def test_policy(app, password, accepted, message):
    assert len(LONGEST) == 128
    with app.test_request_context():
        problems, _ = CatalogPasswordUtil(app).validate(password, False, user=None)
    if accepted:
        assert not problems
    else:
        assert any(message in str(problem) for problem in problems)


@pytest.mark.parametrize(
    ("password", "message"),
    [("qwerty123456", TOO_COMMON), ("short-pw", "at least 12"), ("x" * 129, "at least 12")],
)
def test_create_refuses_a_weak_password_and_writes_nothing(
    client, db_session, sign_in_as, password, message
):
    sign_in_as("admin")
    before = db_session.scalar(select(func.count()).select_from(MetadataSync))
    response = post_form(
        client, "/accounts/users/new", email="weak@example.com", roles=["viewer"],
        initial="password", password=password,
    )  # fmt: skip
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).where(User.email == "weak@example.com")) == 0
    assert db_session.scalar(select(func.count()).select_from(MetadataSync)) == before


def test_a_128_character_password_is_accepted(app, client, db_session, sign_in_as):
    sign_in_as("admin")
    response = post_form(
        client, "/accounts/users/new", email="long@example.com", roles=["viewer"],
        initial="password", password=LONGEST,
    )  # fmt: skip
    assert response.status_code == 302
    assert signed_in(sign_in(app.test_client(), "long@example.com", LONGEST))


def _link(app: Flask, user: User, monkeypatch=None, *, age: float = 0) -> str:
    """A link made `age` seconds ago."""
    with app.test_request_context():
        if not age:
            return f"/accounts/set-password/{tokens.make_token(user)}"
        then = time.time() - age
        with monkeypatch.context() as patch:
            patch.setattr(time, "time", lambda: then)
            return f"/accounts/set-password/{tokens.make_token(user)}"


def _set(client, path: str, password: str, confirm: str | None = None):
    token = csrf_token(client.get(path))
    return client.post(
        path, data={"csrf_token": token, "password": password, "confirm": confirm or password}
    )


def test_set_password_page_applies_the_policy(app, client, db_session):
    user = UserFactory(roles=["viewer"], password=None)
    path = _link(app, user)
    for password, confirm, message in [
        ("qwerty123456", None, TOO_COMMON),
        ("short", None, "at least 12"),
        (STRONG_PASSWORD, STRONG_PASSWORD + "x", "The two passwords differ"),
    ]:
        response = _set(client, path, password, confirm)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    db_session.expire_all()
    assert user.password is None
    assert user_rows(db_session, user.id) == []
    assert _set(client, path, STRONG_PASSWORD).status_code == 302  # the link still works


@pytest.mark.parametrize(
    ("kind", "status", "message"),
    [("garbage", 400, "not valid"), ("tampered", 400, "not valid"), ("expired", 410, "expired")],
)
def test_bad_links_get_a_clear_page(app, client, db_session, monkeypatch, kind, status, message):
    user = UserFactory(roles=["viewer"])
    path = {
        "garbage": lambda: "/accounts/set-password/not-a-token",
        "tampered": lambda: _link(app, user)[:-3] + "abc",
        "expired": lambda: _link(app, user, monkeypatch, age=73 * 3600),
    }[kind]()
    for response in (client.get(path), _set(app.test_client(), path, STRONG_PASSWORD)):
        assert response.status_code == status
        assert message in response.get_data(as_text=True)
    db_session.expire_all()
    assert user.password is not None
    assert user_rows(db_session, user.id) == []


def test_a_link_of_71_hours_still_works(app, client, db_session, monkeypatch):
    user = UserFactory(roles=["viewer"])
    path = _link(app, user, monkeypatch, age=71 * 3600)
    assert client.get(path).status_code == 200


def test_a_link_is_spoiled_by_any_change_of_credentials(app, client, db_session, sign_in_as):
    admin = sign_in_as("admin")
    user = UserFactory(roles=["editor"])
    path = _link(app, user)
    assert app.test_client().get(path).status_code == 200
    assert post_form(client, f"/accounts/users/{user.id}", roles=["viewer"]).status_code == 302
    assert app.test_client().get(path).status_code == 410

    db_session.expire_all()
    path = _link(app, user)
    assert app.test_client().get(path).status_code == 200
    assert post_form(client, f"/accounts/users/{user.id}/deactivate").status_code == 302
    assert app.test_client().get(path).status_code == 410
    assert admin.active


def test_a_signed_token_of_another_shape_is_refused(app):
    with app.test_request_context():
        token = tokens._serializer().dumps({"user": 1})
        with pytest.raises(tokens.InvalidLink) as refused:
            tokens.user_for_token(token)
    assert refused.value.status == 400


def test_users_changing_their_own_password_get_the_policy(client, db_session, sign_in_as):
    user = sign_in_as("editor")
    token = csrf_token(client.get("/change"))
    response = client.post(
        "/change",
        data={
            "csrf_token": token, "password": TEST_PASSWORD,
            "new_password": "qwerty123456", "new_password_confirm": "qwerty123456",
        },
    )  # fmt: skip
    assert response.status_code in (200, 400)
    assert TOO_COMMON in response.get_data(as_text=True)
    db_session.expire_all()
    assert signed_in(sign_in(client.application.test_client(), user.email, TEST_PASSWORD))
