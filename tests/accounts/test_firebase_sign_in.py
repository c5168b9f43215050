"""Firebase sign-in over HTTP, against certificates served from this machine: what signs in,
everything that must not (issue 19 §2), the throttle, the second factor, and what the page
offers and allows."""

import logging
import time
import uuid
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from catalog.accounts import firebase
from catalog.models import LoginAttempt, User
from tests.accounts.conftest import post_token, uid, user_rows
from tests.factories import UserFactory
from tests.firebase_tokens import (
    ISSUER,
    PROJECT_ID,
    Key,
    claims,
    hs256_with_public_key,
    sign,
    unsigned,
)
from tests.helpers import TEST_PASSWORD, csrf_token, totp_code, totp_secret

REFUSED = "Firebase sign-in did not work."


def refused(client, response) -> bool:
    """Back at the sign-in form with the one generic message (never the reason)."""
    if response.status_code != 302 or urlsplit(response.headers["Location"]).path != "/login":
        return False
    html = client.get("/login").get_data(as_text=True)
    return REFUSED in html


def attempts(db_session, kind: str = "firebase") -> list[tuple[str, bool]]:
    db_session.expire_all()
    rows = db_session.scalars(
        select(LoginAttempt).where(LoginAttempt.kind == kind).order_by(LoginAttempt.id)
    )
    return [(row.email, row.succeeded) for row in rows]


# -- what signs in ---------------------------------------------------------------------------
def test_a_valid_token_signs_its_linked_user_in(client, db_session, certs, key):
    user = UserFactory(roles=["editor"], firebase_uid=uid())
    response = post_token(client, sign(key, claims(user.firebase_uid)))
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/videos"
    assert client.get("/videos").status_code == 200
    db_session.refresh(user)
    assert user.auth_method == "firebase"
    assert user.login_count == 1  # Flask-Security's login tracking
    assert user.current_login_ip == "127.0.0.1"
    assert attempts(db_session) == [(user.email, True)]
    assert user_rows(db_session, user.id) == []  # nothing to audit: the link existed


def test_the_first_sign_in_links_a_verified_email_and_audits_it(client, db_session, certs, key):
    user = UserFactory(roles=["viewer"], email=f"Linked-{uuid.uuid4().hex[:6]}@example.com")
    identity = uid()
    token = sign(key, claims(identity, email=user.email.upper(), verified=True))
    response = post_token(client, token)
    assert urlsplit(response.headers["Location"]).path == "/videos"
    db_session.refresh(user)
    assert user.firebase_uid == identity
    [row] = user_rows(db_session, user.id)
    assert row.changes == {"firebase_uid": [None, identity]}
    assert (row.user_id, row.source) == (user.id, "web")


def test_a_sign_in_keeps_a_local_next(client, db_session, certs, key):
    user = UserFactory(roles=["viewer"], firebase_uid=uid())
    response = post_token(client, sign(key, claims(user.firebase_uid)), query="?next=/channels")
    assert response.headers["Location"].endswith("/channels")
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/videos"))})
    hostile = post_token(
        client, sign(key, claims(user.firebase_uid)), query="?next=https://evil.example/"
    )
    assert urlsplit(hostile.headers["Location"]).path == "/videos"


def test_a_token_within_the_clock_skew_is_taken(client, db_session, certs, key):
    user = UserFactory(roles=["viewer"], firebase_uid=uid())
    now = int(time.time())
    token = sign(key, claims(user.firebase_uid, iat=now + 45, auth_time=now + 45))
    assert urlsplit(post_token(client, token).headers["Location"]).path == "/videos"


# -- what does not ---------------------------------------------------------------------------
def _now() -> int:
    return int(time.time())


REFUSED_TOKENS = {
    "expired": lambda key, who: sign(
        key, claims(who, iat=_now() - 3700, exp=_now() - 90, auth_time=_now() - 120)
    ),
    "not yet valid": lambda key, who: sign(key, claims(who, iat=_now() + 120)),
    "signed in at Google in the future": lambda key, who: sign(
        key, claims(who, auth_time=_now() + 120)
    ),
    "signed in at Google too long ago": lambda key, who: sign(
        key, claims(who, auth_time=_now() - 360)
    ),
    "no auth_time": lambda key, who: sign(key, claims(who, auth_time=None)),
    "wrong audience": lambda key, who: sign(key, claims(who, aud="another-project")),
    "wrong issuer": lambda key, who: sign(
        key, claims(who, iss="https://securetoken.google.com/another-project")
    ),
    "issuer of another service": lambda key, who: sign(
        key, claims(who, iss="https://accounts.google.com")
    ),
    "wrong signature": lambda key, who: sign(Key.make(), claims(who), kid=key.kid),
    "alg none": lambda key, who: unsigned(key, claims(who)),
    "HS256 keyed with the public certificate": lambda key, who: hs256_with_public_key(
        key, claims(who)
    ),
    "not a token": lambda key, who: "not.a.token",
    "empty": lambda key, who: "",
}


# What the log says of each (the person sees only the generic message): each is refused for
# its own reason, not by an earlier check it happens to fail too.
REASONS = {
    "expired": "Token expired",
    "not yet valid": "Token used too early",
    "signed in at Google in the future": "in the future",
    "signed in at Google too long ago": "too old",
    "no auth_time": "auth_time claim is missing",
    "wrong audience": "wrong audience",
    "wrong issuer": "wrong issuer",
    "issuer of another service": "wrong issuer",
    "wrong signature": "Could not verify token signature",
    "alg none": "algorithm 'none'",
    "HS256 keyed with the public certificate": "algorithm 'HS256'",
    "not a token": "malformed token",
    "empty": "no token",
}


@pytest.mark.parametrize("case", REFUSED_TOKENS)
def test_a_bad_token_is_refused_and_counted(client, db_session, certs, key, case, caplog):
    caplog.set_level(logging.INFO, logger="catalog")
    user = UserFactory(roles=["viewer"], firebase_uid=uid())
    response = post_token(client, REFUSED_TOKENS[case](key, user.firebase_uid))
    assert refused(client, response), case
    assert REASONS[case].lower() in caplog.text.lower(), caplog.text
    assert REASONS[case].lower() not in client.get("/login").get_data(as_text=True).lower()
    assert client.get("/videos").status_code == 302  # not signed in
    assert attempts(db_session) == [("", False)]
    db_session.refresh(user)
    assert user.login_count in (None, 0)


def test_the_audience_is_checked_against_the_setting(client, db_session, certs, key, app):
    """The same token that names the project is refused by an app of another project."""
    user = UserFactory(roles=["viewer"], firebase_uid=uid())
    token = sign(key, claims(user.firebase_uid))
    app.config["FIREBASE_PROJECT_ID"] = "another-project"  # restored by the fixture
    assert refused(client, post_token(client, token))
    app.config["FIREBASE_PROJECT_ID"] = PROJECT_ID
    assert ISSUER.endswith(PROJECT_ID)
    assert urlsplit(post_token(client, token).headers["Location"]).path == "/videos"


@pytest.mark.parametrize("subject", ["", "x" * 129])
def test_an_empty_or_overlong_subject_is_refused(client, db_session, certs, key, subject):
    UserFactory(roles=["viewer"], firebase_uid="x" * 128)
    assert refused(client, post_token(client, sign(key, claims(subject))))


def test_a_128_character_subject_is_taken(client, db_session, certs, key):
    UserFactory(roles=["viewer"], firebase_uid="y" * 128)
    response = post_token(client, sign(key, claims("y" * 128)))
    assert urlsplit(response.headers["Location"]).path == "/videos"


def test_an_unknown_identity_is_refused_and_counted_under_its_email(client, db_session, certs, key):
    stranger = f"stranger-{uuid.uuid4().hex[:6]}@example.com"
    response = post_token(client, sign(key, claims(uid(), email=stranger)))
    assert refused(client, response)
    assert attempts(db_session) == [(stranger, False)]
    # Nobody was made for them.
    assert (
        db_session.scalar(
            select(func.count()).select_from(User).where(func.lower(User.email) == stranger)
        )
        == 0
    )


def test_an_unverified_email_links_nobody(client, db_session, certs, key):
    user = UserFactory(roles=["viewer"])
    response = post_token(client, sign(key, claims(uid(), email=user.email, verified=False)))
    assert refused(client, response)
    db_session.refresh(user)
    assert user.firebase_uid is None
    assert user_rows(db_session, user.id) == []


def test_an_email_already_linked_to_another_identity_is_refused(client, db_session, certs, key):
    linked = uid()
    user = UserFactory(roles=["viewer"], firebase_uid=linked)
    response = post_token(client, sign(key, claims(uid(), email=user.email)))
    assert refused(client, response)
    db_session.refresh(user)
    assert user.firebase_uid == linked
    assert user_rows(db_session, user.id) == []


def test_a_deactivated_user_is_refused(client, db_session, certs, key):
    linked = UserFactory(roles=["viewer"], firebase_uid=uid(), active=False)
    assert refused(client, post_token(client, sign(key, claims(linked.firebase_uid))))
    unlinked = UserFactory(roles=["viewer"], active=False)
    assert refused(client, post_token(client, sign(key, claims(uid(), email=unlinked.email))))
    db_session.refresh(unlinked)
    assert unlinked.firebase_uid is None  # not linked either
    assert [ok for _email, ok in attempts(db_session)] == [False, False]


def test_an_unknown_kid_fetches_the_certificates_again_then_refuses(client, db_session, certs, key):
    user = UserFactory(roles=["viewer"], firebase_uid=uid())
    response = post_token(client, sign(key, claims(user.firebase_uid)))
    assert urlsplit(response.headers["Location"]).path == "/videos"
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/videos"))})
    assert certs.requests == 1
    rotated = Key.make()
    # A key nobody publishes: one more fetch, then a refusal.
    assert refused(client, post_token(client, sign(rotated, claims(user.firebase_uid))))
    assert certs.requests == 2
    # Google publishes a new key: the next fetch finds it.
    certs.keys.append(rotated)
    response = post_token(client, sign(rotated, claims(user.firebase_uid)))
    assert urlsplit(response.headers["Location"]).path == "/videos"
    assert certs.requests == 3


def test_made_up_kids_do_not_fetch_every_time(app, client, db_session, certs, key, monkeypatch):
    monkeypatch.setitem(app.config, "FIREBASE_CERTS_REFRESH_SECONDS", 3600)
    user = UserFactory(roles=["viewer"], firebase_uid=uid())
    for _ in range(3):
        made_up = sign(key, claims(user.firebase_uid), kid=uuid.uuid4().hex)
        assert refused(client, post_token(client, made_up))
    assert certs.requests == 1


def test_the_certificates_are_kept_as_cache_control_allows(client, db_session, certs, key):
    user = UserFactory(roles=["viewer"], firebase_uid=uid())
    token = sign(key, claims(user.firebase_uid))
    for _ in range(2):
        post_token(client, token)
        client.post("/logout", data={"csrf_token": csrf_token(client.get("/videos"))})
    assert certs.requests == 1  # max-age=3600: fetched once
    certs.max_age = 0
    firebase.certificates.clear()
    for _ in range(2):
        post_token(client, token)
        client.post("/logout", data={"csrf_token": csrf_token(client.get("/videos"))})
    assert certs.requests == 3  # max-age=0: fetched for each


def test_unreachable_certificates_refuse_with_the_generic_message(
    app, client, db_session, certs, key, monkeypatch
):
    user = UserFactory(roles=["viewer"], firebase_uid=uid())
    monkeypatch.setitem(app.config, "FIREBASE_CERTS_URL", "http://127.0.0.1:9/nothing-here")
    response = post_token(client, sign(key, claims(user.firebase_uid)))
    assert refused(client, response)
    html = client.get("/login").get_data(as_text=True)
    assert "Connection refused" not in html
    assert "127.0.0.1:9" not in html


def test_a_replayed_token_after_sign_out_is_refused(client, db_session, certs, key, monkeypatch):
    user = UserFactory(roles=["viewer"], firebase_uid=uid())
    token = sign(key, claims(user.firebase_uid))
    assert urlsplit(post_token(client, token).headers["Location"]).path == "/videos"
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/videos"))})
    assert client.get("/videos").status_code == 302  # the session is gone
    # Six minutes on, the token itself is still unexpired (an hour), but its sign-in at
    # Google is older than a sign-in here may take.
    later = time.time() + 6 * 60
    monkeypatch.setattr(firebase, "clock", lambda: later)
    assert refused(client, post_token(client, token))
    assert client.get("/videos").status_code == 302
    assert attempts(db_session)[-1] == ("", False)


def test_error_messages_never_carry_the_reason(client, db_session, certs, key):
    user = UserFactory(roles=["viewer"], firebase_uid=uid())
    post_token(client, sign(key, claims(user.firebase_uid, aud="another-project")))
    html = client.get("/login").get_data(as_text=True)
    assert REFUSED in html
    for detail in ("audience", "another-project", "Traceback", "expected one of"):
        assert detail not in html


# -- the throttle ----------------------------------------------------------------------------
def test_failures_are_throttled_per_address(app, client, db_session, certs, key):
    limit = app.config["SIGN_IN_MAX_FAILURES_PER_ADDRESS"]
    for _ in range(limit):
        assert refused(client, post_token(client, "not.a.token", address="198.51.100.7"))
    user = UserFactory(roles=["viewer"], firebase_uid=uid())
    response = post_token(client, sign(key, claims(user.firebase_uid)), address="198.51.100.7")
    assert response.status_code == 429
    assert client.get("/videos").status_code == 302
    # Another address is not held up.
    response = post_token(client, sign(key, claims(user.firebase_uid)), address="198.51.100.8")
    assert urlsplit(response.headers["Location"]).path == "/videos"


def test_failures_are_throttled_per_account_with_its_passwords(app, client, db_session, certs, key):
    user = UserFactory(roles=["viewer"], firebase_uid=uid())
    limit = app.config["SIGN_IN_MAX_FAILURES_PER_ACCOUNT"]
    for n in range(limit):  # wrong passwords, from addresses of their own
        token = csrf_token(client.get("/login"))
        client.post(
            "/login", environ_base={"REMOTE_ADDR": f"203.0.113.{n + 1}"},
            data={"email": user.email, "password": "wrong password!", "csrf_token": token},
        )  # fmt: skip
    response = post_token(client, sign(key, claims(user.firebase_uid)), address="203.0.113.99")
    assert response.status_code == 429
    assert client.get("/videos").status_code == 302


# -- Flask-Security's own sign-in, the second factor --------------------------------------------
def test_an_admin_still_gives_their_second_factor(app, client, db_session, certs, key):
    admin = UserFactory(
        roles=["admin"], firebase_uid=uid(), tf_primary_method="authenticator",
        tf_totp_secret=totp_secret(app),
    )  # fmt: skip
    response = post_token(client, sign(key, claims(admin.firebase_uid)))
    assert urlsplit(response.headers["Location"]).path == "/tf-validate"
    assert client.get("/accounts/users").status_code == 302  # not signed in yet
    page = client.get("/tf-validate")
    wrong = f"{(int(totp_code(app, admin.tf_totp_secret)) + 1) % 1_000_000:06d}"
    client.post("/tf-validate", data={"code": wrong, "csrf_token": csrf_token(page)})
    # The wrong code was counted in this sign-in's run (it began with the Firebase step).
    assert attempts(db_session, "second_factor") == [(admin.email, False)]
    response = client.post(
        "/tf-validate",
        data={"code": totp_code(app, admin.tf_totp_secret), "csrf_token": csrf_token(page)},
    )
    assert response.status_code == 302
    assert client.get("/accounts/users").status_code == 200
    db_session.refresh(admin)
    assert admin.auth_method == "firebase"


def test_an_admin_without_a_second_factor_is_sent_to_set_one_up(client, db_session, certs, key):
    admin = UserFactory(roles=["admin"], firebase_uid=uid())
    post_token(client, sign(key, claims(admin.firebase_uid)))
    response = client.get("/accounts/users")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/tf-setup"


def test_a_signed_in_user_is_not_signed_in_again(client, db_session, certs, key):
    user = UserFactory(roles=["viewer"], firebase_uid=uid())
    post_token(client, sign(key, claims(user.firebase_uid)))
    token = csrf_token(client.get("/videos"))
    response = client.post("/sign-in/firebase", data={"id_token": "whatever", "csrf_token": token})
    assert urlsplit(response.headers["Location"]).path == "/videos"
    assert attempts(db_session) == [(user.email, True)]


# -- the page, the route, the policy ---------------------------------------------------------
def test_without_a_project_there_is_no_firebase_sign_in(client, db_session):
    html = client.get("/login").get_data(as_text=True)
    assert "Continue with Firebase" not in html
    assert "firebase" not in html.lower()
    token = csrf_token(html)
    assert client.post("/sign-in/firebase", data={"csrf_token": token}).status_code == 404


def test_the_sign_in_page_offers_firebase_and_allows_its_hosts(client, db_session, certs):
    response = client.get("/login")
    html = response.get_data(as_text=True)
    assert "Continue with Firebase" in html
    for script in ("firebase-app-compat.js", "firebase-auth-compat.js", "js/firebase-sign-in.js"):
        assert script in html
    assert f'data-project-id="{PROJECT_ID}"' in html
    assert f'data-auth-domain="{PROJECT_ID}.firebaseapp.com"' in html
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == "'self' https://apis.google.com"
    assert policy["connect-src"] == (
        "'self' https://identitytoolkit.googleapis.com https://securetoken.googleapis.com"
    )
    assert policy["frame-src"] == f"https://{PROJECT_ID}.firebaseapp.com"
    assert policy["frame-ancestors"] == "'none'"
    # No other page is widened.
    other = client.get("/accounts/set-password/not-a-token")
    assert "apis.google.com" not in other.headers["Content-Security-Policy"]


def test_the_token_post_needs_the_csrf_token(client, db_session, certs, key):
    user = UserFactory(roles=["viewer"], firebase_uid=uid())
    response = client.post(
        "/sign-in/firebase", data={"id_token": sign(key, claims(user.firebase_uid))}
    )
    assert response.status_code == 400
    assert attempts(db_session) == []


# -- password sign-in turned off ---------------------------------------------------------------
def test_password_sign_in_off_is_refused_like_a_wrong_password(client, db_session):
    user = UserFactory(roles=["viewer"], firebase_uid=uid(), password_sign_in=False)
    token = csrf_token(client.get("/login"))
    response = client.post(
        "/login", data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 200
    assert "The email or the password is not right." in response.get_data(as_text=True)
    assert client.get("/videos").status_code == 302
    assert attempts(db_session, "password") == [(user.email, False)]
